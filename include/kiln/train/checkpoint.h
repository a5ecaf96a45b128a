// Checkpoints: atomic, complete, verified snapshots of a training run.
//
// Layout (the caller chooses root, typically <run dir>/checkpoints):
//
//   <root>/
//     step-00001000/              one directory per committed checkpoint
//       checkpoint.json           manifest: format, version, step, and every
//                                 part with its size and SHA-256
//       model.safetensors         tensor parts (add_tensors)
//       optimizer.safetensors
//       rng.safetensors
//       state.json                text parts (add_text): counters, data
//                                 position, callback states (caller's format)
//     step-00002000/
//     last                        "step-00002000\n": the newest commit
//     .tmp-step-00003000-3fa9c01e/   a commit in progress, or left by a crash
//
// docs/formats.md documents the files for readers outside kiln.
//
// Commit protocol (CheckpointWriter): every part is written into
// .tmp-step-<step>-<random>/ and fsynced as it is added; commit() writes
// checkpoint.json, fsyncs the temporary directory, removes stale .tmp-*
// entries of earlier crashed commits, renames the directory to step-<step>,
// fsyncs root, then replaces `last` atomically (temporary file, fsync, rename,
// fsync root) and finally prunes old checkpoints (keep_last_k). So at every
// instant — a SIGKILL or a power loss included — `last` names a complete,
// durable checkpoint: the previous one until the new one is fully on disk,
// then the new one. A failed commit (full disk, I/O error) throws
// kiln::IoError naming the path, removes its temporary directory and leaves
// `last` and every committed checkpoint untouched.
//
// Loading (load_checkpoint) verifies before it returns anything: the manifest
// format and version, then the size and SHA-256 of every part, then each
// safetensors file's own structure. A newer format version, a missing,
// truncated or corrupt part all throw kiln::IoError naming the file and what
// was expected vs found.
//
// One writer per root at a time (rank 0 writes, see DESIGN.md): a commit
// deletes every .tmp-* entry in root other than its own.
//
// Thread safety: a CheckpointWriter is used by one thread; load_checkpoint
// and the free functions are reentrant. Tensors passed to add_tensors are
// only read, during that call.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/track/env.h"
#include "kiln/train/safetensors.h"

namespace kiln::train {

// checkpoint.json's "format".
inline constexpr std::string_view kCheckpointFormat = "kiln.checkpoint";
// checkpoint.json's "version": bumped whenever a reader of the previous
// version could misread the new layout. This kiln reads 1 up to this.
inline constexpr int kCheckpointFormatVersion = 1;

// The kiln version recorded in checkpoint.json ("0.1.0").
const char* checkpoint_kiln_version();

// "step-00001234": at least 8 digits, so names sort like steps up to 10^8.
std::string checkpoint_dir_name(std::int64_t step);
// The step named by a checkpoint directory name exactly as
// checkpoint_dir_name writes it; nullopt for anything else.
std::optional<std::int64_t> parse_checkpoint_dir_name(std::string_view name);
// Whether `name` may name a checkpoint directory (CheckpointOptions::name):
// 1 to 128 characters from [A-Za-z0-9._=-], not starting with '.' or '-',
// and not "last" or "latest". ModelCheckpoint's names ("epoch=3-step=1200")
// and checkpoint_dir_name's are.
bool is_valid_checkpoint_dir_name(std::string_view name);

struct CheckpointOptions {
  // File system, clock and entropy; nullptr means Env::Default(). Must
  // outlive the writer.
  Env* env = nullptr;
  // After a commit, keep the checkpoints with the k highest steps (and
  // always the one `last` names); 0 keeps every checkpoint. Only directories
  // named like checkpoint_dir_name are pruned.
  int keep_last_k = 0;
  // The directory's name under root; empty: checkpoint_dir_name(step). Must
  // pass is_valid_checkpoint_dir_name (else the writer throws kiln::Error).
  std::string name;
};

// Writes one checkpoint. Nothing touches the disk before the first add_*.
//
//   CheckpointWriter writer(run_dir / "checkpoints", step, {.keep_last_k = 3});
//   writer.add_tensors("model", model_tensors)
//       .add_tensors("optimizer", optimizer_tensors)
//       .add_tensors("rng", rng_state_to_tensors(capture_rng_state()))
//       .add_text("state.json", state_json);
//   writer.commit();
//
// Part names: 1 to 128 characters from [A-Za-z0-9._-], not starting with
// '.', unique, never "checkpoint.json"; tensor part "model" is stored as
// "model.safetensors", text parts under their own name. A bad name, a second
// commit(), or use after a failed call throw kiln::Error.
class CheckpointWriter {
 public:
  // Throws kiln::Error when step < 0 or options.keep_last_k < 0.
  CheckpointWriter(std::filesystem::path root, std::int64_t step, CheckpointOptions options = {});
  // Removes the temporary directory of a checkpoint that was not committed.
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Writes `tensors` now as <name>.safetensors (see safetensors.h) and fsyncs it.
  CheckpointWriter& add_tensors(const std::string& name, const TensorMap& tensors,
                                const SafetensorsMetadata& metadata = {});
  // Writes `text` now as the file <name> and fsyncs it.
  CheckpointWriter& add_text(const std::string& name, std::string_view text);

  // Makes the checkpoint durable and points `last` at it (protocol above).
  // Returns <root>/<name> (step-<step> by default). An existing directory of
  // that name is replaced unless `last` names it (then kiln::Error: a resumed
  // run re-saving the step it resumed from must not put that checkpoint at
  // risk).
  std::filesystem::path commit();

  std::int64_t step() const { return step_; }

 private:
  void check_usable() const;
  void ensure_temp_dir();
  void begin_part(const std::string& file);
  void write_part(const std::string& file, const std::string& kind, const std::function<void(WritableFile&)>& body);
  void fail_safely();
  void remove_stale_temporaries();
  void prune(const std::string& keep);

  std::filesystem::path root_;
  std::int64_t step_;
  std::string name_;
  CheckpointOptions options_;
  Env& env_;
  std::filesystem::path temp_;  // empty until the first part, and after commit
  struct Part {
    std::string file, kind;
    std::uint64_t size;
    std::string sha256;
  };
  std::vector<Part> parts_;
  bool committed_ = false;
  bool failed_ = false;
};

enum class CheckpointPartKind { kTensors, kText };

struct CheckpointPart {
  std::string file;  // "model.safetensors", "state.json"
  CheckpointPartKind kind = CheckpointPartKind::kText;
  std::uint64_t size = 0;
  std::string sha256;  // 64 lowercase hex digits
};

// checkpoint.json, parsed (docs/formats.md lists the fields).
struct CheckpointManifest {
  std::string format;        // kCheckpointFormat
  int version = 0;           // <= kCheckpointFormatVersion
  std::string kiln_version;  // the kiln that wrote it
  std::string created;       // UTC, ISO 8601: "2024-03-14T09:26:53Z"
  std::int64_t step = 0;
  std::vector<CheckpointPart> parts;  // sorted by file name
};

// A loaded, verified checkpoint. Tensors are on the CPU.
class Checkpoint {
 public:
  const std::filesystem::path& dir() const { return dir_; }
  std::int64_t step() const { return manifest_.step; }
  const CheckpointManifest& manifest() const { return manifest_; }

  bool has_tensors(const std::string& name) const { return tensors_.count(name) > 0; }
  // Throws kiln::Error listing the parts there are when `name` is missing.
  const TensorMap& tensors(const std::string& name) const;
  const SafetensorsMetadata& tensors_metadata(const std::string& name) const;
  bool has_text(const std::string& name) const { return texts_.count(name) > 0; }
  const std::string& text(const std::string& name) const;

 private:
  friend Checkpoint load_checkpoint(const std::filesystem::path& where, Env& env);
  [[noreturn]] void missing(const std::string& what, const std::string& name) const;

  std::filesystem::path dir_;
  CheckpointManifest manifest_;
  std::map<std::string, SafetensorsContents> tensors_;
  std::map<std::string, std::string> texts_;
};

// Resolves `where` to a checkpoint directory, first rule that applies:
//   <root>/last      the directory the pointer file names
//   <root>/latest    the committed checkpoint with the highest step (by its
//                    manifest, so any directory name counts)
//   a directory holding checkpoint.json: itself (step-00001234, or a copy)
//   any other directory: a root, as <dir>/last
// Returns nullopt when there is nothing to resume from: `where` does not
// exist, or the root has no `last` (nothing committed yet) or, for "latest",
// no checkpoint. Throws kiln::IoError when `last` is damaged or names a
// directory that does not exist.
std::optional<std::filesystem::path> find_checkpoint(const std::filesystem::path& where, Env& env = Env::Default());

// find_checkpoint, then verify_checkpoint, then reads every part. Throws
// kiln::IoError when nothing is found or anything fails verification.
Checkpoint load_checkpoint(const std::filesystem::path& where, Env& env = Env::Default());

// Copies the checkpoint's `model` part into `module`'s parameters and
// buffers, by name (what a Trainer saved of the same Module). Throws
// kiln::IoError naming the checkpoint for a missing tensor, another shape or
// dtype, or tensors the module does not have. Defined with the Trainer's
// checkpoint code.
void load_model_part(const Checkpoint& checkpoint, torch::nn::Module& module);

// Checks checkpoint directory `dir` without loading tensors: the manifest's
// format, version and fields, then every part's size and SHA-256. Returns the
// manifest; throws kiln::IoError naming the first problem.
CheckpointManifest verify_checkpoint(const std::filesystem::path& dir, Env& env = Env::Default());

// Steps of the committed checkpoints in `root` (directories named like
// checkpoint_dir_name that hold a checkpoint.json), ascending. Empty when
// root does not exist.
std::vector<std::int64_t> list_checkpoints(const std::filesystem::path& root, Env& env = Env::Default());

}  // namespace kiln::train
