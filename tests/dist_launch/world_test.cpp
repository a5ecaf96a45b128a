// The world as kiln reads it from each launcher's environment, and the
// errors a wrong variable gets.
#include "kiln/dist/world.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kiln/error.h"

namespace kiln::dist {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
  };
}

std::string error_of(std::map<std::string, std::string> vars) {
  try {
    world_from_env(env_of(std::move(vars)));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(World, NoLauncherIsAWorldOfOne) {
  World w = world_from_env(env_of({}));
  EXPECT_EQ(w.launcher, Launcher::kNone);
  EXPECT_EQ(w.rank, 0);
  EXPECT_EQ(w.world_size, 1);
  EXPECT_FALSE(w.distributed());
}

TEST(World, ReadsTorchrunsVariables) {
  World w = world_from_env(env_of({{"RANK", "5"},
                                   {"LOCAL_RANK", "1"},
                                   {"WORLD_SIZE", "8"},
                                   {"LOCAL_WORLD_SIZE", "4"},
                                   {"GROUP_RANK", "1"},
                                   {"MASTER_ADDR", "node0"},
                                   {"MASTER_PORT", "29400"},
                                   {"TORCHELASTIC_RESTART_COUNT", "2"},
                                   {"TORCHELASTIC_RUN_ID", "none"}}));
  EXPECT_EQ(w.launcher, Launcher::kTorchrun);
  EXPECT_EQ(w.rank, 5);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.world_size, 8);
  EXPECT_EQ(w.local_world_size, 4);
  EXPECT_EQ(w.node_rank, 1);
  EXPECT_EQ(w.num_nodes, 2);
  EXPECT_EQ(w.master_addr, "node0");
  EXPECT_EQ(w.master_port, 29400);
  EXPECT_EQ(w.restart_count, 2);
  EXPECT_TRUE(w.distributed());
  EXPECT_FALSE(w.is_rank_zero());
  EXPECT_FALSE(w.use_agent_store);
}

// torchrun's static rendezvous serves the store itself; rank 0 must not.
TEST(World, TorchrunsAgentStoreIsJoinedNotServed) {
  World w = world_from_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}}));
  EXPECT_TRUE(w.use_agent_store);
  EXPECT_FALSE(world_from_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"TORCHELASTIC_USE_AGENT_STORE", "False"}}))
                   .use_agent_store);
}

TEST(World, KilnsLauncherSaysItIsKiln) {
  World w = world_from_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"KILN_LAUNCHER", "kiln"}}));
  EXPECT_EQ(w.launcher, Launcher::kKiln);
  EXPECT_EQ(w.local_rank, 0);  // unset: the global rank, one node
  EXPECT_EQ(w.local_world_size, 2);
  EXPECT_EQ(w.master_addr, "127.0.0.1");
  EXPECT_EQ(w.master_port, 29500);
}

TEST(World, ReadsSlurmsVariablesAndDerivesTheMaster) {
  World w = world_from_env(env_of({{"SLURM_PROCID", "3"},
                                   {"SLURM_NTASKS", "4"},
                                   {"SLURM_LOCALID", "1"},
                                   {"SLURM_NNODES", "2"},
                                   {"SLURM_NODEID", "1"},
                                   {"SLURM_JOB_NODELIST", "gpu[07-08]"},
                                   {"SLURM_JOB_ID", "1234567"}}));
  EXPECT_EQ(w.launcher, Launcher::kSlurm);
  EXPECT_EQ(w.rank, 3);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.world_size, 4);
  EXPECT_EQ(w.local_world_size, 2);
  EXPECT_EQ(w.node_rank, 1);
  EXPECT_EQ(w.master_addr, "gpu07");
  EXPECT_EQ(w.master_port, 15000 + 4567);  // Lightning's rule: 15000 + the job id's last four digits
  // torchrun inside an allocation (srun torchrun ...) wins over SLURM's ranks.
  World inner =
      world_from_env(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"RANK", "1"}, {"WORLD_SIZE", "2"}}));
  EXPECT_EQ(inner.launcher, Launcher::kTorchrun);
  EXPECT_EQ(inner.rank, 1);
}

TEST(World, BadVariablesAreNamedWithWhatWasExpected) {
  EXPECT_NE(
      error_of({{"RANK", "two"}, {"WORLD_SIZE", "4"}}).find("environment variable RANK='two': expected an integer"),
      std::string::npos);
  EXPECT_NE(error_of({{"RANK", "4"}, {"WORLD_SIZE", "4"}}).find("RANK=4 is not below WORLD_SIZE=4"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}}).find("WORLD_SIZE is not set, but RANK is"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT='70000'"),
            std::string::npos);
  EXPECT_NE(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"}})
                .find("LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2"),
            std::string::npos);
  EXPECT_NE(error_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}}).find("SLURM_JOB_NODELIST"), std::string::npos);
}

TEST(World, ExpandsSlurmNodeLists) {
  using List = std::vector<std::string>;
  EXPECT_EQ(expand_slurm_nodelist("login"), List{"login"});
  EXPECT_EQ(expand_slurm_nodelist("gpu[01-03,07],login-1"), (List{"gpu01", "gpu02", "gpu03", "gpu07", "login-1"}));
  EXPECT_EQ(expand_slurm_nodelist("n[8-10]-ib,m[2]"), (List{"n8-ib", "n9-ib", "n10-ib", "m2"}));
  for (const char* bad : {"", "gpu[01-03", "gpu[a-b]", "gpu[3-1]", "a,,b", "a,"}) {
    try {
      expand_slurm_nodelist(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("SLURM node list '" + std::string(bad) + "'"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace kiln::dist
