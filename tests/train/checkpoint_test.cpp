#include "kiln/train/checkpoint.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kiln/error.h"
#include "kiln/track/fault_injection_env.h"
#include "kiln/track/json.h"
#include "kiln/track/sha256.h"
#include "support/temp_dir.h"

namespace kiln::train {
namespace {

namespace fs = std::filesystem;

// Each test's directory is named after this file.
class TempDir : public kiln::testing::TempDir {
 public:
  TempDir() : kiln::testing::TempDir("kiln_checkpoint_test") {}
};

// The real file system without fsync: crash tests simulate durability in
// FaultInjectionEnv and would otherwise spend minutes waiting on the disk.
class NoSyncEnv final : public Env {
 public:
  class File final : public WritableFile {
   public:
    explicit File(std::unique_ptr<WritableFile> base) : base_(std::move(base)) {}
    void append(std::string_view data) override { base_->append(data); }
    void sync() override {}
    void close() override { base_->close(); }
    const fs::path& path() const override { return base_->path(); }

   private:
    std::unique_ptr<WritableFile> base_;
  };
  std::unique_ptr<WritableFile> new_writable_file(const fs::path& p) override {
    return std::make_unique<File>(base().new_writable_file(p));
  }
  std::unique_ptr<WritableFile> new_appendable_file(const fs::path& p) override {
    return std::make_unique<File>(base().new_appendable_file(p));
  }
  std::unique_ptr<SequentialFile> new_sequential_file(const fs::path& p) override {
    return base().new_sequential_file(p);
  }
  void sync_dir(const fs::path&) override {}
  void rename(const fs::path& from, const fs::path& to) override { base().rename(from, to); }
  void remove_file(const fs::path& p) override { base().remove_file(p); }
  void remove_dir(const fs::path& p) override { base().remove_dir(p); }
  bool create_dir(const fs::path& p) override { return base().create_dir(p); }
  std::vector<std::string> list_dir(const fs::path& p) override { return base().list_dir(p); }
  std::optional<FileInfo> stat(const fs::path& p) override { return base().stat(p); }
  std::chrono::system_clock::time_point now() override { return base().now(); }
  std::uint32_t random32() override { return base().random32(); }

 private:
  static Env& base() { return Env::Default(); }
};

NoSyncEnv& fast_env() {
  static NoSyncEnv env;
  return env;
}

TensorMap model_at(std::int64_t step) {
  return {{"fc.weight", torch::full({8, 4}, static_cast<float>(step))},
          {"fc.bias", torch::arange(8, torch::kFloat) + static_cast<float>(step)},
          {"steps_seen", torch::scalar_tensor(step, torch::kLong)}};
}

std::string state_at(std::int64_t step) { return "{\"step\": " + std::to_string(step) + "}\n"; }

fs::path commit(const fs::path& root, std::int64_t step, Env& env = fast_env(), int keep_last_k = 0) {
  CheckpointWriter writer(root, step, {.env = &env, .keep_last_k = keep_last_k});
  writer.add_tensors("model", model_at(step)).add_text("state.json", state_at(step));
  return writer.commit();
}

// The checkpoint holds exactly what commit(step) wrote.
void expect_checkpoint_of(const Checkpoint& checkpoint, std::int64_t step) {
  EXPECT_EQ(checkpoint.step(), step);
  TensorMap want = model_at(step);
  const TensorMap& got = checkpoint.tensors("model");
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) EXPECT_TRUE(torch::equal(got.at(name), tensor)) << name;
  EXPECT_EQ(checkpoint.text("state.json"), state_at(step));
}

std::vector<std::string> temporaries(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(root)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0) out.push_back(name);
  }
  return out;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

template <typename Body>
std::string error_of(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

#define EXPECT_CONTAINS(text, fragment) \
  EXPECT_NE(std::string(text).find(fragment), std::string::npos) << (text) << "\nlacks: " << (fragment)

// ------------------------------------------------------------------ names

TEST(CheckpointTest, DirectoryNames) {
  EXPECT_EQ(checkpoint_dir_name(0), "step-00000000");
  EXPECT_EQ(checkpoint_dir_name(1234), "step-00001234");
  EXPECT_EQ(checkpoint_dir_name(123456789012), "step-123456789012");
  EXPECT_EQ(parse_checkpoint_dir_name("step-00001234"), 1234);
  EXPECT_EQ(parse_checkpoint_dir_name("step-123456789012"), 123456789012);
  EXPECT_EQ(parse_checkpoint_dir_name("step-1234"), std::nullopt);  // not canonical
  EXPECT_EQ(parse_checkpoint_dir_name("step-000001234"), std::nullopt);
  EXPECT_EQ(parse_checkpoint_dir_name("step-0000123x"), std::nullopt);
  EXPECT_EQ(parse_checkpoint_dir_name(".tmp-step-00001234-deadbeef"), std::nullopt);
  EXPECT_EQ(parse_checkpoint_dir_name("step-"), std::nullopt);
}

// ------------------------------------------------------------------ round trip and layout

TEST(CheckpointTest, RoundTripOfTensorAndTextParts) {
  TempDir tmp;
  fs::path root = tmp.path() / "run" / "checkpoints";
  CheckpointWriter writer(root, 1234);
  TensorMap optimizer{{"exp_avg", torch::randn({8, 4})}, {"step", torch::scalar_tensor(7, torch::kLong)}};
  writer.add_tensors("model", model_at(1234), {{"arch", "mlp"}})
      .add_tensors("optimizer", optimizer)
      .add_text("state.json", state_at(1234))
      .add_text("notes.txt", "");
  fs::path dir = writer.commit();
  EXPECT_EQ(dir, root / "step-00001234");

  Checkpoint checkpoint = load_checkpoint(root);
  expect_checkpoint_of(checkpoint, 1234);
  EXPECT_EQ(checkpoint.dir(), dir);
  EXPECT_EQ(checkpoint.tensors_metadata("model"), (SafetensorsMetadata{{"arch", "mlp"}}));
  EXPECT_TRUE(torch::equal(checkpoint.tensors("optimizer").at("exp_avg"), optimizer.at("exp_avg")));
  EXPECT_EQ(checkpoint.text("notes.txt"), "");
  EXPECT_TRUE(checkpoint.has_tensors("optimizer"));
  EXPECT_FALSE(checkpoint.has_tensors("state.json"));
  EXPECT_TRUE(checkpoint.has_text("state.json"));
}

TEST(CheckpointTest, DirectoryHoldsThePartsTheManifestAndLast) {
  TempDir tmp;
  fs::path dir = commit(tmp.path(), 1234, Env::Default());
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"checkpoint.json", "model.safetensors", "state.json"}));
  EXPECT_EQ(slurp(tmp.path() / "last"), "step-00001234\n");
  EXPECT_TRUE(temporaries(tmp.path()).empty());
  // model.safetensors is a plain safetensors file.
  EXPECT_TRUE(torch::equal(load_safetensors(dir / "model.safetensors").tensors.at("fc.weight"),
                           model_at(1234).at("fc.weight")));
}

TEST(CheckpointTest, ManifestRecordsFormatVersionAndEveryPart) {
  TempDir tmp;
  fs::path dir = commit(tmp.path(), 42);
  track::JsonValue manifest = track::parse_json(slurp(dir / "checkpoint.json"));
  EXPECT_EQ(manifest.find("format")->text(), "kiln.checkpoint");
  EXPECT_EQ(manifest.find("version")->as_int64(), 1);
  EXPECT_EQ(manifest.find("kiln_version")->text(), checkpoint_kiln_version());
  EXPECT_NE(std::string(checkpoint_kiln_version()), "unknown");
  EXPECT_TRUE(std::regex_match(manifest.find("created")->text(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << manifest.find("created")->text();
  EXPECT_EQ(manifest.find("step")->as_int64(), 42);
  const auto& parts = manifest.find("parts")->items();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].find("file")->text(), "model.safetensors");
  EXPECT_EQ(parts[0].find("kind")->text(), "tensors");
  EXPECT_EQ(parts[1].find("file")->text(), "state.json");
  EXPECT_EQ(parts[1].find("kind")->text(), "text");
  for (const auto& part : parts) {
    fs::path file = dir / part.find("file")->text();
    EXPECT_EQ(part.find("size")->as_uint64(), fs::file_size(file));
    EXPECT_EQ(part.find("sha256")->text(), sha256_file_hex(file));
  }
  CheckpointManifest parsed = verify_checkpoint(dir);
  EXPECT_EQ(parsed.format, "kiln.checkpoint");
  EXPECT_EQ(parsed.version, 1);
  EXPECT_EQ(parsed.step, 42);
  ASSERT_EQ(parsed.parts.size(), 2u);
  EXPECT_EQ(parsed.parts[0].kind, CheckpointPartKind::kTensors);
  EXPECT_EQ(parsed.parts[1].sha256, parts[1].find("sha256")->text());
}

TEST(CheckpointTest, CreationTimeComesFromTheEnvClock) {
  class FixedClockEnv final : public FaultInjectionEnv {
   public:
    std::chrono::system_clock::time_point now() override {
      return std::chrono::system_clock::from_time_t(1710408413);  // 2024-03-14T09:26:53Z
    }
  } env;
  TempDir tmp;
  commit(tmp.path(), 1, env);
  EXPECT_EQ(verify_checkpoint(tmp.path() / "step-00000001").created, "2024-03-14T09:26:53Z");
}

// ------------------------------------------------------------------ resolving where to load from

TEST(CheckpointTest, LoadResolvesLastLatestStepDirAndRoot) {
  TempDir tmp;
  fs::path root = tmp.path();
  commit(root, 30);
  commit(root, 10);  // `last` follows commits, `latest` the highest step
  EXPECT_EQ(load_checkpoint(root).step(), 10);
  EXPECT_EQ(load_checkpoint(root / "last").step(), 10);
  EXPECT_EQ(load_checkpoint(root / "latest").step(), 30);
  EXPECT_EQ(load_checkpoint(root / "step-00000030").step(), 30);
  EXPECT_EQ(find_checkpoint(root), root / "step-00000010");
  EXPECT_EQ(list_checkpoints(root), (std::vector<std::int64_t>{10, 30}));
}

TEST(CheckpointTest, NothingToResumeFromIsAValue) {
  TempDir tmp;
  EXPECT_EQ(find_checkpoint(tmp.path()), std::nullopt);
  EXPECT_EQ(find_checkpoint(tmp.path() / "last"), std::nullopt);
  EXPECT_EQ(find_checkpoint(tmp.path() / "latest"), std::nullopt);
  EXPECT_EQ(find_checkpoint(tmp.path() / "no" / "such" / "dir"), std::nullopt);
  EXPECT_TRUE(list_checkpoints(tmp.path() / "missing").empty());
  std::string what = error_of([&] { load_checkpoint(tmp.path()); });
  EXPECT_CONTAINS(what, "no checkpoint at '" + tmp.path().string() + "'");
  EXPECT_CONTAINS(what, "a checkpoint root holding a 'last' file");
}

TEST(CheckpointTest, DamagedLastIsAnErrorNamingIt) {
  TempDir tmp;
  commit(tmp.path(), 1);
  Env::Default().write_file(tmp.path() / "last", "../../etc\n");
  std::string what = error_of([&] { find_checkpoint(tmp.path()); });
  EXPECT_CONTAINS(what, "'" + (tmp.path() / "last").string() +
                            "' should name a checkpoint directory like 'step-00001234', but it holds '../../etc'");
}

TEST(CheckpointTest, LastNamingAMissingDirectoryIsAnError) {
  TempDir tmp;
  commit(tmp.path(), 1);
  fs::remove_all(tmp.path() / "step-00000001");
  std::string what = error_of([&] { load_checkpoint(tmp.path()); });
  EXPECT_CONTAINS(what, "names 'step-00000001', but '" + (tmp.path() / "step-00000001").string() + "' does not exist");
}

// ------------------------------------------------------------------ verification

TEST(CheckpointTest, ACorruptedByteIsCaughtByItsHash) {
  TempDir tmp;
  fs::path dir = commit(tmp.path(), 5);
  fs::path file = dir / "model.safetensors";
  std::string data = slurp(file);
  std::string expected_hash = sha256_hex(data);
  data[data.size() - 3] ^= 0x10;  // a bit in the tensor data: the file still parses
  Env::Default().write_file(file, data);
  std::string what = error_of([&] { load_checkpoint(tmp.path()); });
  EXPECT_CONTAINS(what, "'" + file.string() + "' is corrupt: its SHA-256 is " + sha256_hex(data) +
                            ", but checkpoint.json recorded " + expected_hash);
}

TEST(CheckpointTest, ATruncatedPartIsRefusedWithExpectedAndFoundSizes) {
  TempDir tmp;
  fs::path dir = commit(tmp.path(), 5);
  fs::path file = dir / "model.safetensors";
  auto size = fs::file_size(file);
  fs::resize_file(file, size - 10);
  std::string what = error_of([&] { load_checkpoint(dir); });
  EXPECT_CONTAINS(what, "'" + file.string() + "' is truncated: checkpoint.json says " + std::to_string(size) +
                            " bytes, found " + std::to_string(size - 10));
}

TEST(CheckpointTest, AMissingPartIsRefused) {
  TempDir tmp;
  fs::path dir = commit(tmp.path(), 5);
  fs::remove(dir / "state.json");
  std::string what = error_of([&] { load_checkpoint(dir); });
  EXPECT_CONTAINS(
      what, "checkpoint '" + dir.string() + "' is incomplete: part 'state.json' listed in checkpoint.json is missing");
}

// Rewrites checkpoint.json of `dir` through `edit`.
void edit_manifest(const fs::path& dir, const std::function<void(track::JsonValue&)>& edit) {
  track::JsonValue manifest = track::parse_json(slurp(dir / "checkpoint.json"));
  edit(manifest);
  Env::Default().write_file(dir / "checkpoint.json", track::to_json(manifest, 2));
}

TEST(CheckpointTest, ANewerFormatVersionIsRefusedNamingTheKilnThatWroteIt) {
  TempDir tmp;
  fs::path dir = commit(tmp.path(), 5);
  edit_manifest(dir, [](track::JsonValue& m) {
    m.set("version", track::JsonValue::number(2));
    m.set("kiln_version", track::JsonValue::string("0.9.0"));
    m.set("parts", track::JsonValue::string("a layout this kiln does not know"));
  });
  std::string what = error_of([&] { load_checkpoint(tmp.path()); });
  EXPECT_CONTAINS(what, "checkpoint '" + dir.string() + "' has format version 2, written by kiln 0.9.0; this kiln (" +
                            checkpoint_kiln_version() +
                            ") reads format versions up to 1. Load it with kiln 0.9.0 or newer.");
}

TEST(CheckpointTest, AForeignOrMalformedManifestIsRefused) {
  TempDir tmp;
  fs::path dir = commit(tmp.path(), 5);
  std::string manifest = (dir / "checkpoint.json").string();
  edit_manifest(dir, [](track::JsonValue& m) { m.set("format", track::JsonValue::string("other.tool")); });
  EXPECT_CONTAINS(error_of([&] { verify_checkpoint(dir); }),
                  "'" + manifest +
                      "' is not a valid checkpoint manifest: its format is 'other.tool', expected "
                      "'kiln.checkpoint'");

  Env::Default().write_file(dir / "checkpoint.json", "{\"format\": ");
  EXPECT_CONTAINS(error_of([&] { verify_checkpoint(dir); }),
                  "'" + manifest + "' is not a valid checkpoint manifest: it is not valid JSON");

  commit(tmp.path(), 6);
  fs::path dir6 = tmp.path() / "step-00000006";
  edit_manifest(dir6, [](track::JsonValue& m) { m.set("step", track::JsonValue::number(7)); });
  EXPECT_CONTAINS(error_of([&] { verify_checkpoint(dir6); }), "it says step 7, but its directory is named for step 6");
}

TEST(CheckpointTest, AManifestCannotPointOutsideItsDirectory) {
  TempDir tmp;
  fs::path dir = commit(tmp.path(), 5);
  edit_manifest(dir, [](track::JsonValue& m) {
    track::JsonValue parts = track::JsonValue::array();
    track::JsonValue part = track::JsonValue::object();
    part.set("file", track::JsonValue::string("../../secret"));
    part.set("kind", track::JsonValue::string("text"));
    part.set("size", track::JsonValue::number(1));
    part.set("sha256", track::JsonValue::string(std::string(64, '0')));
    parts.push_back(part);
    m.set("parts", parts);
  });
  EXPECT_CONTAINS(error_of([&] { verify_checkpoint(dir); }), "part file name '../../secret' is not a plain file name");
}

TEST(CheckpointTest, AMissingPartNameListsThePartsThereAre) {
  TempDir tmp;
  commit(tmp.path(), 5);
  Checkpoint checkpoint = load_checkpoint(tmp.path());
  EXPECT_CONTAINS(error_of([&] { checkpoint.tensors("optimizer"); }),
                  "has no tensor part 'optimizer' (tensor parts: model; text parts: state.json)");
  EXPECT_CONTAINS(error_of([&] { checkpoint.text("model"); }), "has no text part 'model'");
}

// ------------------------------------------------------------------ writer rules

TEST(CheckpointTest, WriterRejectsBadPartNamesAndOptions) {
  TempDir tmp;
  CheckpointWriter writer(tmp.path(), 1);
  EXPECT_CONTAINS(error_of([&] { writer.add_text("../x", "a"); }), "invalid checkpoint part name '../x'");
  EXPECT_CONTAINS(error_of([&] { writer.add_text(".hidden", "a"); }), "invalid checkpoint part name '.hidden'");
  EXPECT_CONTAINS(error_of([&] { writer.add_text("", "a"); }), "invalid checkpoint part name ''");
  EXPECT_CONTAINS(error_of([&] { writer.add_text("checkpoint.json", "a"); }), "reserved for the manifest");
  EXPECT_CONTAINS(error_of([&] { writer.add_tensors("model.safetensors", {}); }), "name it 'model'");
  writer.add_text("state.json", "{}");
  EXPECT_CONTAINS(error_of([&] { writer.add_text("state.json", "{}"); }),
                  "checkpoint part 'state.json' was added twice");
  EXPECT_CONTAINS(error_of([] { CheckpointWriter(".", -1); }), "step must be >= 0, got -1");
  EXPECT_CONTAINS(error_of([] { CheckpointWriter(".", 1, {.keep_last_k = -2}); }),
                  "CheckpointOptions.keep_last_k must be >= 0 (0 keeps every checkpoint), got -2");
}

TEST(CheckpointTest, CommitTwiceIsAnError) {
  TempDir tmp;
  CheckpointWriter writer(tmp.path(), 1);
  writer.add_text("a", "1");
  writer.commit();
  EXPECT_CONTAINS(error_of([&] { writer.commit(); }), "step 1 is already committed");
  EXPECT_CONTAINS(error_of([&] { writer.add_text("b", "2"); }), "step 1 is already committed");
}

TEST(CheckpointTest, AnAbandonedWriterLeavesNoTrace) {
  TempDir tmp;
  commit(tmp.path(), 1);
  {
    CheckpointWriter writer(tmp.path(), 2);
    writer.add_tensors("model", model_at(2));
    EXPECT_EQ(temporaries(tmp.path()).size(), 1u);
  }
  EXPECT_TRUE(temporaries(tmp.path()).empty());
  EXPECT_EQ(load_checkpoint(tmp.path()).step(), 1);
}

TEST(CheckpointTest, AnEmptyCheckpointIsValid) {
  TempDir tmp;
  CheckpointWriter(tmp.path(), 3).commit();
  EXPECT_EQ(load_checkpoint(tmp.path()).step(), 3);
  EXPECT_TRUE(load_checkpoint(tmp.path()).manifest().parts.empty());
}

TEST(CheckpointTest, StaleTemporariesAreIgnoredThenCleanedOnTheNextCommit) {
  TempDir tmp;
  commit(tmp.path(), 1);
  fs::create_directories(tmp.path() / ".tmp-step-00000002-deadbeef" / "junk");
  std::ofstream(tmp.path() / ".tmp-step-00000002-deadbeef" / "checkpoint.json") << "{";
  std::ofstream(tmp.path() / ".tmp-last-0badf00d") << "step-00000002\n";
  EXPECT_EQ(list_checkpoints(tmp.path()), std::vector<std::int64_t>{1});
  EXPECT_EQ(load_checkpoint(tmp.path() / "latest").step(), 1);
  commit(tmp.path(), 2);
  EXPECT_TRUE(temporaries(tmp.path()).empty());
  EXPECT_EQ(load_checkpoint(tmp.path()).step(), 2);
}

TEST(CheckpointTest, KeepLastKPrunesTheOldest) {
  TempDir tmp;
  for (int step = 1; step <= 5; ++step) commit(tmp.path(), step * 100, fast_env(), /*keep_last_k=*/2);
  EXPECT_EQ(list_checkpoints(tmp.path()), (std::vector<std::int64_t>{400, 500}));
  EXPECT_TRUE(temporaries(tmp.path()).empty());
  EXPECT_EQ(load_checkpoint(tmp.path()).step(), 500);
}

TEST(CheckpointTest, KeepLastKNeverPrunesTheCheckpointLastNames) {
  TempDir tmp;
  for (int step : {10, 20, 30}) commit(tmp.path(), step);
  // A run resumed from step 10 commits step 15: `last` names it although
  // higher steps exist.
  commit(tmp.path(), 15, fast_env(), /*keep_last_k=*/1);
  EXPECT_EQ(list_checkpoints(tmp.path()), (std::vector<std::int64_t>{15, 30}));
  EXPECT_EQ(load_checkpoint(tmp.path()).step(), 15);
}

TEST(CheckpointTest, RecommittingAStepLastDoesNotNameReplacesIt) {
  TempDir tmp;
  commit(tmp.path(), 10);
  commit(tmp.path(), 20);
  commit(tmp.path(), 10);  // e.g. resumed from an explicit older checkpoint
  EXPECT_EQ(load_checkpoint(tmp.path()).step(), 10);
  EXPECT_EQ(list_checkpoints(tmp.path()), (std::vector<std::int64_t>{10, 20}));
  EXPECT_TRUE(temporaries(tmp.path()).empty());
}

TEST(CheckpointTest, RecommittingTheStepLastNamesIsRefused) {
  TempDir tmp;
  commit(tmp.path(), 10);
  std::string what = error_of([&] { commit(tmp.path(), 10); });
  EXPECT_CONTAINS(what, "cannot commit checkpoint step 10: '" + (tmp.path() / "step-00000010").string() +
                            "' already exists and is the one '" + (tmp.path() / "last").string() + "' names");
  EXPECT_TRUE(temporaries(tmp.path()).empty());
  expect_checkpoint_of(load_checkpoint(tmp.path()), 10);
}

// ------------------------------------------------------------------ crashes and full disks

void commit_second(const fs::path& root, Env& env) {
  // keep_last_k = 1 so pruning the first checkpoint is part of the commit too.
  commit(root, 2, env, /*keep_last_k=*/1);
}

// A root with checkpoint 1 committed and a stale temporary from an older crash.
void prepare_root(const fs::path& root) {
  commit(root, 1);
  fs::create_directories(root / ".tmp-step-00000001-0000beef");
  std::ofstream(root / ".tmp-step-00000001-0000beef" / "model.safetensors") << "partial";
}

TEST(CheckpointCrashTest, ACrashBeforeAnyStepOfCommitLeavesTheOldOrTheNewCheckpoint) {
  std::size_t total = 0;
  {
    TempDir tmp;
    prepare_root(tmp.path());
    FaultInjectionEnv env(fast_env());
    commit_second(tmp.path(), env);
    total = env.op_count();
  }
  ASSERT_GT(total, 20u);
  for (bool power_loss : {false, true}) {
    for (std::size_t k = 0; k <= total; ++k) {
      SCOPED_TRACE((power_loss ? "power loss, crash before op " : "process crash before op ") + std::to_string(k));
      TempDir tmp;
      prepare_root(tmp.path());
      FaultInjectionEnv env(fast_env());
      env.crash_before(k);
      std::string crashed_at;
      try {
        commit_second(tmp.path(), env);
      } catch (const SimulatedCrash& e) {
        crashed_at = e.what();
      }
      EXPECT_EQ(crashed_at.empty(), k == total) << crashed_at;
      if (power_loss) env.drop_unsynced_data();

      // `last` always loads, fully verified, as the old or the new checkpoint.
      Checkpoint checkpoint = load_checkpoint(tmp.path());
      EXPECT_TRUE(checkpoint.step() == 1 || checkpoint.step() == 2) << crashed_at;
      expect_checkpoint_of(checkpoint, checkpoint.step());
      if (k == total) {
        EXPECT_EQ(checkpoint.step(), 2);
      }
      // Every step directory that exists is complete.
      for (std::int64_t step : list_checkpoints(tmp.path())) {
        EXPECT_NO_THROW(verify_checkpoint(tmp.path() / checkpoint_dir_name(step))) << step << " " << crashed_at;
      }
      // The restarted run commits again and the leftovers are gone.
      commit(tmp.path(), 3);
      EXPECT_EQ(load_checkpoint(tmp.path()).step(), 3);
      EXPECT_TRUE(temporaries(tmp.path()).empty()) << crashed_at;
    }
  }
}

TEST(CheckpointCrashTest, TheCrashPointsCoverEveryStepOfTheProtocol) {
  TempDir tmp;
  prepare_root(tmp.path());
  FaultInjectionEnv env(fast_env());
  commit_second(tmp.path(), env);
  std::string log;
  for (const std::string& op : env.ops()) log += op.substr(0, op.find(' ')) + "\n";
  // Parts written and synced, manifest, temp dir synced, stale temporary
  // removed, renamed into place, root synced, `last` replaced atomically,
  // old checkpoint pruned.
  for (const char* step : {"create_dir", "append", "sync", "sync_dir", "remove", "rename", "remove_dir"}) {
    EXPECT_CONTAINS(log, std::string(step) + "\n");
  }
  const std::vector<std::string>& ops = env.ops();
  std::string root = tmp.path().string();
  auto index_of = [&](const std::string& prefix) -> std::size_t {
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].rfind(prefix, 0) == 0) return i;
    }
    ADD_FAILURE() << "no operation starting with " << prefix;
    return 0;
  };
  std::size_t manifest_sync = index_of("sync " + root + "/.tmp-step-00000002-");
  std::size_t into_place = index_of("rename " + root + "/.tmp-step-00000002-");
  std::size_t last_rename = index_of("rename " + root + "/.tmp-last-");
  std::size_t prune = index_of("rename " + root + "/step-00000001");
  EXPECT_LT(manifest_sync, into_place);
  EXPECT_EQ(ops[into_place + 1], "sync_dir " + root);
  EXPECT_LT(into_place, last_rename);
  EXPECT_EQ(ops[last_rename + 1], "sync_dir " + root);
  EXPECT_LT(last_rename, prune);
}

TEST(CheckpointCrashTest, AFullDiskAtAnyWriteLeavesThePreviousCheckpointAndNamesThePath) {
  std::size_t appends = 0;
  {
    TempDir tmp;
    prepare_root(tmp.path());
    FaultInjectionEnv env(fast_env());
    commit_second(tmp.path(), env);
    for (const std::string& op : env.ops()) appends += op.rfind("append ", 0) == 0;
  }
  ASSERT_GE(appends, 5u);  // header + 3 tensors, state.json, checkpoint.json, last
  for (std::size_t n = 0; n < appends; ++n) {
    SCOPED_TRACE("append #" + std::to_string(n) + " fails");
    TempDir tmp;
    prepare_root(tmp.path());
    FaultInjectionEnv env(fast_env());
    env.fail_appends_from(n, ENOSPC, /*partial_bytes=*/3);
    try {
      commit_second(tmp.path(), env);
      ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
      std::string what = e.what();
      EXPECT_CONTAINS(what, "cannot write '" + tmp.path().string() + "/");
      EXPECT_CONTAINS(what, std::strerror(ENOSPC));
    }
    expect_checkpoint_of(load_checkpoint(tmp.path()), 1);
    EXPECT_EQ(slurp(tmp.path() / "last"), "step-00000001\n");
    // Its own temporary is gone; the stale one waits for the next commit.
    EXPECT_EQ(temporaries(tmp.path()).size(), n < appends - 1 ? 1u : 0u);
    commit(tmp.path(), 3);  // space freed: the next commit works
    EXPECT_EQ(load_checkpoint(tmp.path()).step(), 3);
  }
}

TEST(CheckpointCrashTest, SigkillAtRandomMomentsNeverBreaksLast) {
  TempDir tmp;
  fs::path root = tmp.path();
  // 1 MiB of weights: a commit takes long enough to be killed in the middle.
  TensorMap model{{"w", torch::zeros({256, 1024})}};
  float* weights = model["w"].data_ptr<float>();
  std::mt19937 gen(20240314);
  std::int64_t next_step = 1;
  int loaded = 0;
  for (int round = 0; round < 16; ++round) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child commits forever, with real fsyncs, until killed. It uses
      // no torch op (raw memory only): ATen's thread pools do not survive fork.
      try {
        for (std::int64_t step = next_step;; ++step) {
          weights[0] = weights[256 * 1024 - 1] = static_cast<float>(step);
          CheckpointWriter writer(root, step, {.keep_last_k = 3});
          writer.add_tensors("model", model).add_text("state.json", std::to_string(step));
          writer.commit();
        }
      } catch (...) {
      }
      ::_exit(3);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(500, 60000)(gen)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself (a commit failed), status " << status;

    if (!find_checkpoint(root)) continue;  // killed before the first commit finished
    Checkpoint checkpoint = load_checkpoint(root);
    const torch::Tensor& w = checkpoint.tensors("model").at("w");
    EXPECT_EQ(checkpoint.text("state.json"), std::to_string(checkpoint.step()));
    EXPECT_EQ(w[0][0].item<float>(), static_cast<float>(checkpoint.step()));
    EXPECT_EQ(w[255][1023].item<float>(), static_cast<float>(checkpoint.step()));
    for (std::int64_t step : list_checkpoints(root)) {
      EXPECT_NO_THROW(verify_checkpoint(root / checkpoint_dir_name(step))) << step;
    }
    next_step = checkpoint.step() + 1;
    ++loaded;
  }
  EXPECT_GT(loaded, 8);
  commit(root, next_step, Env::Default(), /*keep_last_k=*/3);
  EXPECT_TRUE(temporaries(root).empty());
  EXPECT_LE(list_checkpoints(root).size(), 3u);
}

// ------------------------------------------------------------------ size and speed

TEST(CheckpointTest, OneMillionParameterModelCommitsAndLoads) {
  TempDir tmp;
  TensorMap model{{"fc1.weight", torch::randn({1000, 784})},
                  {"fc1.bias", torch::randn({1000})},
                  {"fc2.weight", torch::randn({215, 1000})},
                  {"fc2.bias", torch::randn({215})}};
  std::int64_t parameters = 0;
  for (const auto& [name, tensor] : model) parameters += tensor.numel();
  ASSERT_EQ(parameters, 1000215);

  auto start = std::chrono::steady_clock::now();
  CheckpointWriter writer(tmp.path(), 1000, {.env = &Env::Default()});
  writer.add_tensors("model", model).add_text("state.json", state_at(1000));
  writer.commit();
  auto committed = std::chrono::steady_clock::now();
  Checkpoint checkpoint = load_checkpoint(tmp.path());
  auto loaded = std::chrono::steady_clock::now();

  for (const auto& [name, tensor] : model) EXPECT_TRUE(torch::equal(checkpoint.tensors("model").at(name), tensor));
  using ms = std::chrono::duration<double, std::milli>;
  std::cout << "[ timing   ] 1,000,215-parameter F32 model (" << fs::file_size(checkpoint.dir() / "model.safetensors")
            << " bytes): commit " << ms(committed - start).count() << " ms (with fsync), verify + load "
            << ms(loaded - committed).count() << " ms\n";
}

}  // namespace
}  // namespace kiln::train
