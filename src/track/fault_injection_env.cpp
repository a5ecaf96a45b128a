#include "kiln/track/fault_injection_env.h"

#include <cstring>

#include "kiln/error.h"

namespace kiln {
namespace {

// Paths are compared after lexical normalisation, so "a/b" and "a/./b/" are
// the same entry.
std::filesystem::path norm(const std::filesystem::path& path) {
  std::filesystem::path out = path.lexically_normal();
  if (!out.has_filename() && out.has_parent_path() && out != out.root_path()) out = out.parent_path();
  return out;
}

std::filesystem::path parent_of(const std::filesystem::path& path) {
  std::filesystem::path parent = norm(path).parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// True when `path` is `dir` or lies below it.
bool is_within(const std::filesystem::path& path, const std::filesystem::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

}  // namespace

// Counts appends and syncs for the power-loss model and the full disk.
class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv& env, std::unique_ptr<WritableFile> base)
      : env_(env), base_(std::move(base)), path_(norm(base_->path())) {}

  void append(std::string_view data) override {
    env_.begin("append " + path_.string() + " (" + std::to_string(data.size()) + " bytes)");
    std::size_t index = env_.appends_++;
    if (env_.fail_append_at_ && index >= *env_.fail_append_at_) {
      if (index == *env_.fail_append_at_ && env_.fail_partial_bytes_ > 0) {
        std::string_view part = data.substr(0, std::min(data.size(), env_.fail_partial_bytes_));
        base_->append(part);
        env_.files_[path_].written += part.size();
      }
      throw IoError("cannot write '" + path_.string() + "': " + std::strerror(env_.fail_errno_));
    }
    base_->append(data);
    env_.files_[path_].written += data.size();
  }

  void sync() override {
    env_.begin("sync " + path_.string());
    base_->sync();
    // Files are renamed only after they are closed, so path_ is still their name.
    if (auto it = env_.files_.find(path_); it != env_.files_.end()) it->second.synced = it->second.written;
  }

  void close() override {
    env_.begin("close " + path_.string());
    base_->close();
  }

  const std::filesystem::path& path() const override { return base_->path(); }

 private:
  FaultInjectionEnv& env_;
  std::unique_ptr<WritableFile> base_;
  std::filesystem::path path_;
};

namespace {

class CrashCheckingSequentialFile final : public SequentialFile {
 public:
  CrashCheckingSequentialFile(const FaultInjectionEnv& env, std::unique_ptr<SequentialFile> base)
      : env_(env), base_(std::move(base)) {}
  std::size_t read(char* buffer, std::size_t size) override {
    if (env_.crashed()) throw SimulatedCrash("simulated crash: read after the crash");
    return base_->read(buffer, size);
  }
  const std::filesystem::path& path() const override { return base_->path(); }

 private:
  const FaultInjectionEnv& env_;
  std::unique_ptr<SequentialFile> base_;
};

}  // namespace

void FaultInjectionEnv::begin(const std::string& description) {
  check_alive();
  if (crash_at_ && ops_.size() == *crash_at_) {
    crashed_ = true;
    throw SimulatedCrash("simulated crash before operation #" + std::to_string(ops_.size()) + " (" + description + ")");
  }
  ops_.push_back(description);
}

void FaultInjectionEnv::check_alive() const {
  if (crashed_) throw SimulatedCrash("simulated crash: operation after the crash");
}

std::unique_ptr<WritableFile> FaultInjectionEnv::open(const std::filesystem::path& path, bool append) {
  std::filesystem::path key = norm(path);
  begin(std::string(append ? "open for append " : "create ") + key.string());
  std::optional<FileInfo> before = base_.stat(key);
  auto file = append ? base_.new_appendable_file(path) : base_.new_writable_file(path);
  if (!before) pending_.push_back({PendingEntry::Kind::kCreateFile, {}, key});
  // Data that was there before this Env touched the file counts as durable;
  // truncation loses it for good. A file reopened for append keeps its state.
  if (!append || !before) {
    files_[key] = FileState{};
  } else if (!files_.count(key)) {
    files_[key] = FileState{before->size, before->size};
  }
  return std::make_unique<FaultWritableFile>(*this, std::move(file));
}

std::unique_ptr<WritableFile> FaultInjectionEnv::new_writable_file(const std::filesystem::path& path) {
  return open(path, false);
}

std::unique_ptr<WritableFile> FaultInjectionEnv::new_appendable_file(const std::filesystem::path& path) {
  return open(path, true);
}

std::unique_ptr<SequentialFile> FaultInjectionEnv::new_sequential_file(const std::filesystem::path& path) {
  check_alive();
  return std::make_unique<CrashCheckingSequentialFile>(*this, base_.new_sequential_file(path));
}

void FaultInjectionEnv::sync_dir(const std::filesystem::path& dir) {
  begin("sync_dir " + norm(dir).string());
  base_.sync_dir(dir);
  std::filesystem::path key = norm(dir);
  std::vector<PendingEntry> still;
  for (PendingEntry& entry : pending_) {
    if (parent_of(entry.to) == key) entry.to_durable = true;
    if (entry.kind != PendingEntry::Kind::kRename || parent_of(entry.from) == key) entry.from_durable = true;
    if (!(entry.to_durable && entry.from_durable)) still.push_back(std::move(entry));
  }
  pending_ = std::move(still);
}

void FaultInjectionEnv::rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::path src = norm(from), dst = norm(to);
  begin("rename " + src.string() + " -> " + dst.string());
  std::optional<std::string> replaced;
  if (auto info = base_.stat(dst); info && !info->is_directory) replaced = base_.read_file(dst);
  base_.rename(from, to);
  forget_tracked(dst);
  move_tracked(src, dst);
  pending_.push_back({PendingEntry::Kind::kRename, src, dst, std::move(replaced)});
}

void FaultInjectionEnv::remove_file(const std::filesystem::path& path) {
  begin("remove " + norm(path).string());
  base_.remove_file(path);
  forget_tracked(norm(path));
}

void FaultInjectionEnv::remove_dir(const std::filesystem::path& dir) {
  begin("remove_dir " + norm(dir).string());
  base_.remove_dir(dir);
  forget_tracked(norm(dir));
}

bool FaultInjectionEnv::create_dir(const std::filesystem::path& dir) {
  begin("create_dir " + norm(dir).string());
  bool created = base_.create_dir(dir);
  if (created) pending_.push_back({PendingEntry::Kind::kCreateDir, {}, norm(dir)});
  return created;
}

std::vector<std::string> FaultInjectionEnv::list_dir(const std::filesystem::path& dir) {
  check_alive();
  return base_.list_dir(dir);
}

std::optional<FileInfo> FaultInjectionEnv::stat(const std::filesystem::path& path) {
  check_alive();
  return base_.stat(path);
}

std::chrono::system_clock::time_point FaultInjectionEnv::now() {
  check_alive();
  return base_.now();
}

std::uint32_t FaultInjectionEnv::random32() {
  check_alive();
  return base_.random32();
}

void FaultInjectionEnv::move_tracked(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::map<std::filesystem::path, FileState> moved;
  for (auto it = files_.begin(); it != files_.end();) {
    if (is_within(it->first, from)) {
      std::filesystem::path rest = it->first.lexically_relative(from);
      moved[rest == "." ? to : norm(to / rest)] = it->second;
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [path, state] : moved) files_[path] = state;
}

void FaultInjectionEnv::forget_tracked(const std::filesystem::path& path) {
  for (auto it = files_.begin(); it != files_.end();) {
    it = is_within(it->first, path) ? files_.erase(it) : std::next(it);
  }
}

void FaultInjectionEnv::drop_unsynced_data() {
  // Newest first, so a rename out of a fresh directory is undone before the
  // directory itself is.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    switch (it->kind) {
      case PendingEntry::Kind::kCreateFile:
        if (base_.exists(it->to)) base_.remove_file(it->to);
        forget_tracked(it->to);
        break;
      case PendingEntry::Kind::kCreateDir:
        base_.remove_all(it->to);
        forget_tracked(it->to);
        break;
      case PendingEntry::Kind::kRename:
        if (base_.exists(it->to)) {
          base_.rename(it->to, it->from);
          move_tracked(it->to, it->from);
          if (it->replaced) base_.write_file(it->to, *it->replaced);
        }
        break;
    }
  }
  pending_.clear();
  for (auto& [path, state] : files_) {
    if (state.written == state.synced || !base_.exists(path)) continue;
    std::string data = base_.read_file(path);
    data.resize(std::min<std::uint64_t>(data.size(), state.synced));
    base_.write_file(path, data);
    state.written = state.synced;
  }
}

}  // namespace kiln
