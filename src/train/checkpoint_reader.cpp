// Verifying and loading checkpoints (checkpoint.h).
#include <algorithm>
#include <set>

#include "checkpoint_layout.h"
#include "kiln/error.h"
#include "kiln/track/json.h"
#include "kiln/track/sha256.h"
#include "kiln/train/checkpoint.h"

namespace kiln::train {

using namespace checkpoint_detail;
using track::JsonValue;

namespace {

// Reads checkpoint.json's fields, naming the manifest in every error.
class ManifestReader {
 public:
  ManifestReader(const std::filesystem::path& dir, Env& env) : dir_(dir), path_(dir / kManifestFile), env_(env) {}

  CheckpointManifest read() {
    if (!env_.exists(path_)) {
      throw IoError("'" + dir_.string() + "' is not a checkpoint: it has no " + std::string(kManifestFile));
    }
    std::string text = env_.read_file(path_, kMaxManifestSize);
    JsonValue root;
    try {
      root = track::parse_json(text);
    } catch (const track::JsonError& e) {
      invalid("it is not valid JSON: " + std::string(e.what()) + " (at byte " + std::to_string(e.offset()) + ")");
    }
    if (!root.is_object()) invalid("expected a JSON object, found " + std::string(root.kind_name()));

    CheckpointManifest manifest;
    manifest.format = string_field(root, "format");
    if (manifest.format != kCheckpointFormat) {
      invalid("its format is '" + manifest.format + "', expected '" + std::string(kCheckpointFormat) + "'");
    }
    // The version is checked before any other field: a newer version may
    // have changed them, and "upgrade kiln" is the useful message then.
    const JsonValue* version = root.find("version");
    auto number = version ? version->as_int64() : std::nullopt;
    if (!number || *number < 1) invalid("'version' must be a positive integer");
    if (*number > kCheckpointFormatVersion) {
      const JsonValue* writer = root.find("kiln_version");
      std::string by = writer && writer->is_string() ? "kiln " + writer->text() : "a newer kiln";
      throw IoError("checkpoint '" + dir_.string() + "' has format version " + std::to_string(*number) +
                    ", written by " + by + "; this kiln (" + checkpoint_kiln_version() +
                    ") reads format versions up to " + std::to_string(kCheckpointFormatVersion) + ". Load it with " +
                    by + " or newer.");
    }
    manifest.version = static_cast<int>(*number);
    manifest.kiln_version = string_field(root, "kiln_version");
    manifest.created = string_field(root, "created");
    const JsonValue* step = root.find("step");
    auto step_value = step ? step->as_int64() : std::nullopt;
    if (!step_value || *step_value < 0) invalid("'step' must be a non-negative integer");
    manifest.step = *step_value;
    if (auto named = parse_checkpoint_dir_name(dir_.filename().string()); named && *named != manifest.step) {
      invalid("it says step " + std::to_string(manifest.step) + ", but its directory is named for step " +
              std::to_string(*named));
    }
    const JsonValue* parts = root.find("parts");
    if (!parts || !parts->is_array()) invalid("'parts' must be an array");
    std::set<std::string> files;
    for (const JsonValue& item : parts->items()) {
      CheckpointPart part = read_part(item);
      if (!files.insert(part.file).second) invalid("part '" + part.file + "' is listed twice");
      manifest.parts.push_back(std::move(part));
    }
    return manifest;
  }

 private:
  [[noreturn]] void invalid(const std::string& problem) const {
    throw IoError("'" + path_.string() + "' is not a valid checkpoint manifest: " + problem);
  }

  std::string string_field(const JsonValue& object, const char* key) const {
    const JsonValue* value = object.find(key);
    if (!value) invalid(std::string("it has no '") + key + "'");
    if (!value->is_string()) {
      invalid(std::string("'") + key + "' must be a string, found " + value->kind_name());
    }
    return value->text();
  }

  CheckpointPart read_part(const JsonValue& item) const {
    if (!item.is_object()) invalid("each entry of 'parts' must be an object, found " + std::string(item.kind_name()));
    CheckpointPart part;
    part.file = string_field(item, "file");
    // A crafted manifest must not make kiln read outside the checkpoint.
    if (!is_valid_part_name(part.file) || part.file == kManifestFile) {
      invalid("part file name '" + part.file + "' is not a plain file name");
    }
    std::string kind = string_field(item, "kind");
    if (kind == "tensors") {
      part.kind = CheckpointPartKind::kTensors;
      if (!part.file.ends_with(kTensorsSuffix)) invalid("tensor part '" + part.file + "' must end in .safetensors");
    } else if (kind == "text") {
      part.kind = CheckpointPartKind::kText;
    } else {
      invalid("part '" + part.file + "' has kind '" + kind + "', expected 'tensors' or 'text'");
    }
    const JsonValue* size = item.find("size");
    auto bytes = size ? size->as_uint64() : std::nullopt;
    if (!bytes) invalid("part '" + part.file + "' needs a non-negative integer 'size'");
    part.size = *bytes;
    part.sha256 = string_field(item, "sha256");
    bool hex = part.sha256.size() == 64 && std::all_of(part.sha256.begin(), part.sha256.end(), [](char c) {
                 return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
               });
    if (!hex) invalid("part '" + part.file + "' has sha256 '" + part.sha256 + "', expected 64 lowercase hex digits");
    return part;
  }

  std::filesystem::path dir_, path_;
  Env& env_;
};

std::string tensor_part_name(const std::string& file) { return file.substr(0, file.size() - kTensorsSuffix.size()); }

}  // namespace

CheckpointManifest verify_checkpoint(const std::filesystem::path& dir, Env& env) {
  CheckpointManifest manifest = ManifestReader(dir, env).read();
  // Sizes first: cheap, and "truncated" is a clearer diagnosis than a hash.
  for (const CheckpointPart& part : manifest.parts) {
    const std::filesystem::path path = dir / part.file;
    std::optional<FileInfo> info = env.stat(path);
    if (!info || info->is_directory) {
      throw IoError("checkpoint '" + dir.string() + "' is incomplete: part '" + part.file +
                    "' listed in checkpoint.json is missing");
    }
    if (info->size != part.size) {
      throw IoError("'" + path.string() + "' is " + (info->size < part.size ? "truncated" : "damaged") +
                    ": checkpoint.json says " + std::to_string(part.size) + " bytes, found " +
                    std::to_string(info->size));
    }
  }
  for (const CheckpointPart& part : manifest.parts) {
    const std::filesystem::path path = dir / part.file;
    std::string found = sha256_file_hex(path, env);
    if (found != part.sha256) {
      throw IoError("'" + path.string() + "' is corrupt: its SHA-256 is " + found + ", but checkpoint.json recorded " +
                    part.sha256);
    }
  }
  return manifest;
}

Checkpoint load_checkpoint(const std::filesystem::path& where, Env& env) {
  std::optional<std::filesystem::path> dir = find_checkpoint(where, env);
  if (!dir) {
    throw IoError("no checkpoint at '" + where.string() +
                  "': expected a checkpoint directory (holding checkpoint.json), a checkpoint root holding a "
                  "'last' file, or <root>/last or <root>/latest");
  }
  Checkpoint checkpoint;
  checkpoint.dir_ = *dir;
  checkpoint.manifest_ = verify_checkpoint(*dir, env);
  for (const CheckpointPart& part : checkpoint.manifest_.parts) {
    if (part.kind == CheckpointPartKind::kTensors) {
      checkpoint.tensors_[tensor_part_name(part.file)] = load_safetensors(*dir / part.file, env);
    } else {
      checkpoint.texts_[part.file] = env.read_file(*dir / part.file);
    }
  }
  return checkpoint;
}

void Checkpoint::missing(const std::string& what, const std::string& name) const {
  std::string tensors, texts;
  for (const auto& [part, contents] : tensors_) tensors += (tensors.empty() ? "" : ", ") + part;
  for (const auto& [part, text] : texts_) texts += (texts.empty() ? "" : ", ") + part;
  throw Error("checkpoint '" + dir_.string() + "' has no " + what + " part '" + name + "' (tensor parts: " +
              (tensors.empty() ? "none" : tensors) + "; text parts: " + (texts.empty() ? "none" : texts) + ")");
}

const TensorMap& Checkpoint::tensors(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) missing("tensor", name);
  return it->second.tensors;
}

const SafetensorsMetadata& Checkpoint::tensors_metadata(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) missing("tensor", name);
  return it->second.metadata;
}

const std::string& Checkpoint::text(const std::string& name) const {
  auto it = texts_.find(name);
  if (it == texts_.end()) missing("text", name);
  return it->second;
}

}  // namespace kiln::train
