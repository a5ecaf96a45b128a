#include "kiln/data/shard_format.h"

#include <cstring>

#include "kiln/data/tar.h"
#include "kiln/track/crc32c.h"
#include "kiln/track/env.h"
#include "kiln/track/json.h"

namespace kiln::data {
namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'S', 'I', 'D', 'X'};

template <class T>
void put(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out += static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff);
}

void put_text(std::string& out, const std::string& text) {
  put<std::uint16_t>(out, static_cast<std::uint16_t>(text.size()));
  out += text;
}

// Reads little-endian fields; a read past the end is a DataFormatError
// naming the offset.
class Cursor {
 public:
  Cursor(std::string_view bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      value |= std::uint64_t{static_cast<unsigned char>(bytes_[at_ + i])} << (8 * i);
    at_ += sizeof(T);
    return static_cast<T>(value);
  }
  std::string text(const char* what) {
    const auto n = get<std::uint16_t>(what);
    need(n, what);
    std::string out(bytes_.substr(at_, n));
    at_ += n;
    return out;
  }
  std::size_t at() const { return at_; }

  [[noreturn]] void fail(const std::string& why) const {
    throw DataFormatError("shard index '" + path_ + "' at byte offset " + std::to_string(at_) + ": " + why);
  }

 private:
  void need(std::size_t n, const char* what) const {
    if (bytes_.size() - at_ < n)
      fail(std::string("cut short in ") + what + " (expected " + std::to_string(n) + " more bytes, found " +
           std::to_string(bytes_.size() - at_) + ")");
  }
  std::string_view bytes_;
  const std::string& path_;
  std::size_t at_ = 0;
};

[[noreturn]] void bad_manifest(const std::filesystem::path& path, const std::string& why) {
  throw DataFormatError("shard manifest '" + path.string() + "': " + why);
}

const track::JsonValue& member(const track::JsonValue& object, const char* key, track::JsonValue::Kind kind,
                               const std::filesystem::path& path, const std::string& where) {
  const track::JsonValue* value = object.is_object() ? object.find(key) : nullptr;
  if (!value || value->kind() != kind) {
    const char* expected = kind == track::JsonValue::Kind::kString   ? "a string"
                           : kind == track::JsonValue::Kind::kNumber ? "a number"
                           : kind == track::JsonValue::Kind::kArray  ? "an array"
                                                                     : "an object";
    bad_manifest(path, where + key + ": expected " + expected + ", found " + (value ? value->kind_name() : "nothing"));
  }
  return *value;
}

std::uint64_t count(const track::JsonValue& object, const char* key, const std::filesystem::path& path,
                    const std::string& where) {
  const auto value = member(object, key, track::JsonValue::Kind::kNumber, path, where).as_uint64();
  if (!value) bad_manifest(path, where + key + ": expected a non-negative integer");
  return *value;
}

}  // namespace

std::uint64_t ShardIndexEntry::span() const {
  std::uint64_t bytes = 0;
  for (const ShardMember& m : members) bytes += tar_member_bytes(m.size);
  return bytes;
}

std::string encode_shard_index(const ShardIndex& index) {
  std::string out(kMagic, sizeof kMagic);
  put<std::uint32_t>(out, kShardIndexVersion);
  put<std::uint32_t>(out, 0);
  put<std::uint64_t>(out, index.samples.size());
  for (const ShardIndexEntry& e : index.samples) {
    put<std::uint64_t>(out, e.offset);
    put_text(out, e.key);
    put<std::uint16_t>(out, static_cast<std::uint16_t>(e.members.size()));
    for (const ShardMember& m : e.members) {
      put_text(out, m.ext);
      put<std::uint64_t>(out, m.size);
    }
  }
  put<std::uint32_t>(out, track::crc32c(out));
  return out;
}

ShardIndex decode_shard_index(std::string_view bytes, const std::string& path) {
  Cursor in(bytes, path);
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    in.fail("not a kiln shard index (expected the magic 'KILNSIDX')");
  if (bytes.size() >= 4) {
    const std::size_t body = bytes.size() - 4;
    Cursor tail(bytes.substr(body), path);
    const auto stored = tail.get<std::uint32_t>("CRC");
    const auto actual = track::crc32c(bytes.data(), body);
    if (stored != actual) in.fail("CRC-32C mismatch: the index is corrupt (re-run `kiln data pack`)");
  }
  for (std::size_t i = 0; i < sizeof kMagic; ++i) in.get<std::uint8_t>("magic");
  const auto version = in.get<std::uint32_t>("version");
  if (version != kShardIndexVersion)
    in.fail("index version " + std::to_string(version) + ", this kiln reads version " +
            std::to_string(kShardIndexVersion) + " (written by a newer kiln?)");
  in.get<std::uint32_t>("flags");
  const auto n = in.get<std::uint64_t>("sample count");
  ShardIndex index;
  if (n > bytes.size()) in.fail("sample count " + std::to_string(n) + " larger than the file");
  index.samples.resize(n);
  for (ShardIndexEntry& e : index.samples) {
    e.offset = in.get<std::uint64_t>("sample offset");
    e.key = in.text("sample key");
    const auto members = in.get<std::uint16_t>("member count");
    e.members.resize(members);
    for (ShardMember& m : e.members) {
      m.ext = in.text("member extension");
      m.size = in.get<std::uint64_t>("member size");
    }
  }
  if (in.at() + 4 != bytes.size()) in.fail("unexpected bytes after the last sample");
  return index;
}

std::string manifest_file_name(std::string_view name) { return std::string(name) + ".shards.json"; }

std::string encode_shard_manifest(const ShardManifest& m) {
  using track::JsonValue;
  JsonValue root = JsonValue::object();
  root.set("format", JsonValue::string("kiln-shards"));
  root.set("version", JsonValue::number(static_cast<std::uint64_t>(kShardManifestVersion)));
  root.set("name", JsonValue::string(m.name));
  root.set("samples", JsonValue::number(m.samples));
  JsonValue fields = JsonValue::array();
  for (const auto& f : m.fields) fields.push_back(JsonValue::string(f));
  root.set("fields", std::move(fields));
  JsonValue shards = JsonValue::array();
  for (const ShardInfo& s : m.shards) {
    JsonValue entry = JsonValue::object();
    entry.set("tar", JsonValue::string(s.tar));
    entry.set("index", JsonValue::string(s.index));
    entry.set("samples", JsonValue::number(s.samples));
    entry.set("bytes", JsonValue::number(s.bytes));
    entry.set("sha256", JsonValue::string(s.sha256));
    entry.set("index_sha256", JsonValue::string(s.index_sha256));
    shards.push_back(std::move(entry));
  }
  root.set("shards", std::move(shards));
  return track::to_json(root, 2) + "\n";
}

ShardManifest read_shard_manifest(const std::filesystem::path& path) {
  using Kind = track::JsonValue::Kind;
  const std::string text = Env::Default().read_file(path, 1ULL << 30);
  track::JsonValue root;
  try {
    root = track::parse_json(text);
  } catch (const track::JsonError& e) {
    bad_manifest(path, "not valid JSON at byte offset " + std::to_string(e.offset()) + ": " + e.what());
  }
  if (!root.is_object() || !root.find("format") || root.find("format")->text() != "kiln-shards")
    bad_manifest(path, "expected a JSON object with \"format\": \"kiln-shards\"");
  const std::uint64_t version = count(root, "version", path, "");
  if (version != kShardManifestVersion)
    bad_manifest(path, "version " + std::to_string(version) + ", this kiln reads version " +
                           std::to_string(kShardManifestVersion) + " (written by a newer kiln?)");
  ShardManifest m;
  m.name = member(root, "name", Kind::kString, path, "").text();
  m.samples = count(root, "samples", path, "");
  for (const auto& f : member(root, "fields", Kind::kArray, path, "").items()) m.fields.push_back(f.text());
  std::uint64_t total = 0;
  const auto& shards = member(root, "shards", Kind::kArray, path, "").items();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string where = "shards[" + std::to_string(i) + "].";
    ShardInfo s;
    s.tar = member(shards[i], "tar", Kind::kString, path, where).text();
    s.index = member(shards[i], "index", Kind::kString, path, where).text();
    s.samples = count(shards[i], "samples", path, where);
    s.bytes = count(shards[i], "bytes", path, where);
    s.sha256 = member(shards[i], "sha256", Kind::kString, path, where).text();
    s.index_sha256 = member(shards[i], "index_sha256", Kind::kString, path, where).text();
    if (s.tar.find('/') != std::string::npos || s.index.find('/') != std::string::npos)
      bad_manifest(path, where + "tar/index: expected file names next to the manifest, found '" + s.tar + "'");
    total += s.samples;
    m.shards.push_back(std::move(s));
  }
  if (total != m.samples)
    bad_manifest(path, "samples: " + std::to_string(m.samples) + ", but the shards hold " + std::to_string(total));
  return m;
}

}  // namespace kiln::data
