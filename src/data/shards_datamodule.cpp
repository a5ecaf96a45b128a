#include "kiln/data/shards_datamodule.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "kiln/cores.h"
#include "kiln/data/streaming_loader.h"
#include "kiln/error.h"
#include "kiln/registry/partial.h"

namespace kiln::data {
namespace {

// $name as a non-negative integer, or `fallback` when unset.
std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < 0)
    throw kiln::Error(std::string("environment variable ") + name + "='" + text +
                      "' is not a non-negative integer (the shards data module reads it for its rank, world size and "
                      "workers)");
  return value;
}

}  // namespace

std::size_t auto_num_workers() {
  if (torch::cuda::is_available()) return 2;
  // The ranks on this node share its cores, as the Trainer shares them out.
  const std::int64_t ranks_here = std::max<std::int64_t>(1, env_int("LOCAL_WORLD_SIZE", env_int("WORLD_SIZE", 1)));
  const std::int64_t free = kiln::available_cores() / ranks_here - at::get_num_threads();
  return static_cast<std::size_t>(std::clamp<std::int64_t>(free, 0, 2));
}

config::Schema<ShardsOptions> shards_schema() {
  using O = ShardsOptions;
  config::Schema<O> s("shards", {.doc = "WebDataset-compatible shards written by kiln data pack, streamed"});
  s.field("root", &O::root).doc("directory holding <name>.shards.json and the shards");
  s.field("train", &O::train).doc("training shard set name");
  s.field("val", &O::val).doc("validation shard set name (null: none)");
  s.field("test", &O::test).doc("test shard set name (null: none)");
  s.field("input", &O::input).doc("sample field of the model input (.npy)");
  s.field("target", &O::target).doc("sample field of the target (.cls or .npy)");
  s.field("batch_size", &O::batch_size).doc("training samples per batch on each rank").min(1);
  s.field("eval_batch_size", &O::eval_batch_size).doc("samples per validation and test batch").min(1);
  s.field("seed", &O::seed).doc("seeds the shard order and the shuffle buffer, per epoch");
  s.field("shuffle", &O::shuffle).doc("shuffle the training samples each epoch");
  s.field("shuffle_buffer", &O::shuffle_buffer).doc("shuffle buffer slots").min(1);
  s.field("drop_last", &O::drop_last).doc("drop the incomplete last global batch");
  s.field("num_workers", &O::num_workers)
      .doc("decoding threads (0: in the training thread; null: 2 on CUDA, else the cores intra-op threads leave, <= 2)")
      .min(0);
  s.field("prefetch_factor", &O::prefetch_factor).doc("batches each worker keeps ready").min(1);
  s.field("scale", &O::scale).doc("inputs are divided by it (255: bytes to [0, 1])");
  s.field("normalize", &O::normalize).doc("then (x - mean) / std");
  s.field("mean", &O::mean).doc("mean used by normalize");
  s.field("std", &O::stddev).doc("standard deviation used by normalize; > 0");
  s.field("on_error", &O::on_error).doc("a corrupt sample: raise (stop with an error) or skip (leave out, count)");
  s.field("verify", &O::verify).doc("check every shard's SHA-256 against its manifest at setup");
  s.field("rank", &O::rank).doc("this rank (null: $RANK or 0)");
  s.field("world_size", &O::world_size).doc("number of ranks (null: $WORLD_SIZE or 1)");
  return s;
}

ShardsDataModule::ShardsDataModule(ShardsOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  if (o.on_error != "raise" && o.on_error != "skip")
    throw InvalidParam("on_error", "on_error must be raise or skip, found '" + o.on_error + "'");
  if (!(o.scale > 0.0)) throw InvalidParam("scale", "scale must be > 0");
  if (!(o.stddev > 0.0)) throw InvalidParam("std", "std must be > 0");
  const std::int64_t world = o.world_size ? *o.world_size : env_int("WORLD_SIZE", 1);
  const std::int64_t rank = o.rank ? *o.rank : env_int("RANK", 0);
  if (world < 1) throw InvalidParam("world_size", "world_size must be >= 1, found " + std::to_string(world));
  if (rank < 0 || rank >= world)
    throw InvalidParam(
        "rank", "rank must be in [0, world_size = " + std::to_string(world) + "), found " + std::to_string(rank));
  rank_ = static_cast<std::size_t>(rank);
  world_size_ = static_cast<std::size_t>(world);
}

void ShardsDataModule::setup() {
  if (ready_) return;
  const std::filesystem::path root = options_.root;
  const ShardSetOptions open{.verify_hashes = options_.verify};
  auto load = [&](const std::string& name) { return ShardSet::open(root / manifest_file_name(name), open); };
  train_ = load(options_.train);
  if (options_.val) val_ = load(*options_.val);
  if (options_.test) test_ = load(*options_.test);
  ready_ = true;
}

std::unique_ptr<BatchLoader> ShardsDataModule::make(const std::shared_ptr<const ShardSet>& shards, bool train,
                                                    bool shuffle) const {
  const auto& o = options_;
  StreamingLoaderOptions s;
  s.shards = shards;
  s.batch_size = static_cast<std::size_t>(train ? o.batch_size : o.eval_batch_size);
  s.shuffle = shuffle;
  s.seed = o.seed;
  s.shuffle_buffer = static_cast<std::size_t>(o.shuffle_buffer);
  s.drop_last = train && o.drop_last;
  s.num_workers = o.num_workers ? static_cast<std::size_t>(*o.num_workers) : auto_num_workers();
  s.prefetch_factor = static_cast<std::size_t>(o.prefetch_factor);
  s.rank = train ? rank_ : 0;
  s.world_size = train ? world_size_ : 1;
  s.on_error = o.on_error == "skip" ? OnError::kSkip : OnError::kRaise;
  s.input_field = o.input;
  s.target_field = o.target;
  s.pin_memory = torch::cuda::is_available();
  // Pixels become float32 as they are stacked (no tensor ops on the workers).
  s.input_scaling = InputScaling::of(o.scale, o.normalize, o.mean, o.stddev);
  s.transform = [](Batch batch) { return Batch{std::move(batch.input), batch.target.to(torch::kLong)}; };
  return std::make_unique<StreamingLoader>(std::move(s));
}

std::unique_ptr<BatchLoader> ShardsDataModule::train_loader() {
  setup();
  return make(train_, true, options_.shuffle);
}
std::unique_ptr<BatchLoader> ShardsDataModule::sequential_train_loader() {
  setup();
  return make(train_, true, false);
}
std::unique_ptr<BatchLoader> ShardsDataModule::val_loader() {
  setup();
  return val_ ? make(val_, false, false) : nullptr;
}
std::unique_ptr<BatchLoader> ShardsDataModule::test_loader() {
  setup();
  return test_ ? make(test_, false, false) : nullptr;
}
std::unique_ptr<BatchLoader> ShardsDataModule::predict_loader() { return test_loader(); }

std::vector<DataFile> ShardsDataModule::files() const {
  std::vector<DataFile> out;
  const std::filesystem::path root = options_.root;
  std::vector<std::string> names{options_.train};
  if (options_.val) names.push_back(*options_.val);
  if (options_.test) names.push_back(*options_.test);
  for (const auto& name : names) {
    const auto manifest_path = root / manifest_file_name(name);
    const ShardManifest m = read_shard_manifest(manifest_path);
    out.push_back({manifest_path.string(), std::filesystem::file_size(manifest_path)});
    for (const auto& s : m.shards) out.push_back({(root / s.tar).string(), s.bytes});
  }
  return out;
}

}  // namespace kiln::data
