// Config errors: one or more diagnostics, each naming key, source and problem.
//
// Config code collects independent problems into a Diagnostics list and throws
// once, so a user sees every typo in one run instead of fixing them one by one.
// ConfigError exits with code 2.
#pragma once

#include <string>
#include <vector>

#include "kiln/config/source.h"
#include "kiln/error.h"

namespace kiln::config {

struct Diagnostic {
  std::string key;      // full key path ("optimizer.lr", "trainer.callbacks[0]"); may be empty
  Source source;        // where the offending value (or the reference to it) was written
  std::string message;  // what was found and what was expected
  std::string hint;     // optional: "did you mean 'optimizer.lr'?"

  // "<source>: error: <key>: <message>\n  hint: <hint>"
  std::string str() const;
};

class ConfigError : public kiln::Error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  explicit ConfigError(Diagnostic diagnostic) : ConfigError(std::vector<Diagnostic>{std::move(diagnostic)}) {}

  const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Collects diagnostics from independent checks; throw_if_any() throws one
// ConfigError with all of them.
class Diagnostics {
 public:
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void add(const std::string& key, const Source& source, const std::string& message, const std::string& hint = {}) {
    items_.push_back(Diagnostic{key, source, message, hint});
  }
  // Runs fn; a ConfigError it throws is recorded instead of propagated.
  template <class Fn>
  void collect(Fn&& fn) {
    try {
      fn();
    } catch (const ConfigError& e) {
      for (const auto& d : e.diagnostics()) items_.push_back(d);
    }
  }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // Removes and returns the diagnostics added since size() was `mark`, so a
  // caller that works out of order can put them back in order.
  std::vector<Diagnostic> take_since(std::size_t mark) {
    std::vector<Diagnostic> out(items_.begin() + static_cast<std::ptrdiff_t>(mark), items_.end());
    items_.resize(mark);
    return out;
  }
  void throw_if_any() const {
    if (!items_.empty()) throw ConfigError(items_);
  }

 private:
  std::vector<Diagnostic> items_;
};

// Nearest candidates to `word` by edit distance (case-insensitive), best
// first, at most `limit`, only those close enough to be plausible typos.
std::vector<std::string> closest_matches(const std::string& word, const std::vector<std::string>& candidates,
                                         std::size_t limit = 3);

// "did you mean 'a'?" / "did you mean 'a' or 'b'?" or "" when none are close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace kiln::config
