// Where configs are looked up: an ordered list of config roots.
//
// A root is a directory (a project's `configs/`, each `--config-dir`) or the
// set of configs embedded in the kiln binary at build time. Lookups go down
// the list and the first root holding a file wins, so a project's own
// directories, placed first, shadow kiln's shipped configs file by file.
// Listing a group's options takes the union over all roots.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kiln::config {

// One file of the configs embedded in the binary (see cmake/KilnEmbedConfigs.cmake).
struct EmbeddedFile {
  const char* path;     // relative, "model/cnn.yaml"
  const char* content;  // the file's text
};

// The configs shipped with kiln (configs/ at build time). Defined by the
// generated source linked into kiln_shipped_configs.
std::span<const EmbeddedFile> shipped_configs();

// One root of the search path.
class ConfigRoot {
 public:
  virtual ~ConfigRoot() = default;
  // How the root is shown to users: "configs" or "kiln (embedded)".
  virtual std::string name() const = 0;
  // Text of the file at `relative` ("model/cnn.yaml"); nullopt when absent.
  virtual std::optional<std::string> read(const std::string& relative) const = 0;
  // The path errors name for `relative`: "configs/model/cnn.yaml".
  virtual std::string display_path(const std::string& relative) const = 0;
  // True when `group` ("model", "model/encoder") is a directory here.
  virtual bool has_group(const std::string& group) const = 0;
  // Option names (file stems of *.yaml) directly in `group`, sorted.
  virtual std::vector<std::string> options(const std::string& group) const = 0;
  // Every group (directory holding at least one .yaml, recursively), sorted.
  virtual std::vector<std::string> groups() const = 0;
};

std::unique_ptr<ConfigRoot> directory_root(const std::string& directory);
std::unique_ptr<ConfigRoot> embedded_root(std::span<const EmbeddedFile> files, std::string name);

struct FoundFile {
  std::string text;
  std::string display_path;  // for sources and errors
  std::string root_name;     // which root it came from
};

class SearchPath {
 public:
  SearchPath() = default;
  SearchPath(SearchPath&&) = default;
  SearchPath& operator=(SearchPath&&) = default;

  // Appends a root (later roots have lower precedence).
  void add(std::unique_ptr<ConfigRoot> root) { roots_.push_back(std::move(root)); }

  // The first root's copy of `relative`, or nullopt.
  std::optional<FoundFile> find(const std::string& relative) const;
  bool has_group(const std::string& group) const;
  std::vector<std::string> options(const std::string& group) const;  // union, sorted
  std::vector<std::string> groups() const;                           // union, sorted
  const std::vector<std::unique_ptr<ConfigRoot>>& roots() const { return roots_; }

 private:
  std::vector<std::unique_ptr<ConfigRoot>> roots_;
};

}  // namespace kiln::config
