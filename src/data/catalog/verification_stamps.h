// Verification stamps: "this file had this SHA-256 when it had this size
// and mtime". A file whose size and mtime still match is trusted without
// re-hashing; any write to it changes its mtime and voids the stamp.
// Internal to kiln_data_catalog (dataset_cache.cpp).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "kiln/track/env.h"

namespace kiln::data::detail {

class VerificationStamps {
 public:
  // The stamps in `file`; none when it is missing or unreadable (a lost
  // stamp costs one re-hash, never a wrong answer).
  static VerificationStamps load(const std::filesystem::path& file, Env& env);

  bool vouches(const std::filesystem::path& local, const FileInfo& info, const std::string& sha256) const;
  void record(const std::filesystem::path& local, const FileInfo& info, const std::string& sha256);
  void forget(const std::filesystem::path& local);

  // Writes them atomically; false (and nothing thrown) when the cache is
  // not writable, so a read-only cache still works, only slower.
  bool save(Env& env) const;

 private:
  struct Stamp {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string sha256;
  };
  std::filesystem::path file_;
  std::map<std::string, Stamp> stamps_;  // by absolute path
};

}  // namespace kiln::data::detail
