// A reader over the whole text, mirroring python-dotenv's parser (which is a
// sequence of anchored regexes, hence the "read_*" steps below), so that
// multi-line quoted values and the exact comment rules behave the same.
#include "kiln/config/dotenv.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "kiln/config/error.h"

namespace kiln::config {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_inline_space(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }

struct LineError {
  std::size_t position;
  std::string message;
};

class Reader {
 public:
  Reader(std::string_view text, std::shared_ptr<const std::string> origin) : s_(text), origin_(std::move(origin)) {}

  std::vector<DotenvEntry> parse_all(Diagnostics& diagnostics) {
    std::vector<DotenvEntry> entries;
    while (true) {
      while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
      if (pos_ >= s_.size()) break;
      std::size_t start = pos_;
      try {
        DotenvEntry entry;
        entry.line = line_of(start);
        if (parse_binding(entry)) entries.push_back(std::move(entry));
      } catch (const LineError& e) {
        diagnostics.add("", source_at(e.position), e.message,
                        "lines are KEY=VALUE, # comments, or export KEY=VALUE; quote values with spaces or '#'");
        while (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') ++pos_;  // skip the rest of the line
      }
    }
    return entries;
  }

 private:
  [[noreturn]] void fail(std::size_t position, std::string message) { throw LineError{position, std::move(message)}; }

  int line_of(std::size_t position) {
    // Lines are counted incrementally: positions only move forward.
    for (; counted_ < position && counted_ < s_.size(); ++counted_) {
      if (s_[counted_] == '\n' || (s_[counted_] == '\r' && (counted_ + 1 >= s_.size() || s_[counted_ + 1] != '\n')))
        ++line_, line_start_ = counted_ + 1;
    }
    return line_;
  }
  Source source_at(std::size_t position) {
    int line = line_of(position);
    return Source::file(origin_, line, static_cast<int>(position - line_start_) + 1);
  }

  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void skip_inline_space() {
    while (pos_ < s_.size() && is_inline_space(s_[pos_])) ++pos_;
  }

  // False for a comment line (no entry).
  bool parse_binding(DotenvEntry& entry) {
    // "export" counts only when followed by spaces: "export=1" sets export.
    if (s_.substr(pos_, 6) == "export" && pos_ + 6 < s_.size() && is_inline_space(s_[pos_ + 6])) {
      pos_ += 6;
      skip_inline_space();
    }
    bool has_key = true;
    if (at('#')) {
      has_key = false;
    } else if (at('\'')) {
      std::size_t close = s_.find('\'', pos_ + 1);
      if (close == std::string_view::npos || close == pos_ + 1) fail(pos_, "unterminated quoted key");
      entry.key = std::string(s_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
    } else {
      std::size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] != '=' && s_[pos_] != '#' && !is_space(s_[pos_])) ++pos_;
      if (pos_ == start) fail(pos_, "expected a variable name before '='");
      entry.key = std::string(s_.substr(start, pos_ - start));
    }
    skip_inline_space();
    if (has_key && at('=')) {
      ++pos_;
      skip_inline_space();
      entry.value = parse_value();
    }
    // An optional comment, then the end of the line.
    skip_inline_space();
    if (at('#'))
      while (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') ++pos_;
    skip_inline_space();
    if (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') {
      std::size_t end = pos_;
      while (end < s_.size() && s_[end] != '\n' && s_[end] != '\r') ++end;
      std::string rest(s_.substr(pos_, end - pos_));
      if (!has_key || !entry.value) fail(pos_, "unexpected '" + rest + "'; expected '=' after '" + entry.key + "'");
      fail(pos_, "unexpected '" + rest + "' after the value of " + entry.key +
                     " (quote a value that contains spaces; a comment needs a space before '#')");
    }
    return has_key;
  }

  std::string parse_value() {
    if (at('\'') || at('"')) {
      char quote = s_[pos_];
      std::size_t open = pos_;
      std::size_t close = closing_quote(open);
      if (close == std::string_view::npos)
        fail(open, std::string("unterminated quoted value: the ") + quote + " has no closing " + quote);
      std::string_view body = s_.substr(open + 1, close - open - 1);
      pos_ = close + 1;
      return quote == '\'' ? decode_single(body) : decode_double(body);
    }
    if (pos_ >= s_.size() || at('\n') || at('\r')) return "";
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') ++pos_;
    std::string value(s_.substr(start, pos_ - start));
    // python-dotenv: re.sub(r"\s+#.*", "", value).rstrip()
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!is_space(value[i])) continue;
      std::size_t j = i;
      while (j < value.size() && is_space(value[j])) ++j;
      if (j < value.size() && value[j] == '#') {
        value.resize(i);
        break;
      }
      i = j - 1;
    }
    while (!value.empty() && is_space(value.back())) value.pop_back();
    return value;
  }

  // python-dotenv's '((?:\\'|[^'])*)': the value ends at the first quote
  // not preceded by a backslash, or failing that (by backtracking) at the
  // last quote of the text.
  std::size_t closing_quote(std::size_t open) const {
    char quote = s_[open];
    std::size_t last = std::string_view::npos;
    for (std::size_t i = open + 1; i < s_.size(); ++i) {
      if (s_[i] != quote) continue;
      if (s_[i - 1] != '\\' || i - 1 == open) return i;
      last = i;
    }
    return last;
  }

  static std::string decode_single(std::string_view body) {
    std::string out;
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] == '\\' && i + 1 < body.size() && (body[i + 1] == '\\' || body[i + 1] == '\'')) {
        out += body[++i];
      } else {
        out += body[i];
      }
    }
    return out;
  }

  static std::string decode_double(std::string_view body) {
    std::string out;
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '\\' || i + 1 >= body.size()) {
        out += body[i];
        continue;
      }
      char c = body[i + 1];
      char decoded = 0;
      switch (c) {
        case '\\': decoded = '\\'; break;
        case '\'': decoded = '\''; break;
        case '"': decoded = '"'; break;
        case 'a': decoded = '\a'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'v': decoded = '\v'; break;
        default: break;
      }
      if (decoded) {
        out += decoded;
        ++i;
      } else {
        out += '\\';
      }
    }
    return out;
  }

  std::string_view s_;
  std::shared_ptr<const std::string> origin_;
  std::size_t pos_ = 0;
  std::size_t counted_ = 0;
  std::size_t line_start_ = 0;
  int line_ = 1;
};

// python-dotenv's POSIX expansion: ${NAME} and ${NAME:-default}; a name
// that is unset and has no default gives "". `lookup` says what NAME is.
template <class Lookup>
std::string expand(const std::string& value, Lookup lookup) {
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t open = value.find("${", i);
    if (open == std::string::npos) break;
    std::size_t name_end = open + 2;
    while (name_end < value.size() && value[name_end] != '}' && value[name_end] != ':') ++name_end;
    std::size_t close = std::string::npos;
    std::optional<std::string> fallback;
    if (name_end < value.size() && value[name_end] == '}') {
      close = name_end;
    } else if (value.compare(name_end, 2, ":-") == 0) {
      close = value.find('}', name_end + 2);
      if (close != std::string::npos) fallback = value.substr(name_end + 2, close - name_end - 2);
    }
    if (close == std::string::npos) {  // not a variable here; keep scanning after "$"
      out.append(value, i, open + 1 - i);
      i = open + 1;
      continue;
    }
    out.append(value, i, open - i);
    std::string name = value.substr(open + 2, name_end - open - 2);
    bool found = false;
    std::string resolved = lookup(name, found);
    out += found ? resolved : fallback.value_or("");
    i = close + 1;
  }
  out.append(value, i, std::string::npos);
  return out;
}

}  // namespace

std::vector<DotenvEntry> parse_dotenv(std::string_view text, const std::string& origin) {
  Diagnostics diagnostics;
  Reader reader(text, std::make_shared<const std::string>(origin));
  auto entries = reader.parse_all(diagnostics);
  diagnostics.throw_if_any();
  return entries;
}

std::vector<std::string> load_dotenv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw kiln::IoError("cannot read .env file '" + path + "': " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw kiln::IoError("cannot read .env file '" + path + "': " + std::strerror(errno));
  std::string text = buffer.str();
  auto entries = parse_dotenv(text, path);

  // Values are expanded in file order against the environment first, then
  // the file's earlier values (python-dotenv with override=False).
  std::map<std::string, std::optional<std::string>> file_values;
  std::vector<std::pair<std::string, std::string>> to_set;
  for (const auto& entry : entries) {
    if (!entry.value) {
      file_values[entry.key] = std::nullopt;
      continue;
    }
    std::string value = expand(*entry.value, [&](const std::string& name, bool& found) -> std::string {
      if (const char* env = std::getenv(name.c_str())) {
        found = true;
        return env;
      }
      auto it = file_values.find(name);
      if (it == file_values.end()) return {};
      found = true;
      return it->second.value_or("");
    });
    file_values[entry.key] = value;
  }

  std::vector<std::string> set;
  Diagnostics diagnostics;
  for (const auto& entry : entries) {
    auto it = file_values.find(entry.key);
    if (it == file_values.end() || !it->second) continue;
    if (std::getenv(entry.key.c_str())) continue;  // the real environment wins (and a repeated key is set once)
    if (::setenv(entry.key.c_str(), it->second->c_str(), 0) != 0) {
      diagnostics.add("", Source::file(std::make_shared<const std::string>(path), entry.line, 1),
                      "cannot set environment variable '" + entry.key + "': " + std::strerror(errno));
      continue;
    }
    set.push_back(entry.key);
  }
  diagnostics.throw_if_any();
  return set;
}

}  // namespace kiln::config
