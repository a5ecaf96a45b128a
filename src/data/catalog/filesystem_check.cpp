#include "kiln/data/filesystem_check.h"

#include <sys/vfs.h>

#include <cstdio>
#include <mutex>
#include <set>

namespace kiln::data {
namespace fs = std::filesystem;

FilesystemKind classify_filesystem_magic(std::uint64_t magic) {
  struct Known {
    std::uint64_t magic;
    const char* name;
    bool network;
  };
  // linux/magic.h, plus the ones it does not list (fuse, lustre, gpfs, beegfs).
  static constexpr Known kKnown[] = {
      {0x6969, "nfs", true},
      {0xFF534D42, "cifs", true},
      {0xFE534D42, "smb2", true},
      {0x517B, "smb", true},
      {0x65735546, "fuse", true},
      {0x0BD00BD0, "lustre", true},
      {0x47504653, "gpfs", true},
      {0x19830326, "beegfs", true},
      {0x73757245, "coda", true},
      {0x564C, "ncp", true},
      {0x6B414653, "afs", true},
      {0x5346414F, "openafs", true},
      {0x00C36400, "ceph", true},
      {0x01021997, "9p", true},
      {0xEF53, "ext4", false},
      {0x58465342, "xfs", false},
      {0x9123683E, "btrfs", false},
      {0x01021994, "tmpfs", false},
      {0x794C7630, "overlayfs", false},
      {0x2FC12FC1, "zfs", false},
      {0xF2F52010, "f2fs", false},
      {0x858458F6, "ramfs", false},
      {0x3153464A, "jfs", false},
      {0x52654973, "reiserfs", false},
      {0x4D44, "vfat", false},
      {0x2011BAB0, "exfat", false},
      {0x5346544E, "ntfs", false},
      {0x9FA0, "proc", false},
      {0x62656572, "sysfs", false},
  };
  for (const Known& k : kKnown)
    if (k.magic == magic) return FilesystemKind{k.network, k.name};
  char text[32];
  std::snprintf(text, sizeof text, "unknown (0x%llx)", static_cast<unsigned long long>(magic));
  // An unknown file system is taken as local: a false alarm on every run
  // would teach users to ignore the warning.
  return FilesystemKind{false, text};
}

std::optional<std::uint64_t> filesystem_magic(const fs::path& dir) {
  fs::path probe = fs::absolute(dir);
  for (;;) {
    struct statfs info {};
    if (::statfs(probe.c_str(), &info) == 0) return static_cast<std::uint64_t>(info.f_type);
    if (!probe.has_parent_path() || probe.parent_path() == probe) return std::nullopt;
    probe = probe.parent_path();
  }
}

std::optional<std::string> network_filesystem_warning(const FilesystemKind& kind, const fs::path& dir,
                                                      const std::string& what) {
  if (!kind.network) return std::nullopt;
  std::string out = "kiln: warning: " + what + " '" + dir.string() + "' is on a network file system (" + kind.name +
                    "): reading training data from it will be slow, and slower still when many nodes read at once\n";
  out +=
      "  hint: put the cache on a local disk, e.g. `export KILN_CACHE_DIR=/local/scratch/kiln-cache`, then "
      "`kiln data fetch NAME` copies each dataset there once";
  return out;
}

bool warn_if_network_filesystem(const fs::path& dir, const std::string& what) {
  std::optional<std::uint64_t> magic = filesystem_magic(dir);
  if (!magic) return false;
  FilesystemKind kind = classify_filesystem_magic(*magic);
  std::optional<std::string> warning = network_filesystem_warning(kind, dir, what);
  if (!warning) return false;
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard lock(mutex);
  if (warned.insert(fs::absolute(dir).lexically_normal().string()).second)
    std::fprintf(stderr, "%s\n", warning->c_str());
  return true;
}

}  // namespace kiln::data
