#include "kiln/data/shard_writer.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "kiln/data/tar.h"
#include "kiln/error.h"
#include "kiln/track/env.h"

namespace kiln::data {
namespace {

constexpr std::size_t kFlushBytes = 4u << 20;
constexpr std::uint64_t kEndBlocks = 2 * kTarBlock;

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::string shard_file(const std::string& name, std::size_t number, const char* ext) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%06zu", number);
  return name + "-" + digits + ext;
}

void check_sample(const Sample& s, const std::string& last_key, bool first) {
  const std::string what = "sample '" + s.key + "': ";
  if (s.key.empty() || s.key.find_first_of("./") != std::string::npos)
    throw kiln::Error(what +
                      "a key must be non-empty and contain no '.' or '/' (webdataset splits names at the "
                      "first '.')");
  if (!first && s.key <= last_key)
    throw kiln::Error(what +
                      "keys must increase (bytewise) so shards hold sorted, contiguous samples; the previous "
                      "key was '" +
                      last_key + "'");
  if (s.fields.empty()) throw kiln::Error(what + "a sample needs at least one field");
  std::set<std::string> seen;
  for (const SampleField& f : s.fields) {
    if (f.ext.empty() || f.ext.find('/') != std::string::npos || f.ext.front() == '.' || f.ext.back() == '.')
      throw kiln::Error(what + "field extension '" + f.ext +
                        "' must be non-empty, without '/' or a leading or "
                        "trailing '.'");
    if (!seen.insert(f.ext).second) throw kiln::Error(what + "field '" + f.ext + "' appears twice");
    if (s.key.size() + 1 + f.ext.size() > 100)
      throw kiln::Error(what + "member name '" + s.key + "." + f.ext + "' is longer than tar's 100 bytes");
  }
}

}  // namespace

ShardWriter::ShardWriter(ShardWriterOptions options) : options_(std::move(options)) {
  if (options_.name.empty() || !std::all_of(options_.name.begin(), options_.name.end(), valid_name_char))
    throw kiln::Error("shard name '" + options_.name + "' must be non-empty letters, digits, '_' or '-'");
  if (options_.max_shard_bytes < 10 * kTarBlock + kEndBlocks)
    throw kiln::Error("max_shard_bytes must be at least 6144, found " + std::to_string(options_.max_shard_bytes));
  Env::Default().create_dirs(options_.dir);
  manifest_.name = options_.name;
}

ShardWriter::~ShardWriter() {
  if (!file_) return;
  file_.reset();
  std::error_code ec;
  std::filesystem::remove(tmp_path_, ec);
}

void ShardWriter::write(const Sample& sample) {
  if (finished_) throw kiln::Error("ShardWriter::write after finish()");
  check_sample(sample, last_key_, manifest_.samples == 0);
  std::uint64_t span = 0;
  for (const SampleField& f : sample.fields) span += tar_member_bytes(f.data.size());
  if (file_ && shard_bytes_ + span + kEndBlocks > options_.max_shard_bytes && !index_.samples.empty()) close_shard();
  if (!file_) open_shard();
  ShardIndexEntry entry{sample.key, shard_bytes_, {}};
  for (const SampleField& f : sample.fields) {
    append(tar_header(sample.key + "." + f.ext, f.data.size()));
    append(f.data);
    const std::size_t pad = (kTarBlock - f.data.size() % kTarBlock) % kTarBlock;
    if (pad) append(std::string(pad, '\0'));
    entry.members.push_back({f.ext, f.data.size()});
    if (std::find(manifest_.fields.begin(), manifest_.fields.end(), f.ext) == manifest_.fields.end()) {
      manifest_.fields.push_back(f.ext);
      std::sort(manifest_.fields.begin(), manifest_.fields.end());
    }
  }
  index_.samples.push_back(std::move(entry));
  last_key_ = sample.key;
  ++manifest_.samples;
}

ShardManifest ShardWriter::finish() {
  if (finished_) throw kiln::Error("ShardWriter::finish called twice");
  if (file_) close_shard();
  finished_ = true;
  Env::Default().write_file_atomic(options_.dir / manifest_file_name(options_.name), encode_shard_manifest(manifest_));
  return manifest_;
}

void ShardWriter::open_shard() {
  Env& env = Env::Default();
  const std::string final_name = shard_file(options_.name, manifest_.shards.size(), ".tar");
  tmp_path_ = options_.dir / (".tmp-" + final_name + "-" + std::to_string(env.random32()));
  file_ = env.new_writable_file(tmp_path_);
  shard_bytes_ = 0;
  index_.samples.clear();
}

void ShardWriter::append(const std::string& bytes) {
  hash_.update(bytes);
  buffer_ += bytes;
  shard_bytes_ += bytes.size();
  if (buffer_.size() >= kFlushBytes) flush();
}

void ShardWriter::flush() {
  if (buffer_.empty()) return;
  file_->append(buffer_);
  buffer_.clear();
}

void ShardWriter::close_shard() {
  Env& env = Env::Default();
  append(std::string(kEndBlocks, '\0'));
  flush();
  file_->sync();
  file_->close();
  file_.reset();
  const std::size_t number = manifest_.shards.size();
  ShardInfo info;
  info.tar = shard_file(options_.name, number, ".tar");
  info.index = shard_file(options_.name, number, ".idx");
  info.samples = index_.samples.size();
  info.bytes = shard_bytes_;
  info.sha256 = hash_.finish_hex();
  env.rename(tmp_path_, options_.dir / info.tar);
  const std::string index_bytes = encode_shard_index(index_);
  info.index_sha256 = sha256_hex(index_bytes);
  env.write_file_atomic(options_.dir / info.index, index_bytes);
  env.sync_dir(options_.dir);
  manifest_.shards.push_back(std::move(info));
}

}  // namespace kiln::data
