#include "kiln/dist/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef KILN_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "kiln/error.h"

namespace kiln::dist {
namespace {

std::string arrival_key(int rank) { return "kiln/arrived/" + std::to_string(rank); }

std::string rank_list(const std::vector<int>& ranks) {
  std::string out;
  for (int r : ranks) out += (out.empty() ? "" : ", ") + std::to_string(r);
  return out.empty() ? "none" : out;
}

// Every rank says it is here, then waits for all. On timeout the store
// tells who arrived, so the error names the ranks that did not, instead of
// Gloo's anonymous socket timeout.
void wait_for_every_rank(c10d::Store& store, const World& world, std::chrono::milliseconds timeout) {
  store.set(arrival_key(world.rank), std::vector<std::uint8_t>{1});
  std::vector<std::string> keys;
  for (int r = 0; r < world.world_size; ++r) keys.push_back(arrival_key(r));
  try {
    store.wait(keys, timeout);
  } catch (const c10::Error&) {
    std::vector<int> arrived, missing;
    for (int r = 0; r < world.world_size; ++r) (store.check({arrival_key(r)}) ? arrived : missing).push_back(r);
    throw Error("[rank " + std::to_string(world.rank) + "] rendezvous at " + world.master_addr + ":" +
                std::to_string(world.master_port) + " timed out after " +
                std::to_string(static_cast<double>(timeout.count()) / 1000.0) + " s: rank" +
                (missing.size() == 1 ? " " : "s ") + rank_list(missing) + " of " + std::to_string(world.world_size) +
                " did not arrive (arrived: " + rank_list(arrived) +
                ")\n  hint: did every worker start? `kiln launch` and torchrun start them all; check the missing "
                "ranks' logs");
  }
}

// The collectives' engine for `backend`, over the joined store.
c10::intrusive_ptr<CollectiveGroup> make_group(const World& world, const ProcessGroupOptions& options,
                                               const c10::intrusive_ptr<c10d::Store>& store, const std::string& where) {
  if (options.backend == "gloo") {
    auto gloo = c10d::ProcessGroupGloo::Options::create();
    gloo->timeout = options.timeout;
    // Every rank reaches the others through the interface its own host
    // name resolves to; on one machine that is loopback.
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, world.rank, world.world_size, gloo);
  }
  if (options.backend == "nccl") {
#ifdef KILN_WITH_NCCL
    auto nccl = c10d::ProcessGroupNCCL::Options::create();
    nccl->timeout = options.timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, world.rank, world.world_size, nccl);
#else
    throw Error(where + "backend 'nccl' is not in this build (LibTorch without CUDA); use gloo");
#endif
  }
  throw Error(where + "unknown process group backend '" + options.backend + "' (expected gloo or nccl)");
}

}  // namespace

bool nccl_available() {
#ifdef KILN_WITH_NCCL
  return true;
#else
  return false;
#endif
}

DistributedContext init_process_group(const World& world, const ProcessGroupOptions& options) {
  const std::string where = "[rank " + std::to_string(world.rank) + "] ";
  DistributedContext context{world, {}, {}, {}};
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(world.master_port);
    store_options.isServer = world.rank == 0 && !world.use_agent_store;
    store_options.numWorkers = world.world_size;
    store_options.waitWorkers = false;
    store_options.timeout = options.timeout;
    // torchrun's agent store outlives a restarted group: each attempt keeps
    // its keys (arrivals, Gloo's addresses) apart from the ones before.
    context.store =
        c10::make_intrusive<c10d::PrefixStore>("kiln/attempt" + std::to_string(world.restart_count),
                                               c10::make_intrusive<c10d::TCPStore>(world.master_addr, store_options));
    wait_for_every_rank(*context.store, world, options.timeout);

    context.group = make_group(world, options, context.store, where);
    context.watch = std::make_shared<CollectiveWatch>(context.store, world.rank, world.world_size, options.timeout);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    // Without the C++ backtrace c10 appends: users need the reason.
    throw Error(where + "cannot join the process group of " + std::to_string(world.world_size) + " ranks at " +
                world.master_addr + ":" + std::to_string(world.master_port) + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error(where + "cannot join the process group of " + std::to_string(world.world_size) + " ranks at " +
                world.master_addr + ":" + std::to_string(world.master_port) + ": " + e.what());
  }
  return context;
}

}  // namespace kiln::dist
