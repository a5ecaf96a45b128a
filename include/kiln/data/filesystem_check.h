// Is a directory on a network file system? kiln reads datasets from its
// cache, and reading many files from NFS, SMB or a FUSE mount from every
// node of a cluster is what stalls training; kiln warns once when the cache
// (or a source used in place) lives on one.
//
// The decision is a pure function of statfs(2)'s f_type, so it is tested on
// the magic numbers themselves (linux/magic.h and the FUSE, Lustre, GPFS,
// BeeGFS ones, which it does not list).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace kiln::data {

struct FilesystemKind {
  bool network = false;  // reads go over the network
  std::string name;      // "nfs", "smb2", "cifs", "fuse", "lustre", "ext4", ... or "unknown (0x...)"
};

// The file system statfs(2) reports as `magic`.
FilesystemKind classify_filesystem_magic(std::uint64_t magic);

// statfs(2) of `dir` (or of its nearest existing parent, so a cache that is
// not created yet is judged by where it will be); nullopt when that fails.
std::optional<std::uint64_t> filesystem_magic(const std::filesystem::path& dir);

// The warning for reading from `dir` on `kind`, or nullopt when it is local.
// `what` names the directory's role: "the dataset cache" or "the source".
std::optional<std::string> network_filesystem_warning(const FilesystemKind& kind, const std::filesystem::path& dir,
                                                      const std::string& what);

// Prints network_filesystem_warning(...) to stderr, at most once per process
// and directory. Returns whether `dir` is on a network file system.
bool warn_if_network_filesystem(const std::filesystem::path& dir, const std::string& what);

}  // namespace kiln::data
