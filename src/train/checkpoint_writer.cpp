// CheckpointWriter: the commit protocol of checkpoint.h.
#include <algorithm>

#include "checkpoint_layout.h"
#include "kiln/error.h"
#include "kiln/track/json.h"
#include "kiln/track/sha256.h"
#include "kiln/train/checkpoint.h"

namespace kiln::train {

using namespace checkpoint_detail;
using track::JsonValue;

namespace {

// Hashes and counts what passes through, so a part's SHA-256 costs no second
// read of the file.
class HashingFile final : public WritableFile {
 public:
  explicit HashingFile(std::unique_ptr<WritableFile> base) : base_(std::move(base)) {}
  void append(std::string_view data) override {
    base_->append(data);
    hash_.update(data);
  }
  void sync() override { base_->sync(); }
  void close() override { base_->close(); }
  const std::filesystem::path& path() const override { return base_->path(); }
  std::uint64_t size() const { return hash_.size(); }
  std::string finish_hex() { return hash_.finish_hex(); }

 private:
  std::unique_ptr<WritableFile> base_;
  Sha256 hash_;
};

}  // namespace

CheckpointWriter::CheckpointWriter(std::filesystem::path root, std::int64_t step, CheckpointOptions options)
    : root_(std::move(root)),
      step_(step),
      name_(options.name.empty() ? checkpoint_dir_name(step) : options.name),
      options_(options),
      env_(options.env ? *options.env : Env::Default()) {
  if (step < 0) throw Error("CheckpointWriter: step must be >= 0, got " + std::to_string(step));
  if (!is_valid_checkpoint_dir_name(name_))
    throw Error("CheckpointOptions.name '" + name_ +
                "' is not a checkpoint directory name (1 to 128 characters from [A-Za-z0-9._=-], not starting "
                "with '.' or '-', not 'last' or 'latest')");
  if (options.keep_last_k < 0) {
    throw Error("CheckpointOptions.keep_last_k must be >= 0 (0 keeps every checkpoint), got " +
                std::to_string(options.keep_last_k));
  }
  if (root_.empty()) root_ = ".";
}

CheckpointWriter::~CheckpointWriter() {
  if (temp_.empty()) return;
  try {
    env_.remove_all(temp_);
  } catch (...) {
    // Best effort (a dead FaultInjectionEnv refuses too); the next commit
    // removes stale temporaries anyway.
  }
}

void CheckpointWriter::check_usable() const {
  if (committed_) throw Error("CheckpointWriter: step " + std::to_string(step_) + " is already committed");
  if (failed_) {
    throw Error("CheckpointWriter: an earlier call failed for step " + std::to_string(step_) +
                "; start a new CheckpointWriter");
  }
}

void CheckpointWriter::ensure_temp_dir() {
  if (!temp_.empty()) return;
  if (env_.create_dirs(root_)) env_.sync_dir(root_.has_parent_path() ? root_.parent_path() : ".");
  std::filesystem::path temp = root_ / (std::string(kTempPrefix) + name_ + "-" + random_suffix(env_));
  env_.create_dir(temp);
  temp_ = temp;
}

void CheckpointWriter::begin_part(const std::string& file) {
  check_usable();
  if (file == kManifestFile) throw Error("checkpoint part name 'checkpoint.json' is reserved for the manifest");
  for (const Part& part : parts_) {
    if (part.file == file) throw Error("checkpoint part '" + file + "' was added twice");
  }
}

void CheckpointWriter::write_part(const std::string& file, const std::string& kind,
                                  const std::function<void(WritableFile&)>& body) {
  try {
    ensure_temp_dir();
    HashingFile out(env_.new_writable_file(temp_ / file));
    body(out);
    out.sync();
    out.close();
    parts_.push_back({file, kind, out.size(), out.finish_hex()});
  } catch (const Error&) {
    fail_safely();
    throw;
  }
}

CheckpointWriter& CheckpointWriter::add_tensors(const std::string& name, const TensorMap& tensors,
                                                const SafetensorsMetadata& metadata) {
  if (!is_valid_part_name(name)) {
    throw Error("invalid checkpoint part name '" + name +
                "': expected 1 to 128 characters from A-Z a-z 0-9 . _ - , not starting with '.'");
  }
  if (name.size() > kTensorsSuffix.size() && name.ends_with(kTensorsSuffix)) {
    throw Error("checkpoint tensor part '" + name + "' would be stored as '" + name + ".safetensors'; name it '" +
                name.substr(0, name.size() - kTensorsSuffix.size()) + "'");
  }
  std::string file = name + std::string(kTensorsSuffix);
  begin_part(file);
  write_part(file, "tensors", [&](WritableFile& out) { write_safetensors(out, tensors, metadata); });
  return *this;
}

CheckpointWriter& CheckpointWriter::add_text(const std::string& name, std::string_view text) {
  if (!is_valid_part_name(name)) {
    throw Error("invalid checkpoint part name '" + name +
                "': expected 1 to 128 characters from A-Z a-z 0-9 . _ - , not starting with '.'");
  }
  begin_part(name);
  write_part(name, "text", [&](WritableFile& out) { out.append(text); });
  return *this;
}

void CheckpointWriter::fail_safely() {
  failed_ = true;
  if (temp_.empty()) return;
  try {
    env_.remove_all(temp_);
    temp_.clear();
  } catch (const Error&) {
    // The destructor or the next commit tries again; the first error matters.
  }
}

void CheckpointWriter::remove_stale_temporaries() {
  const std::string own = temp_.filename().string();
  for (const std::string& name : env_.list_dir(root_)) {
    if (name.starts_with(kTempPrefix) && name != own) env_.remove_all(root_ / name);
  }
}

std::filesystem::path CheckpointWriter::commit() {
  check_usable();
  const std::string& name = name_;
  const std::filesystem::path final_dir = root_ / name;
  try {
    ensure_temp_dir();  // a checkpoint without parts is still a checkpoint
    if (std::optional<std::string> last = read_last(root_, env_); last && *last == name) {
      throw Error("cannot commit checkpoint step " + std::to_string(step_) + ": '" + final_dir.string() +
                  "' already exists and is the one '" + (root_ / kLastFile).string() +
                  "' names; commit a later step, or remove it first");
    }
    JsonValue parts = JsonValue::array();
    std::vector<Part> sorted = parts_;
    std::sort(sorted.begin(), sorted.end(), [](const Part& a, const Part& b) { return a.file < b.file; });
    for (const Part& part : sorted) {
      JsonValue entry = JsonValue::object();
      entry.set("file", JsonValue::string(part.file));
      entry.set("kind", JsonValue::string(part.kind));
      entry.set("size", JsonValue::number(part.size));
      entry.set("sha256", JsonValue::string(part.sha256));
      parts.push_back(std::move(entry));
    }
    JsonValue manifest = JsonValue::object();
    manifest.set("format", JsonValue::string(std::string(kCheckpointFormat)));
    manifest.set("version", JsonValue::number(kCheckpointFormatVersion));
    manifest.set("kiln_version", JsonValue::string(checkpoint_kiln_version()));
    manifest.set("created", JsonValue::string(format_utc(env_.now())));
    manifest.set("step", JsonValue::number(step_));
    manifest.set("parts", std::move(parts));
    env_.write_file(temp_ / kManifestFile, track::to_json(manifest, 2) + "\n", /*sync=*/true);
    env_.sync_dir(temp_);

    remove_stale_temporaries();
    std::filesystem::path replaced;
    if (env_.exists(final_dir)) {
      // A leftover of a run that was resumed from an earlier step: `last`
      // does not name it (checked above), so it may go.
      replaced = root_ / (std::string(kTempPrefix) + "replaced-" + name + "-" + random_suffix(env_));
      env_.rename(final_dir, replaced);
    }
    env_.rename(temp_, final_dir);
    temp_.clear();
    env_.sync_dir(root_);
    env_.write_file_atomic(root_ / kLastFile, name + "\n");
    committed_ = true;
    if (!replaced.empty()) env_.remove_all(replaced);
  } catch (const Error&) {
    fail_safely();
    throw;
  }
  prune(name);
  return final_dir;
}

void CheckpointWriter::prune(const std::string& keep) {
  if (options_.keep_last_k == 0) return;
  std::vector<std::int64_t> steps = list_checkpoints(root_, env_);
  std::sort(steps.rbegin(), steps.rend());
  for (std::size_t i = static_cast<std::size_t>(options_.keep_last_k); i < steps.size(); ++i) {
    const std::string name = checkpoint_dir_name(steps[i]);
    if (name == keep) continue;
    try {
      // Renamed first, so a crash mid-removal leaves a .tmp-* entry (ignored,
      // then cleaned), never a half-deleted step directory.
      std::filesystem::path doomed = root_ / (std::string(kTempPrefix) + "pruned-" + name + "-" + random_suffix(env_));
      env_.rename(root_ / name, doomed);
      env_.remove_all(doomed);
    } catch (const Error& e) {
      throw IoError("checkpoint '" + (root_ / keep).string() + "' was committed, but removing the old checkpoint '" +
                    name + "' (keep_last_k=" + std::to_string(options_.keep_last_k) + ") failed: " + e.what());
    }
  }
}

}  // namespace kiln::train
