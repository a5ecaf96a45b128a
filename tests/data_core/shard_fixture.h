// Synthetic shard sets for the data tests: samples whose bytes are a known
// function of their number, written with the real ShardWriter.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kiln/data/npy.h"
#include "kiln/data/pack.h"
#include "kiln/data/shard_writer.h"

namespace kiln::testing {

// Sample i: "<key>.cls" = i (decimal), "<key>.input.npy" = float32 [4] of
// i, i+1, i+2, i+3, and "<key>.txt" of (i % 7) * 100 + 1 bytes, so sizes vary
// and some members span several tar blocks.
inline data::Sample synthetic_sample(std::uint64_t i) {
  const float values[4] = {float(i), float(i + 1), float(i + 2), float(i + 3)};
  std::string text((i % 7) * 100 + 1, static_cast<char>('a' + i % 26));
  return {.key = data::sample_key(i),
          .fields = {{"cls", std::to_string(i)},
                     {"input.npy", data::encode_npy(data::NpyDtype::kFloat32, {4}, values, sizeof values)},
                     {"txt", text}}};
}

// Writes samples 0..n-1 as shard set `name` in `dir`; returns the manifest path.
inline std::filesystem::path write_synthetic_shards(const std::filesystem::path& dir, std::uint64_t n,
                                                    std::uint64_t shard_bytes = 16 * 1024,
                                                    const std::string& name = "train") {
  data::ShardWriter writer({.dir = dir, .name = name, .max_shard_bytes = shard_bytes});
  for (std::uint64_t i = 0; i < n; ++i) writer.write(synthetic_sample(i));
  writer.finish();
  return dir / data::manifest_file_name(name);
}

// Flips one bit of the byte at `offset` of `path` in place (a corrupt disk).
inline void flip_byte(const std::filesystem::path& path, std::uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  f.seekp(static_cast<std::streamoff>(offset));
  c = static_cast<char>(c ^ 0x01);
  f.write(&c, 1);
}

}  // namespace kiln::testing
