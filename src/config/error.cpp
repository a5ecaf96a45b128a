#include "kiln/config/error.h"

#include <algorithm>
#include <cctype>

namespace kiln::config {

std::string Diagnostic::str() const {
  std::string out = source.str() + ": error: ";
  if (!key.empty()) out += key + ": ";
  out += message;
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

namespace {
std::string join_diagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.str();
  }
  if (diagnostics.size() > 1) out += "\n" + std::to_string(diagnostics.size()) + " config errors";
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      bool same =
          std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The last dotted segment, so "optimizer.lrr" is compared with "optimizer.lr"
// mostly on the part that differs.
std::string_view last_segment(const std::string& key) {
  auto dot = key.rfind('.');
  return dot == std::string::npos ? std::string_view(key) : std::string_view(key).substr(dot + 1);
}
}  // namespace

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : kiln::Error(join_diagnostics(diagnostics), ExitCode::kConfig), diagnostics_(std::move(diagnostics)) {}

std::vector<std::string> closest_matches(const std::string& word, const std::vector<std::string>& candidates,
                                         std::size_t limit) {
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    // A typo in the last segment of a long path counts as a typo, not as
    // distance from the whole path.
    std::size_t tail = edit_distance(std::string(last_segment(word)), std::string(last_segment(candidate)));
    std::size_t allowed = std::max<std::size_t>(2, last_segment(word).size() / 3);
    bool same_parent = word.substr(0, word.size() - last_segment(word).size()) ==
                       candidate.substr(0, candidate.size() - last_segment(candidate).size());
    if (d <= allowed || (same_parent && tail <= allowed)) scored.emplace_back(std::min(d, tail), candidate);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [score, candidate] : scored) {
    if (out.size() == limit) break;
    if (std::find(out.begin(), out.end(), candidate) == out.end()) out.push_back(candidate);
  }
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  auto matches = closest_matches(word, candidates);
  if (matches.empty()) return {};
  std::string out = "did you mean ";
  for (std::size_t i = 0; i < matches.size(); ++i) {
    if (i > 0) out += i + 1 == matches.size() ? " or " : ", ";
    out += "'" + matches[i] + "'";
  }
  return out + "?";
}

}  // namespace kiln::config
