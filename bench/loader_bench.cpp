// Streaming loader throughput from shards in the page cache, against two
// baselines measured in the same run:
//   bound    `cat shard... > /dev/null` (the page-cache read rate): ratio
//            loader/cat, target >= 0.8 for large samples
//   pytorch  a torch DataLoader over the same shards with /usr/bin/python3
//            (bench/loader_dataloader.py): ratio kiln/pytorch, target >= 3
// for two sample sizes: Fashion-MNIST-like (784 B) and large (256 KiB).
//
// usage: kiln_loader_bench [SMALL_SAMPLES] [LARGE_SAMPLES] [--rounds R] [--workers W] [--default-malloc]
//
// The loader runs with the allocator settings `kiln train` uses
// (kiln/train/malloc_tuning.h: freed batch memory is reused, not unmapped);
// --default-malloc leaves glibc's defaults, to show what that is worth.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "kiln/data/npy.h"
#include "kiln/data/pack.h"
#include "kiln/data/shard_writer.h"
#include "kiln/data/streaming_loader.h"
#include "kiln/train/malloc_tuning.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace {
using namespace kiln::data;
using Clock = std::chrono::steady_clock;

std::filesystem::path write_shards(const std::filesystem::path& dir, std::size_t samples, std::size_t side) {
  ShardWriter writer({.dir = dir, .name = "bench", .max_shard_bytes = 64'000'000});
  std::vector<std::uint8_t> pixels(side * side);
  for (std::size_t i = 0; i < samples; ++i) {
    for (std::size_t p = 0; p < pixels.size(); ++p) pixels[p] = static_cast<std::uint8_t>(i * 31 + p);
    writer.write(
        {.key = sample_key(i),
         .fields = {{"cls", std::to_string(i % 10)},
                    {"input.npy",
                     encode_npy(NpyDtype::kUInt8, {1, static_cast<std::int64_t>(side), static_cast<std::int64_t>(side)},
                                pixels.data(), pixels.size())}}});
  }
  writer.finish();
  return dir / manifest_file_name("bench");
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void run_case(const char* name, std::size_t samples, std::size_t side, int rounds, std::size_t workers) {
  kiln::testing::TempDir dir("kiln_loader_bench");
  const auto manifest = write_shards(dir.path(), samples, side);
  auto shards = ShardSet::open(manifest);
  std::uint64_t bytes = 0;
  std::string files;
  for (const auto& s : shards->manifest().shards) {
    bytes += s.bytes;
    files += " " + kiln::testing::shell_quote((dir.path() / s.tar).string());
  }
  const std::string cat = "cat" + files + " > /dev/null";
  std::vector<double> cat_s, kiln_s;
  for (int r = 0; r < rounds + 1; ++r) {  // round 0 warms the page cache
    auto t = Clock::now();
    if (std::system(cat.c_str()) != 0) std::cerr << "cat failed\n";
    if (r) cat_s.push_back(seconds_since(t));
    StreamingLoader loader({.shards = shards, .batch_size = 64, .seed = 1, .num_workers = workers});
    t = Clock::now();
    loader.start_epoch(r);
    std::size_t n = 0;
    while (auto b = loader.next()) n += static_cast<std::size_t>(b->input.size(0));
    if (r) kiln_s.push_back(seconds_since(t));
    if (n != samples) std::cerr << "loader yielded " << n << " of " << samples << " samples\n";
  }
  const auto py =
      kiln::testing::run_command("/usr/bin/python3 " KILN_SOURCE_DIR "/bench/loader_dataloader.py " +
                                     kiln::testing::shell_quote(manifest.string()) + " 64 " + std::to_string(workers),
                                 dir.path());
  double py_seconds = 0;
  unsigned long long py_samples = 0;
  std::sscanf(py.out.c_str(), "samples %llu seconds %lf", &py_samples, &py_seconds);
  const double k = kiln::bench::median(kiln_s), c = kiln::bench::median(cat_s);
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("%s: %zu samples of %zu B, %.1f MB of shards, %zu workers\n", name, samples, side * side, mb, workers);
  std::printf("  cat       %10.0f samples/s %8.1f MB/s\n", samples / c, mb / c);
  std::printf("  kiln      %10.0f samples/s %8.1f MB/s\n", samples / k, mb / k);
  if (py.exit_code == 0 && py_seconds > 0)
    std::printf("  pytorch   %10.0f samples/s %8.1f MB/s\n", py_samples / py_seconds,
                mb * py_samples / samples / py_seconds);
  else
    std::printf("  pytorch   failed: %s\n", py.err.c_str());
  std::printf("%s ratio kiln/cat %.2f\n", name, c / k);
  const double py_rate = py_seconds > 0 ? static_cast<double>(py_samples) / py_seconds : 0;
  std::printf("%s ratio kiln/pytorch %.2f\n", name, py_rate > 0 ? (static_cast<double>(samples) / k) / py_rate : 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t small = 54000, large = 512, workers = 2;
  int rounds = 3;
  bool default_malloc = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else if (a == "--workers" && i + 1 < argc)
      workers = static_cast<std::size_t>(std::atoi(argv[++i]));
    else if (a == "--default-malloc")
      default_malloc = true;
    else
      positional.push_back(a);
  }
  if (positional.size() > 0) small = std::stoul(positional[0]);
  if (positional.size() > 1) large = std::stoul(positional[1]);
  if (!default_malloc) kiln::train::keep_freed_memory_for_reuse();
  std::printf("malloc: %s\n", default_malloc ? "glibc defaults" : "kiln train's (freed memory kept for reuse)");
  run_case("small", small, 28, rounds, workers);
  run_case("large", large, 512, rounds, workers);
  return 0;
}
