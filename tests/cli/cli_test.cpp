// End-to-end tests: run the real `kiln` binary as a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kiln/track/json.h"
#include "kiln/track/run_store.h"
#include "kiln/track/sha256.h"
#include "kiln/track/tensorboard.h"
#include "support/shell.h"

namespace {
namespace fs = std::filesystem;
using kiln::testing::read_file;
using kiln::testing::shell_quote;

using Result = kiln::testing::CommandResult;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs kiln with args in directory `cwd` (default: an empty temp dir).
  Result kiln(const std::vector<std::string>& args, const fs::path& cwd = {}, const std::string& env = "") {
    std::string command =
        "cd " + shell_quote((cwd.empty() ? dir_ : cwd).string()) + " && " + env + " " + shell_quote(KILN_BINARY);
    for (const auto& a : args) command += " " + shell_quote(a);
    return kiln::testing::run_command(command, dir_);
  }

  fs::path project() const { return fs::path(KILN_SOURCE_DIR) / "tests/cli/fixtures/project"; }
  // Where the default experiment's runs go.
  fs::path runs() const { return dir_ / "runs" / "fashion_mnist"; }

  fs::path dir_;
};

TEST_F(Cli, VersionPrintsSemVerAndCommit) {
  Result r = kiln({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.out.starts_with("kiln 0.")) << r.out;
  EXPECT_NE(r.out.find('('), std::string::npos);
}

TEST_F(Cli, UnknownCommandIsAUsageError) {
  Result r = kiln({"trian"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'trian'"), std::string::npos) << r.err;
}

TEST_F(Cli, CfgJobPrintsOnlyTheComposedConfigFromAnyDirectory) {
  // The shipped configs are embedded: an empty directory composes the default experiment.
  Result r = kiln({"train", "--cfg", "job"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("model:\n  _target_: cnn\n")) << r.out;
  EXPECT_NE(r.out.find("name: ${model._target_}-${optimizer._target_}-lr${optimizer.lr}"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

TEST_F(Cli, CfgJobResolve) {
  Result r = kiln({"train", "--cfg", "job", "--resolve", "optimizer=sgd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name: cnn-sgd-lr0.05"), std::string::npos) << r.out;
}

TEST_F(Cli, CfgJobPrintsMissingValuesAndResolvesEnvAndDotenv) {
  Result r = kiln({"train", "--cfg", "job", "--resolve", "+from_env=${oc.env:KILN_TEST_FROM_DOTENV}"}, project(),
                  "KILN_TEST_LR=0.25");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("width: ???"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lr: \"0.25\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from_env: from-dotenv"), std::string::npos) << r.out;
}

TEST_F(Cli, TrainRefusesAMissingMandatoryValue) {
  Result r = kiln({"train"}, project());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("width"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("train.yaml:7:8"), std::string::npos) << r.err;
}

TEST_F(Cli, TrainRunsTheDefaultExperimentAndRecordsTheRun) {
  // fast_dev_run: one batch of train, val and test of the real default job.
  Result r = kiln({"train", "optimizer.lr=0.01", "trainer.fast_dev_run=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("test/acc"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("steps       1 in"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::is_directory(runs()));
  auto it = fs::directory_iterator(runs());
  ASSERT_NE(it, fs::directory_iterator());
  fs::path run = it->path();
  EXPECT_NE(r.out.find(run.filename().string()), std::string::npos) << r.out;
  EXPECT_NE(read_file(run / ".kiln/resolved.yaml").find("name: cnn-adamw-lr0.01"), std::string::npos);
  EXPECT_NE(read_file(run / ".kiln/config.yaml").find("name: ${model._target_}-${optimizer._target_}"),
            std::string::npos);
  EXPECT_EQ(read_file(run / ".kiln/overrides.yaml"), "- optimizer.lr=0.01\n- trainer.fast_dev_run=1\n");
  // stderr, also in the run's train.log.
  EXPECT_NE(read_file(run / "train.log").find("kiln: starting run"), std::string::npos);
}

TEST_F(Cli, TrainWritesMetricsAsJsonLines) {
  Result r = kiln({"train", "trainer.max_steps=4", "trainer.log_every_n_steps=2", "trainer.limit_val_batches=2",
                   "trainer.limit_test_batches=2", "trainer.num_sanity_val_steps=0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::path run = fs::directory_iterator(runs())->path();
  std::string metrics = read_file(run / "metrics.jsonl");
  EXPECT_NE(metrics.find("{\"step\": 2, \"time\": "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\"train/loss\": "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\"test/acc\": "), std::string::npos) << metrics;
}

// The SHA-256 of model.safetensors in the checkpoint of `step` in `run`.
// The step of the checkpoint `last` names in run's checkpoints ("epoch=1-step=12" -> 12), or -1.
long last_step(const fs::path& run) {
  std::error_code ec;
  if (!fs::is_regular_file(run / "checkpoints" / "last", ec)) return -1;
  std::string name = read_file(run / "checkpoints" / "last");
  std::size_t at = name.find("step=");
  return at == std::string::npos ? -1 : std::atol(name.c_str() + at + 5);
}

// The model's SHA-256 in the newest checkpoint, which must be at `step`.
std::string model_hash(const fs::path& run, int step) {
  if (last_step(run) != step) return "the newest checkpoint is not at step " + std::to_string(step);
  std::string name = read_file(run / "checkpoints" / "last");
  while (!name.empty() && name.back() == '\n') name.pop_back();
  std::string manifest = read_file(run / "checkpoints" / name / "checkpoint.json");
  std::size_t part = manifest.find("\"model.safetensors\"");
  std::size_t hash = manifest.find("\"sha256\": \"", part);
  if (part == std::string::npos || hash == std::string::npos) return "no checkpoint at step " + std::to_string(step);
  return manifest.substr(hash + 11, 64);
}

fs::path only_run_other_than(const fs::path& runs, const std::vector<fs::path>& known) {
  for (const auto& entry : fs::directory_iterator(runs))
    if (std::find(known.begin(), known.end(), entry.path()) == known.end()) return entry.path();
  return {};
}

// The guarantee, end to end: N steps straight, or k steps + a resume
// to N, or killed with SIGKILL mid-run + a resume to N, give bitwise the same
// weights.
TEST_F(Cli, ResumedRunsEndBitwiseIdenticalToAnUninterruptedRun) {
  const std::vector<std::string> common = {"train",
                                           "model=mlp",
                                           "trainer.max_epochs=5",
                                           "trainer.limit_train_batches=8",
                                           "trainer.limit_val_batches=2",
                                           "trainer.limit_test_batches=2",
                                           "trainer.num_sanity_val_steps=0",
                                           "callbacks.model_checkpoint.every_n_train_steps=3"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ASSERT_EQ(kiln(with({"trainer.max_steps=20"})).exit_code, 0);
  fs::path straight = fs::directory_iterator(runs())->path();
  std::string expected = model_hash(straight, 20);
  ASSERT_EQ(expected.size(), 64u) << expected;

  Result first = kiln(with({"trainer.max_steps=11"}));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  fs::path interrupted = only_run_other_than(runs(), {straight});
  Result resumed = kiln(with({"trainer.max_steps=20", "trainer.resume=last"}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("in " + (fs::path("runs/fashion_mnist") / interrupted.filename()).string()),
            std::string::npos)
      << resumed.err;
  EXPECT_EQ(model_hash(interrupted, 20), expected);

  // A real kill: SIGKILL once the run has checkpointed at step 6 or later.
  std::string command = "cd " + shell_quote(dir_.string()) + " && exec " + shell_quote(KILN_BINARY);
  for (const auto& a : with({"trainer.max_steps=20"})) command += " " + shell_quote(a);
  command += " >/dev/null 2>&1";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  fs::path killed;
  for (int i = 0; i < 600 && killed.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fs::path candidate = only_run_other_than(runs(), {straight, interrupted});
    if (!candidate.empty() && last_step(candidate) >= 6) killed = candidate;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_FALSE(killed.empty()) << "the run never reached step 6";
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  Result after_kill = kiln(with({"trainer.max_steps=20", "trainer.resume=" + killed.string()}));
  ASSERT_EQ(after_kill.exit_code, 0) << after_kill.err;
  EXPECT_EQ(model_hash(killed, 20), expected);
}

TEST_F(Cli, CallbacksFromConfigAreCheckedBeforeAnythingRuns) {
  Result typo = kiln({"train", "+callbacks.model_checkpoint.save_top_kk=2"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("did you mean 'callbacks.model_checkpoint.save_top_k'"), std::string::npos) << typo.err;
  Result unknown = kiln({"train", "callbacks.lr_monitor._target_=lr_monitor"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown callback 'lr_monitor'"), std::string::npos) << unknown.err;
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

TEST_F(Cli, ResumeWithNothingToResumeIsAConfigError) {
  Result r = kiln({"train", "trainer.resume=last"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("trainer.resume: no run under 'runs' has a checkpoint to resume"), std::string::npos) << r.err;
  Result path = kiln({"train", "trainer.resume=/nonexistent/run"});
  EXPECT_EQ(path.exit_code, 2);
  EXPECT_NE(path.err.find("'/nonexistent/run' is not a run directory or a checkpoint"), std::string::npos) << path.err;
}

TEST_F(Cli, TwoRunsInTheSameSecondGetTwoDirectories) {
  ASSERT_EQ(kiln({"train", "trainer.fast_dev_run=1"}).exit_code, 0);
  ASSERT_EQ(kiln({"train", "trainer.fast_dev_run=1"}).exit_code, 0);
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(runs())) ++count;
  EXPECT_EQ(count, 2);
}

TEST_F(Cli, BadFactoryParametersFailBeforeAnythingIsWritten) {
  Result r = kiln({"train", "model.chanels=[8]"});
  EXPECT_EQ(r.exit_code, 2);
  Result typo = kiln({"train", "+model.chanels=[8]"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("unknown key 'chanels' (not a field of cnn"), std::string::npos) << typo.err;
  EXPECT_NE(typo.err.find("override #1 '+model.chanels=[8]'"), std::string::npos) << typo.err;
  Result unknown = kiln({"train", "model._target_=cnnn"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("cnnn"), std::string::npos) << unknown.err;
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

TEST_F(Cli, TypoInAKeyIsExitCode2WithDidYouMean) {
  Result r = kiln({"train", "optimizer.lrr=0.1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("override #1 'optimizer.lrr=0.1'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'optimizer.lr'?"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

TEST_F(Cli, UnknownGroupOptionListsOptions) {
  Result r = kiln({"train", "model=cnnn"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("available options: cnn, gpt2, gpt_tiny, mlp, resnet"), std::string::npos) << r.err;
}

TEST_F(Cli, SweepWithoutMultirunIsAmbiguous) {
  Result r = kiln({"train", "seed=1,2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("Ambiguous value for argument 'seed=1,2'"), std::string::npos) << r.err;
}

TEST_F(Cli, MultirunDryRunListsTheCartesianProduct) {
  Result r = kiln({"train", "-m", "--dry-run", "seed=1,2", "model=glob(*,exclude=[res*,gpt*])"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Multirun: 4 jobs\n#0 : seed=1 model=cnn\n#1 : seed=1 model=mlp\n#2 : seed=2 model=cnn\n"
            "#3 : seed=2 model=mlp\n");
}

TEST_F(Cli, InfoShowsSearchPathDefaultsTreeAndOverrides) {
  Result r = kiln({"train", "--info", "model=mlp", "seed=3"}, project());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Config search path (first wins):\n  configs\n  kiln\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Environment file: configs/.env"), std::string::npos) << r.out;
  // The project's train.yaml, kiln's shipped model/mlp.yaml: the project adds to kiln's groups.
  EXPECT_NE(r.out.find("train -> <root>  (configs/train.yaml)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model/mlp -> model  (<kiln>/model/mlp.yaml)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("#2 seed=3"), std::string::npos) << r.out;
}

TEST_F(Cli, ConfigDirAndConfigName) {
  Result r = kiln(
      {"train", "--config-dir", (project() / "configs").string(), "--config-name", "train", "--cfg", "job", "width=4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("width: 4"), std::string::npos) << r.out;
  Result bad = kiln({"train", "--config-dir", "/nonexistent"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("'/nonexistent' is not a directory"), std::string::npos) << bad.err;
}

TEST_F(Cli, TrainHelpListsGroupsAndParametersWithCurrentValues) {
  Result r = kiln({"train", "--help", "trainer.max_epochs=5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("model: cnn, gpt2, gpt_tiny, mlp, resnet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trainer.max_epochs"), std::string::npos) << r.out;
}

TEST_F(Cli, CompletionCandidates) {
  EXPECT_EQ(kiln({"__complete", "tr"}).out, "train\n");
  EXPECT_EQ(kiln({"__complete", "la"}).out, "launch\n");
  EXPECT_EQ(kiln({"__complete", "r"}).out, "runs\nreproduce\n");
  EXPECT_EQ(kiln({"__complete", "train", "model="}).out,
            "model=cnn\nmodel=gpt2\nmodel=gpt_tiny\nmodel=mlp\nmodel=resnet\n");
  EXPECT_EQ(kiln({"__complete", "train", "optimizer.l"}).out, "optimizer.lr=\n");
  EXPECT_EQ(kiln({"__complete", "train", "optimizer=sgd", "optimizer.mom"}).out, "optimizer.momentum=\n");
  EXPECT_EQ(kiln({"__complete", "train", "--res"}).out, "--resolve\n");
}

TEST_F(Cli, BashCompletionScriptCompletesInARealBash) {
  Result script = kiln({"completion", "bash"});
  ASSERT_EQ(script.exit_code, 0);
  std::ofstream(dir_ / "completion.bash") << script.out;
  // Drive the completion function the way bash does on <Tab>.
  std::string line = "kiln train model=m";
  std::ofstream(dir_ / "drive.bash") << "kiln() { " << shell_quote(KILN_BINARY) << " \"$@\"; }\n"
                                     << "source completion.bash\n"
                                     << "COMP_LINE=" << shell_quote(line) << "; COMP_POINT=" << line.size() << "\n"
                                     << "COMP_WORDS=(kiln train model = m); COMP_CWORD=4\n"
                                     << "_kiln_complete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
  Result r;
  std::string command = "cd " + shell_quote(dir_.string()) +
                        " && PATH=" + shell_quote(fs::path(KILN_BINARY).parent_path().string()) +
                        ":$PATH bash drive.bash > out.txt 2>&1";
  int status = std::system(command.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_file(dir_ / "out.txt");
  EXPECT_EQ(read_file(dir_ / "out.txt"), "mlp\n");
  EXPECT_EQ(kiln({"completion", "zsh"}).out.rfind("#compdef kiln", 0), 0u);
}

// ------------------------------------------------------------------ run records

const kiln::track::JsonValue& at(const kiln::track::JsonValue& object, const std::string& key) {
  static const kiln::track::JsonValue null;
  const kiln::track::JsonValue* value = object.find(key);
  EXPECT_NE(value, nullptr) << "no '" << key << "'";
  return value ? *value : null;
}

TEST_F(Cli, TheManifestRecordsWhatIsNeededToRedoTheRun) {
  // Not fast_dev_run: like Lightning's, it logs nothing.
  Result r =
      kiln({"train", "trainer.max_steps=2", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1", "seed=7",
            "+callbacks.histograms._target_=weight_histograms", "+callbacks.histograms.every_n_steps=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::path run = fs::directory_iterator(runs())->path();
  using kiln::track::JsonValue;
  JsonValue m = kiln::track::parse_json(read_file(run / ".kiln/manifest.json"));
  EXPECT_EQ(at(m, "status").text(), "FINISHED");
  // The directory spells the id's date and time: 20261123-165801-3fa9c01e -> 2026-11-23_16-58-01_3fa9c01e.
  std::string id = at(m, "run_id").text();
  ASSERT_EQ(id.size(), 24u) << id;
  EXPECT_EQ(run.filename().string(), id.substr(0, 4) + "-" + id.substr(4, 2) + "-" + id.substr(6, 2) + "_" +
                                         id.substr(9, 2) + "-" + id.substr(11, 2) + "-" + id.substr(13, 2) + "_" +
                                         id.substr(16));
  EXPECT_EQ(at(m, "experiment").text(), "fashion_mnist");
  EXPECT_EQ(at(m, "seed").text(), "7");
  EXPECT_EQ(at(m, "command").items().at(1).text(), "train");
  EXPECT_EQ(at(m, "overrides").items().size(), 6u);
  EXPECT_EQ(at(at(m, "config"), "seed").text(), "7");
  EXPECT_EQ(at(at(at(m, "config"), "model"), "_target_").text(), "cnn");
  EXPECT_FALSE(at(at(m, "kiln"), "version").text().empty());
  EXPECT_FALSE(at(at(m, "host"), "hostname").text().empty());
  EXPECT_EQ(at(at(m, "runtime"), "libtorch").text().rfind("1.", 0), 0u);
  EXPECT_TRUE(at(at(m, "runtime"), "intra_op_threads").is_number());
  EXPECT_TRUE(at(m, "git").is_object());
  EXPECT_FALSE(at(m, "end_time").is_null());
  EXPECT_TRUE(at(at(m, "metrics"), "test/acc").is_number());
  // TensorBoard sees the same metrics and the config.
  ASSERT_TRUE(fs::is_directory(run / "tb"));
  std::vector<kiln::track::Event> events = kiln::track::read_event_file(fs::directory_iterator(run / "tb")->path());
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front().file_version, "brain.Event:2");
  bool has_test_acc = false, has_config = false, has_histogram = false;
  for (const auto& event : events)
    for (const auto& value : event.values) {
      has_test_acc |= value.tag == "test/acc" && value.simple_value.has_value();
      has_config |= value.tag == "config" && value.plugin_name == "text";
      has_histogram |= value.tag.starts_with("weights/") && value.histogram && event.step == 2;
    }
  EXPECT_TRUE(has_test_acc && has_config);
  EXPECT_TRUE(has_histogram) << "the weight_histograms callback wrote nothing at step 2";
  // Every data file with a SHA-256 anyone can check with sha256sum.
  const auto& data = at(m, "data").items();
  ASSERT_EQ(data.size(), 4u);
  for (const JsonValue& file : data)
    EXPECT_EQ(at(file, "sha256").text(), kiln::sha256_file_hex(at(file, "path").text())) << at(file, "path").text();
}

TEST_F(Cli, AFailedRunIsRecordedAsFailedWithItsError) {
  Result r = kiln({"train", "trainer.fast_dev_run=1", "data.root=" + (dir_ / "no_data").string()});
  EXPECT_NE(r.exit_code, 0);
  fs::path run = fs::directory_iterator(runs())->path();
  kiln::track::JsonValue m = kiln::track::parse_json(read_file(run / ".kiln/manifest.json"));
  EXPECT_EQ(at(m, "status").text(), "FAILED");
  EXPECT_NE(at(m, "error").text().find("no_data"), std::string::npos) << at(m, "error").text();
  EXPECT_NE(r.err.find("no_data"), std::string::npos) << r.err;
}

TEST_F(Cli, ARunStoppedBySigtermIsRecordedAsKilledAndDiesOfTheSignal) {
  std::string command = "cd " + shell_quote(dir_.string()) + " && exec " + shell_quote(KILN_BINARY) +
                        " train model=mlp trainer.max_epochs=50 >/dev/null 2>&1";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until it trains (its train.log says so), then stop it as a scheduler would.
  fs::path run;
  for (int i = 0; i < 1200 && run.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::error_code ec;
    if (!fs::is_directory(runs(), ec)) continue;
    for (const auto& entry : fs::directory_iterator(runs(), ec))
      if (read_file(entry.path() / "train.log").find("training for") != std::string::npos) run = entry.path();
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_FALSE(run.empty()) << "the run never started training";
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  kiln::track::JsonValue m = kiln::track::parse_json(read_file(run / ".kiln/manifest.json"));
  EXPECT_EQ(at(m, "status").text(), "KILLED");
  EXPECT_EQ(at(m, "error").text(), "killed by SIGTERM");
  EXPECT_FALSE(at(m, "end_time").is_null());
  // The run store says the same.
  kiln::track::RunStore store(kiln::track::RunStoreOptions{.path = dir_ / "runs" / "kiln.db", .read_only = true});
  std::optional<kiln::track::RunRecord> record = store.resolve_run("last");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->status, kiln::track::RunStatus::kKilled);
  EXPECT_EQ(record->error, "killed by SIGTERM");
}

TEST_F(Cli, ABadExperimentNameIsAConfigError) {
  Result r = kiln({"train", "experiment=../up"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("experiment: '../up' cannot name the experiment's directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

TEST_F(Cli, MultirunRunsEachJobInASharedSweepDirectoryAndPrintsATable) {
  Result r = kiln({"train", "-m", "seed=1,2", "model=mlp", "trainer.fast_dev_run=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::is_directory(dir_ / "runs" / "multirun"));
  fs::path sweep = fs::directory_iterator(dir_ / "runs" / "multirun")->path();
  for (const char* job : {"0", "1"}) {
    kiln::track::JsonValue m = kiln::track::parse_json(read_file(sweep / job / ".kiln/manifest.json"));
    EXPECT_EQ(at(m, "status").text(), "FINISHED");
    EXPECT_EQ(at(at(m, "sweep"), "job_index").text(), job);
    EXPECT_EQ(at(at(m, "config"), "seed").text(), job == std::string("0") ? "1" : "2");
  }
  std::string record = read_file(sweep / "multirun.yaml");
  EXPECT_NE(record.find("overrides: seed=1 model=mlp trainer.fast_dev_run=1"), std::string::npos) << record;
  EXPECT_NE(record.find("status: FINISHED"), std::string::npos) << record;
  EXPECT_NE(r.out.find("#  status    test/acc  test/loss"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n1  FINISHED  "), std::string::npos) << r.out;
}

TEST_F(Cli, MultirunChecksEveryJobBeforeRunningAny) {
  Result r = kiln({"train", "-m", "trainer.fast_dev_run=1", "optimizer.lr=0.1,fast"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("optimizer.lr"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

#ifdef KILN_CUSTOM_MODEL_BINARY
// A user's binary: kiln::main plus a model registered in its own main.cpp.
TEST_F(Cli, AUsersOwnBinaryTrainsItsOwnRegisteredModel) {
  std::string configs = (fs::path(KILN_SOURCE_DIR) / "examples/custom_model/configs").string();
  std::string command = "cd " + shell_quote(dir_.string()) + " && KILN_RUNNER_LIBRARY=/nonexistent " +
                        shell_quote(KILN_CUSTOM_MODEL_BINARY) + " train -cd " + shell_quote(configs) +
                        " model=wide_linear trainer.fast_dev_run=2 > out.txt 2> err.txt";
  int status = std::system(command.c_str());
  ASSERT_EQ(WEXITSTATUS(status), 0) << read_file(dir_ / "err.txt");
  EXPECT_NE(read_file(dir_ / "out.txt").find("test/acc"), std::string::npos);
  std::string resolved = read_file(fs::directory_iterator(runs())->path() / ".kiln/resolved.yaml");
  EXPECT_NE(resolved.find("_target_: wide_linear"), std::string::npos) << resolved;
  // The stock kiln binary does not know it.
  Result stock = kiln({"train", "-cd", configs, "model=wide_linear", "trainer.fast_dev_run=1"});
  EXPECT_EQ(stock.exit_code, 2);
  EXPECT_NE(stock.err.find("wide_linear"), std::string::npos) << stock.err;
}
#endif

}  // namespace
