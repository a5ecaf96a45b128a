// Private to the checkpoint sources: names and the `last` pointer, shared by
// the writer and the reader.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/track/env.h"

namespace kiln::train::checkpoint_detail {

inline constexpr std::string_view kManifestFile = "checkpoint.json";
inline constexpr std::string_view kLastFile = "last";
inline constexpr std::string_view kLatest = "latest";
inline constexpr std::string_view kTempPrefix = ".tmp-";
inline constexpr std::string_view kTensorsSuffix = ".safetensors";
// checkpoint.json and `last` are small; anything bigger is not ours.
inline constexpr std::uint64_t kMaxManifestSize = 64 << 20;
inline constexpr std::uint64_t kMaxLastSize = 4096;

// 1..128 characters from [A-Za-z0-9._-], not starting with '.'.
bool is_valid_part_name(std::string_view name);

// The directory name `<root>/last` holds; nullopt when there is no `last`.
// Throws kiln::IoError when it does not hold a checkpoint directory name.
std::optional<std::string> read_last(const std::filesystem::path& root, Env& env);

// The committed checkpoint in root with the highest manifest step, whatever
// its directory name; nullopt when there is none.
std::optional<std::filesystem::path> latest_checkpoint_dir(const std::filesystem::path& root, Env& env);

// 8 lowercase hex digits from env.random32().
std::string random_suffix(Env& env);

// "2024-03-14T09:26:53Z".
std::string format_utc(std::chrono::system_clock::time_point time);

}  // namespace kiln::train::checkpoint_detail
