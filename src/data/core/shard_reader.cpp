#include "kiln/data/shard_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kiln/data/tar.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"

namespace kiln::data {
namespace {

// Reads what it can of [offset, offset + n); returns the count (short only
// at end of file).
std::size_t pread_full(int fd, char* out, std::size_t n, std::uint64_t offset, const std::filesystem::path& path) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw kiln::IoError("cannot read shard '" + path.string() + "': " + std::strerror(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// Where the file ends now (it may have shrunk past a sample's start, where a
// read finds nothing); `fallback` when fstat fails.
std::uint64_t file_end(int fd, std::uint64_t fallback) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : fallback;
}

}  // namespace

ShardCorruptError::ShardCorruptError(std::string shard, std::string key, std::uint64_t offset, const std::string& why)
    : DataFormatError("corrupt shard '" + shard + "': sample '" + key + "' at byte offset " + std::to_string(offset) +
                      ": " + why),
      shard_(std::move(shard)),
      key_(std::move(key)),
      offset_(offset) {}

std::string_view SampleData::field(std::string_view ext) const {
  for (const auto& [name, bytes] : fields) {
    if (name == ext) return bytes;
  }
  std::string have;
  for (const auto& f : fields) have += (have.empty() ? "" : ", ") + f.first;
  throw DataFormatError("sample '" + key + "' has no field '" + std::string(ext) + "' (it has: " + have + ")");
}

bool SampleData::has(std::string_view ext) const {
  return std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == ext; });
}

std::shared_ptr<const ShardSet> ShardSet::open(const std::filesystem::path& manifest_path, ShardSetOptions options) {
  std::shared_ptr<ShardSet> set(new ShardSet());
  set->manifest_ = read_shard_manifest(manifest_path);
  const std::filesystem::path dir = manifest_path.parent_path();
  Env& env = Env::Default();
  for (const ShardInfo& info : set->manifest_.shards) {
    Shard shard;
    shard.path = dir / info.tar;
    const std::filesystem::path index_path = dir / info.index;
    shard.index = decode_shard_index(env.read_file(index_path), index_path.string());
    if (shard.index.samples.size() != info.samples)
      throw DataFormatError("shard index '" + index_path.string() + "' lists " +
                            std::to_string(shard.index.samples.size()) + " samples, the manifest '" +
                            manifest_path.string() + "' says " + std::to_string(info.samples));
    if (options.verify_hashes) {
      const std::string actual = sha256_file_hex(shard.path);
      if (actual != info.sha256)
        throw DataFormatError("shard '" + shard.path.string() + "' does not match the manifest: SHA-256 " + actual +
                              ", expected " + info.sha256 + " (the file changed or is corrupt)");
    }
    shard.fd = ::open(shard.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (shard.fd < 0) throw kiln::IoError("cannot open shard '" + shard.path.string() + "': " + std::strerror(errno));
    struct stat st {};
    if (::fstat(shard.fd, &st) == 0) shard.file_size = static_cast<std::uint64_t>(st.st_size);
    shard.map = MappedFile::map(shard.fd, shard.file_size);
    set->starts_.push_back(set->total_);
    set->total_ += info.samples;
    set->shards_.push_back(std::move(shard));
  }
  set->starts_.push_back(set->total_);
  return set;
}

ShardSet::~ShardSet() {
  for (const Shard& s : shards_) {
    if (s.fd >= 0) ::close(s.fd);
  }
}

std::pair<std::size_t, const ShardIndexEntry*> ShardSet::locate(std::uint64_t i) const {
  const auto it = std::upper_bound(starts_.begin(), starts_.end() - 1, i);
  const auto s = static_cast<std::size_t>(it - starts_.begin() - 1);
  return {s, &shards_[s].index.samples[i - starts_[s]]};
}

void ShardSet::prefetch_entry(std::uint64_t i) const { __builtin_prefetch(locate(i).second); }

void ShardSet::prefetch_sample(std::uint64_t i) const {
  const auto [s, entry] = locate(i);
  __builtin_prefetch(entry->members.data());
  const MappedFile& map = shards_[s].map;
  if (map.mapped() && entry->offset < map.size()) map.prefetch(entry->offset);
}

void ShardSet::read(std::uint64_t i, SampleData& out) const {
  const auto [s, entry] = locate(i);
  const Shard& shard = shards_[s];
  const std::uint64_t span = entry->span();
  out.key = entry->key;
  out.fields.clear();
  out.buffer.resize(span);
  // The mapping serves every sample of an intact shard; pread is the
  // authority when it cannot (no mapping, or the file shrank since open) and
  // says where the file now ends.
  const std::size_t got = shard.map.copy(entry->offset, span, out.buffer.data())
                              ? span
                              : pread_full(shard.fd, out.buffer.data(), span, entry->offset, shard.path);
  std::uint64_t at = 0;
  for (const ShardMember& m : entry->members) {
    const std::uint64_t offset = entry->offset + at;
    const std::uint64_t need = at + kTarBlock + m.size;
    if (got < need)
      throw ShardCorruptError(shard.path.string(), entry->key, offset,
                              "truncated: member '" + entry->key + "." + m.ext + "' needs bytes up to " +
                                  std::to_string(entry->offset + need) + ", the file ends at " +
                                  std::to_string(file_end(shard.fd, entry->offset + got)));
    std::string why;
    const auto* block = reinterpret_cast<const unsigned char*>(out.buffer.data() + at);
    const std::optional<TarHeader> header = parse_tar_header(block, why);
    if (!header) throw ShardCorruptError(shard.path.string(), entry->key, offset, why);
    // "<key>.<ext>", compared in place: no string built per member.
    const std::string_view name = header->name;
    const bool named = name.size() == entry->key.size() + 1 + m.ext.size() && name.starts_with(entry->key) &&
                       name[entry->key.size()] == '.' && name.ends_with(m.ext);
    if (!named || header->size != m.size || header->type != '0')
      throw ShardCorruptError(shard.path.string(), entry->key, offset,
                              "tar header says '" + std::string(name) + "' (" + std::to_string(header->size) +
                                  " bytes), the index says '" + entry->key + "." + m.ext + "' (" +
                                  std::to_string(m.size) + " bytes)");
    out.fields.emplace_back(m.ext, std::string_view(out.buffer.data() + at + kTarBlock, m.size));
    at += tar_member_bytes(m.size);
  }
}

}  // namespace kiln::data
