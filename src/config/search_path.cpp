#include "kiln/config/search_path.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace kiln::config {
namespace fs = std::filesystem;
namespace {

class DirectoryRoot final : public ConfigRoot {
 public:
  explicit DirectoryRoot(std::string directory) : directory_(std::move(directory)) {}

  std::string name() const override { return directory_; }

  std::optional<std::string> read(const std::string& relative) const override {
    std::ifstream in(fs::path(directory_) / relative, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string display_path(const std::string& relative) const override {
    return (fs::path(directory_) / relative).lexically_normal().string();
  }

  bool has_group(const std::string& group) const override {
    std::error_code ec;
    return fs::is_directory(fs::path(directory_) / group, ec);
  }

  std::vector<std::string> options(const std::string& group) const override {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(fs::path(directory_) / group, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".yaml") out.push_back(it->path().stem().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> groups() const override {
    std::set<std::string> out;
    std::error_code ec;
    fs::path root(directory_);
    for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".yaml") {
        fs::path parent = it->path().parent_path().lexically_relative(root);
        if (!parent.empty() && parent != ".") out.insert(parent.generic_string());
      }
    }
    return {out.begin(), out.end()};
  }

 private:
  std::string directory_;
};

class EmbeddedRoot final : public ConfigRoot {
 public:
  EmbeddedRoot(std::span<const EmbeddedFile> files, std::string name) : files_(files), name_(std::move(name)) {}

  std::string name() const override { return name_; }

  std::optional<std::string> read(const std::string& relative) const override {
    for (const auto& f : files_)
      if (relative == f.path) return std::string(f.content);
    return std::nullopt;
  }

  std::string display_path(const std::string& relative) const override { return "<" + name_ + ">/" + relative; }

  bool has_group(const std::string& group) const override {
    std::string prefix = group + "/";
    for (const auto& f : files_)
      if (std::string_view(f.path).starts_with(prefix)) return true;
    return false;
  }

  std::vector<std::string> options(const std::string& group) const override {
    std::vector<std::string> out;
    std::string prefix = group.empty() ? "" : group + "/";
    for (const auto& f : files_) {
      std::string_view path(f.path);
      if (!path.starts_with(prefix) || !path.ends_with(".yaml")) continue;
      std::string_view rest = path.substr(prefix.size());
      if (rest.find('/') != std::string_view::npos) continue;
      out.emplace_back(rest.substr(0, rest.size() - 5));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> groups() const override {
    std::set<std::string> out;
    for (const auto& f : files_) {
      std::string_view path(f.path);
      auto slash = path.rfind('/');
      if (slash != std::string_view::npos && path.ends_with(".yaml")) out.emplace(path.substr(0, slash));
    }
    return {out.begin(), out.end()};
  }

 private:
  std::span<const EmbeddedFile> files_;
  std::string name_;
};

}  // namespace

std::unique_ptr<ConfigRoot> directory_root(const std::string& directory) {
  return std::make_unique<DirectoryRoot>(directory);
}

std::unique_ptr<ConfigRoot> embedded_root(std::span<const EmbeddedFile> files, std::string name) {
  return std::make_unique<EmbeddedRoot>(files, std::move(name));
}

std::optional<FoundFile> SearchPath::find(const std::string& relative) const {
  for (const auto& root : roots_) {
    if (auto text = root->read(relative))
      return FoundFile{std::move(*text), root->display_path(relative), root->name()};
  }
  return std::nullopt;
}

bool SearchPath::has_group(const std::string& group) const {
  return std::any_of(roots_.begin(), roots_.end(), [&](const auto& r) { return r->has_group(group); });
}

std::vector<std::string> SearchPath::options(const std::string& group) const {
  std::set<std::string> out;
  for (const auto& root : roots_)
    for (auto& o : root->options(group)) out.insert(std::move(o));
  return {out.begin(), out.end()};
}

std::vector<std::string> SearchPath::groups() const {
  std::set<std::string> out;
  for (const auto& root : roots_)
    for (auto& g : root->groups()) out.insert(std::move(g));
  return {out.begin(), out.end()};
}

}  // namespace kiln::config
