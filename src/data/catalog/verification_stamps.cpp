#include "verification_stamps.h"

#include "kiln/track/json.h"

namespace kiln::data::detail {

using track::JsonValue;

VerificationStamps VerificationStamps::load(const std::filesystem::path& file, Env& env) {
  VerificationStamps out;
  out.file_ = file;
  try {
    if (!env.exists(file)) return out;
    JsonValue doc = track::parse_json(env.read_file(file, 16u << 20));
    const JsonValue* files = doc.find("files");
    if (!files || !files->is_object()) return out;
    for (const auto& [path, stamp] : files->members()) {
      const JsonValue* size = stamp.find("size");
      const JsonValue* mtime = stamp.find("mtime_ns");
      const JsonValue* sha = stamp.find("sha256");
      if (!size || !mtime || !sha || !size->as_uint64() || !mtime->as_int64() || !sha->is_string()) continue;
      out.stamps_[path] = Stamp{*size->as_uint64(), *mtime->as_int64(), sha->text()};
    }
  } catch (const kiln::Error&) {
    out.stamps_.clear();
  }
  return out;
}

bool VerificationStamps::vouches(const std::filesystem::path& local, const FileInfo& info,
                                 const std::string& sha256) const {
  auto it = stamps_.find(local.string());
  return it != stamps_.end() && it->second.size == info.size && it->second.mtime_ns == info.mtime_ns &&
         info.mtime_ns != 0 && it->second.sha256 == sha256;
}

void VerificationStamps::record(const std::filesystem::path& local, const FileInfo& info, const std::string& sha256) {
  stamps_[local.string()] = Stamp{info.size, info.mtime_ns, sha256};
}

void VerificationStamps::forget(const std::filesystem::path& local) { stamps_.erase(local.string()); }

bool VerificationStamps::save(Env& env) const {
  JsonValue files = JsonValue::object();
  for (const auto& [path, stamp] : stamps_) {
    JsonValue s = JsonValue::object();
    s.set("size", JsonValue::number(stamp.size));
    s.set("mtime_ns", JsonValue::number(stamp.mtime_ns));
    s.set("sha256", JsonValue::string(stamp.sha256));
    files.set(path, std::move(s));
  }
  JsonValue doc = JsonValue::object();
  doc.set("kiln_verified", JsonValue::number(1));
  doc.set("files", std::move(files));
  try {
    env.write_file_atomic(file_, track::to_json(doc, 2) + "\n");
    return true;
  } catch (const kiln::Error&) {
    return false;
  }
}

}  // namespace kiln::data::detail
