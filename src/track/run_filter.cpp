// The --where / --sort compiler: a lexer and a recursive-descent parser that
// return SQL fragments directly. There is no syntax tree: every construct
// maps to one SQL shape, so there is nothing to rewrite before emitting.
#include "kiln/track/run_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "kiln/config/error.h"
#include "kiln/error.h"

namespace kiln::track {
namespace {

// Beyond this many nested parentheses or `not`s the input is not a filter a
// person wrote; refusing it keeps the recursion (and SQLite's expression
// depth limit of 1000) far away.
constexpr int kMaxNesting = 100;

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string to_upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// Bytes >= 0x80 count as key characters so UTF-8 metric names need no quoting.
bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80) != 0; }
bool is_key_char(char c) {
  return is_word_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '.';
}
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// ---- where the input came from, for error messages

class Source {
 public:
  Source(std::string_view flag, std::string_view text) : flag_(flag), text_(text) {}
  std::string_view text() const { return text_; }

  // 1-based, in characters: a UTF-8 string literal before the error must not
  // push the caret right.
  std::size_t column(std::size_t offset) const {
    std::size_t column = 1;
    for (std::size_t i = 0; i < offset && i < text_.size(); ++i)
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    return column;
  }

  // "--where: <what> at column N[; hint]", then the expression and a caret.
  [[noreturn]] void fail(std::size_t offset, const std::string& what, const std::string& hint = "") const {
    std::size_t col = column(offset);
    std::string line(text_);
    // One line, so the caret lines up: tabs and newlines become spaces.
    std::replace_if(
        line.begin(), line.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
    std::string message = std::string(flag_) + ": " + what + " at column " + std::to_string(col);
    if (!hint.empty()) message += "; " + hint;
    message += "\n  " + line + "\n  " + std::string(col - 1, ' ') + "^";
    throw UsageError(message);
  }

 private:
  std::string_view flag_;
  std::string_view text_;
};

// ---- tokens

enum class TokenKind { kWord, kNumber, kString, kSymbol, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;         // strings decoded, words with a quoted key unquoted, else as written
  bool quoted_key = false;  // the key part was in backticks: never a keyword
  std::size_t offset = 0;   // in bytes
  std::size_t length = 0;
};

class Lexer {
 public:
  explicit Lexer(const Source& source) : source_(source), text_(source.text()) {}

  std::vector<Token> tokenize() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (pos_ == text_.size()) break;
      tokens.push_back(next_token());
    }
    tokens.push_back(Token{TokenKind::kEnd, "", false, text_.size(), 0});
    return tokens;
  }

 private:
  Token next_token() {
    std::size_t start = pos_;
    char c = text_[pos_];
    Token token;
    if (starts_number()) {
      token = number();
    } else if (is_word_start(c)) {
      token = word();
    } else if (c == '\'' || c == '"') {
      token = Token{TokenKind::kString, quoted(c, "string")};
    } else {
      token = symbol();
    }
    token.offset = start;
    token.length = pos_ - start;
    return token;
  }

  // A sign is part of a number only directly before a digit, so the sort
  // list's "-metrics.x" lexes as '-' and a word.
  bool starts_number() const {
    std::size_t i = pos_;
    if (text_[i] == '-' || text_[i] == '+') ++i;
    if (i < text_.size() && text_[i] == '.') ++i;
    return i < text_.size() && is_digit(text_[i]);
  }

  Token number() {
    std::size_t start = pos_;
    if (text_[pos_] == '-' || text_[pos_] == '+') ++pos_;
    skip_digits();
    if (peek_is('.')) ++pos_, skip_digits();
    if (peek_is('e') || peek_is('E')) {
      std::size_t mark = pos_++;
      if (peek_is('+') || peek_is('-')) ++pos_;
      if (pos_ < text_.size() && is_digit(text_[pos_]))
        skip_digits();
      else
        pos_ = mark;  // "1e" is not an exponent; the check below reports it
    }
    // "1.2.3", "2024abc": a number run into letters is a typo or unquoted text.
    if (pos_ < text_.size() && (is_key_char(text_[pos_]) && text_[pos_] != '-')) {
      while (pos_ < text_.size() && is_key_char(text_[pos_])) ++pos_;
      std::string bad(text_.substr(start, pos_ - start));
      source_.fail(start, "invalid number '" + bad + "'", "quote it if it is text: '" + bad + "'");
    }
    return Token{TokenKind::kNumber, std::string(text_.substr(start, pos_ - start))};
  }

  // A field name; after "prefix." a key may be quoted (`my metric`, or
  // "my metric" as MLflow allows) to hold any character.
  Token word() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && is_key_char(text_[pos_])) ++pos_;
    Token token{TokenKind::kWord, std::string(text_.substr(start, pos_ - start))};
    bool after_dot = token.text.back() == '.' && token.text.find('.') == token.text.size() - 1;
    if (after_dot && (peek_is('`') || peek_is('"'))) {
      token.text += quoted(text_[pos_], "quoted key");
      token.quoted_key = true;
    }
    return token;
  }

  // Reads from the opening quote to the closing one, decoding escapes.
  std::string quoted(char quote, const std::string& what) {
    std::size_t open = pos_++;
    std::string out;
    while (true) {
      if (pos_ >= text_.size())
        source_.fail(open, "unterminated " + what, std::string("no closing ") + quote + " before the end");
      char c = text_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) continue;  // reported as unterminated on the next turn
      out += escape(text_[pos_++]);
    }
  }

  char escape(char c) const {
    switch (c) {
      case '\\':
      case '\'':
      case '"':
      case '`': return c;
      case 'n': return '\n';
      case 't': return '\t';
      default:
        source_.fail(pos_ - 2, std::string("unknown escape '\\") + c + "'",
                     "escape only \\\\, \\', \\\", \\`, \\n and \\t");
    }
  }

  Token symbol() {
    static constexpr std::string_view kTwo[] = {"==", "!=", "<>", "<=", ">="};
    for (std::string_view op : kTwo) {
      if (text_.substr(pos_, 2) == op) {
        pos_ += 2;
        return Token{TokenKind::kSymbol, std::string(op)};
      }
    }
    std::string_view rest = text_.substr(pos_);
    if (rest.starts_with("&&") || rest.starts_with("||"))
      source_.fail(pos_, "unexpected '" + std::string(rest.substr(0, 2)) + "'",
                   rest[0] == '&' ? "write 'and'" : "write 'or'");
    char c = text_[pos_];
    if (std::string_view("=<>(),-+").find(c) == std::string_view::npos) {
      source_.fail(pos_, "unexpected character '" + std::string(1, c) + "'",
                   c == '!' ? "write 'not', or '!=' to compare" : "");
    }
    ++pos_;
    return Token{TokenKind::kSymbol, std::string(1, c)};
  }

  void skip_digits() {
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
  }
  bool peek_is(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  const Source& source_;
  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---- fields

enum class ValueKind { kNumber, kText, kAny };

struct Attribute {
  std::string_view name;
  std::string_view sql;
  ValueKind kind;
  bool alias;  // MLflow's spelling: accepted, not suggested
};

// Optional text columns hold '' for "none"; NULLIF makes that a missing
// value, so `name IS NULL` finds unnamed runs and unnamed runs sort last.
constexpr Attribute kAttributes[] = {
    {"id", "runs.id", ValueKind::kText, false},
    {"name", "NULLIF(runs.name, '')", ValueKind::kText, false},
    {"experiment", "experiments.name", ValueKind::kText, false},
    {"status", "runs.status", ValueKind::kText, false},
    {"error", "NULLIF(runs.error, '')", ValueKind::kText, false},
    {"user", "NULLIF(runs.user, '')", ValueKind::kText, false},
    {"host", "NULLIF(runs.host, '')", ValueKind::kText, false},
    {"git_commit", "NULLIF(runs.git_commit, '')", ValueKind::kText, false},
    {"sweep_id", "NULLIF(runs.sweep_id, '')", ValueKind::kText, false},
    {"start_time", "runs.start_time", ValueKind::kNumber, false},
    {"end_time", "runs.end_time", ValueKind::kNumber, false},
    {"heartbeat", "runs.heartbeat", ValueKind::kNumber, false},
    // A running run's duration so far: its last heartbeat is its latest sign of life.
    {"duration", "(COALESCE(runs.end_time, runs.heartbeat) - runs.start_time)", ValueKind::kNumber, false},
    {"run_id", "runs.id", ValueKind::kText, true},
    {"run_name", "NULLIF(runs.name, '')", ValueKind::kText, true},
    {"user_id", "NULLIF(runs.user, '')", ValueKind::kText, true},
};

std::vector<std::string> attribute_names() {
  std::vector<std::string> names;
  for (const Attribute& a : kAttributes)
    if (!a.alias) names.emplace_back(a.name);
  return names;
}

std::string attribute_list() {
  std::string out;
  for (const std::string& name : attribute_names()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

struct Field {
  SqlFragment value;
  ValueKind kind = ValueKind::kAny;
  bool is_status = false;
  std::string name;  // as written, for messages
};

struct Prefix {
  std::string_view name;  // canonical
  std::string_view table;
  ValueKind kind;
};

// Singular spellings are MLflow's; both are accepted.
std::optional<Prefix> find_prefix(std::string_view word) {
  static constexpr std::pair<std::string_view, Prefix> kPrefixes[] = {
      {"metrics", {"metrics", "latest_metrics", ValueKind::kNumber}},
      {"metric", {"metrics", "latest_metrics", ValueKind::kNumber}},
      {"params", {"params", "params", ValueKind::kAny}},
      {"param", {"params", "params", ValueKind::kAny}},
      {"tags", {"tags", "tags", ValueKind::kText}},
      {"tag", {"tags", "tags", ValueKind::kText}},
  };
  for (const auto& [spelling, prefix] : kPrefixes)
    if (equals_ignore_case(word, spelling)) return prefix;
  return std::nullopt;
}

const Attribute* find_attribute(std::string_view name) {
  for (const Attribute& a : kAttributes)
    if (a.name == name) return &a;
  return nullptr;
}

[[noreturn]] void fail_unknown_attribute(const Source& source, const Token& token, bool value_position) {
  const std::string& word = token.text;
  std::string guess = config::did_you_mean(word, attribute_names());
  std::string hint;
  if (value_position) {
    hint = (guess.empty() ? "" : guess + " ") + "quote it if it is text: '" + word + "'";
  } else {
    // A bare metric name is the likeliest mistake, so say so even next to a guess.
    std::string prefixed =
        "a metric, param or tag needs its prefix: metrics." + word + ", params." + word + " or tags." + word;
    hint = guess.empty() ? prefixed + "; the attributes are " + attribute_list() : guess + " (" + prefixed + ")";
  }
  source.fail(token.offset, "unknown attribute '" + word + "'", hint);
}

Field keyed_field(const Source& source, const Token& token, const Prefix& prefix, std::string key) {
  std::size_t key_offset = token.offset + token.text.find('.') + 1;
  if (key.empty()) {
    std::string singular(prefix.name.substr(0, prefix.name.size() - 1));
    source.fail(key_offset, "expected a " + singular + " key after '" + token.text + "'");
  }
  Field field;
  field.value.sql = "(SELECT value FROM " + std::string(prefix.table) + " WHERE run_id = runs.id AND key = ?)";
  field.value.bindings.emplace_back(std::move(key));
  field.kind = prefix.kind;
  return field;
}

// Resolves a word to a field. value_position: the word stands where a value
// was expected, so an unknown bare word is most likely unquoted text.
Field resolve_field(const Source& source, const Token& token, bool value_position = false) {
  Field field;
  std::size_t dot = token.text.find('.');
  std::string head = token.text.substr(0, dot);
  if (dot != std::string::npos) {
    std::string key = token.text.substr(dot + 1);
    if (auto prefix = find_prefix(head)) {
      field = keyed_field(source, token, *prefix, std::move(key));
    } else if (equals_ignore_case(head, "attributes") || equals_ignore_case(head, "attribute")) {
      Token attribute = token;
      attribute.text = key;
      attribute.offset += dot + 1;
      field = resolve_field(source, attribute, value_position);
    } else {
      std::string hint = config::did_you_mean(head, {"metrics", "params", "tags", "attributes"});
      source.fail(token.offset, "unknown field prefix '" + head + ".'",
                  hint.empty() ? "fields are metrics.<key>, params.<key>, tags.<key> or an attribute" : hint);
    }
  } else if (const Attribute* a = find_attribute(token.text)) {
    field.value.sql = a->sql;
    field.kind = a->kind;
    field.is_status = a->name == "status";
  } else {
    fail_unknown_attribute(source, token, value_position);
  }
  field.name = std::string(source.text().substr(token.offset, token.length));
  return field;
}

void append(SqlFragment& to, const SqlFragment& from) {
  to.sql += from.sql;
  to.bindings.insert(to.bindings.end(), from.bindings.begin(), from.bindings.end());
}

// ---- the parser shared by both languages

class Parser {
 public:
  Parser(std::string_view flag, std::string_view text) : source_(flag, text), tokens_(Lexer(source_).tokenize()) {}

 protected:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool at_end() const { return peek().kind == TokenKind::kEnd; }
  bool is_word(const Token& t, std::string_view word) const {
    return t.kind == TokenKind::kWord && !t.quoted_key && equals_ignore_case(t.text, word);
  }
  bool is_symbol(const Token& t, std::string_view symbol) const {
    return t.kind == TokenKind::kSymbol && t.text == symbol;
  }
  bool accept_word(std::string_view word) { return is_word(peek(), word) && (next(), true); }
  bool accept_symbol(std::string_view symbol) { return is_symbol(peek(), symbol) && (next(), true); }

  // The token as the user wrote it, quoted once: strings keep their quotes.
  std::string quote(const Token& t) const {
    std::string written(source_.text().substr(t.offset, t.length));
    return t.kind == TokenKind::kString ? written : "'" + written + "'";
  }
  // " after '<previous token>'", or "" at the start.
  std::string after_previous() const { return pos_ == 0 ? "" : " after " + quote(tokens_[pos_ - 1]); }

  [[noreturn]] void fail_here(const std::string& what, const std::string& hint = "") const {
    source_.fail(peek().offset, what, hint);
  }

  Source source_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

// ---- --where

class FilterCompiler : Parser {
 public:
  using Parser::Parser;

  SqlFragment compile() {
    if (at_end()) return {"1", {}};
    SqlFragment out = or_expr();
    if (is_symbol(peek(), ")")) fail_here("unexpected ')'", "there is no '(' to close");
    if (!at_end()) fail_here("expected 'and', 'or' or the end" + after_previous());
    return out;
  }

 private:
  // Counts nesting for the lifetime of one recursive call.
  struct Nesting {
    explicit Nesting(FilterCompiler& c) : c_(c) {
      if (++c_.depth_ > kMaxNesting) c_.fail_here("nested too deeply", "at most 100 levels of '(' and 'not'");
    }
    ~Nesting() { --c_.depth_; }
    FilterCompiler& c_;
  };

  SqlFragment join(std::vector<SqlFragment> parts, std::string_view op) {
    if (parts.size() == 1) return std::move(parts.front());
    SqlFragment out{"(", {}};
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out.sql += op;
      append(out, parts[i]);
    }
    out.sql += ")";
    return out;
  }

  SqlFragment or_expr() {
    std::vector<SqlFragment> parts{and_expr()};
    while (accept_word("or")) parts.push_back(and_expr());
    return join(std::move(parts), " OR ");
  }

  SqlFragment and_expr() {
    std::vector<SqlFragment> parts{not_expr()};
    while (accept_word("and")) parts.push_back(not_expr());
    return join(std::move(parts), " AND ");
  }

  SqlFragment not_expr() {
    if (!accept_word("not")) return primary();
    Nesting nesting(*this);
    SqlFragment out{"(NOT ", {}};
    append(out, not_expr());
    out.sql += ")";
    return out;
  }

  SqlFragment primary() {
    if (!is_symbol(peek(), "(")) return predicate();
    Nesting nesting(*this);
    std::size_t open = next().offset;
    SqlFragment inner = or_expr();
    if (!accept_symbol(")")) {
      if (at_end())
        fail_here("expected ')'", "the '(' at column " + std::to_string(source_.column(open)) + " is not closed");
      fail_here("expected 'and', 'or' or ')'" + after_previous());
    }
    return inner;
  }

  bool is_reserved(const Token& t) const {
    for (std::string_view word : {"and", "or", "not", "like", "ilike", "in", "is", "null", "true", "false"})
      if (is_word(t, word)) return true;
    return false;
  }
  bool is_field_word(const Token& t) const { return t.kind == TokenKind::kWord && !is_reserved(t); }

  Field field() {
    const Token& t = peek();
    if (is_field_word(t)) return resolve_field(source_, next());
    bool literal = t.kind == TokenKind::kNumber || t.kind == TokenKind::kString || is_word(t, "true") ||
                   is_word(t, "false") || is_word(t, "null");
    fail_here("expected a field (metrics.<key>, params.<key>, tags.<key> or an attribute)" + after_previous(),
              literal ? "the field comes first, as in metrics.val/acc > 0.9" : "");
  }

  // Each comparison is wrapped in COALESCE(..., 0) so it is true or false,
  // never SQL's unknown: then a missing value fails `!=` too, and `not`
  // selects exactly the runs its operand does not.
  SqlFragment predicate() {
    Field lhs = field();
    const Token& op = peek();
    if (is_comparison(op)) return comparison(lhs, next());
    if (is_word(op, "is")) return null_test(lhs);
    bool negated = is_word(op, "not");
    if (negated) next();
    if (is_word(peek(), "like") || is_word(peek(), "ilike")) return like(lhs, negated);
    if (is_word(peek(), "in")) return in_list(lhs, negated);
    if (negated) fail_here("expected 'like', 'ilike' or 'in' after 'not'");
    fail_here("expected a comparison after '" + lhs.name + "'",
              "one of =, !=, <, <=, >, >=, [not] like, [not] ilike, [not] in, is [not] null");
  }

  bool is_comparison(const Token& t) const {
    for (std::string_view op : {"=", "==", "!=", "<>", "<", "<=", ">", ">="})
      if (is_symbol(t, op)) return true;
    return false;
  }

  SqlFragment comparison(const Field& lhs, const Token& op) {
    std::string sql_op = op.text == "==" ? "=" : op.text == "<>" ? "!=" : op.text;
    SqlFragment out{"COALESCE(", {}};
    append(out, lhs.value);
    out.sql += " " + sql_op + " ";
    if (is_field_word(peek())) {
      append(out, resolve_field(source_, next(), /*value_position=*/true).value);
    } else {
      out.sql += "?";
      out.bindings.push_back(literal(lhs));
    }
    out.sql += ", 0)";
    return out;
  }

  SqlFragment null_test(const Field& lhs) {
    next();  // is
    bool negated = accept_word("not");
    if (!accept_word("null")) fail_here("expected 'null'" + after_previous());
    SqlFragment out = lhs.value;
    out.sql += negated ? " IS NOT NULL" : " IS NULL";
    return out;
  }

  SqlFragment like(const Field& lhs, bool negated) {
    bool case_sensitive = is_word(peek(), "like");
    if (lhs.kind == ValueKind::kNumber)
      fail_here("cannot use '" + peek().text + "' on a number",
                lhs.name + " is a number; compare it with =, <, > or in");
    next();
    if (peek().kind != TokenKind::kString) fail_here("expected a quoted pattern" + after_previous());
    SqlFragment out{"COALESCE(", {}};
    append(out, lhs.value);
    // SQLite's LIKE ignores ASCII case; GLOB is its case-sensitive sibling.
    out.sql += std::string(negated ? " NOT" : "") + (case_sensitive ? " GLOB ?, 0)" : " LIKE ?, 0)");
    std::string pattern = next().text;
    out.bindings.emplace_back(case_sensitive ? like_to_glob(pattern) : pattern);
    return out;
  }

  // % and _ become * and ?; GLOB's own wildcards are bracketed to stay literal.
  static std::string like_to_glob(const std::string& pattern) {
    std::string out;
    for (char c : pattern) {
      switch (c) {
        case '%': out += '*'; break;
        case '_': out += '?'; break;
        case '*': out += "[*]"; break;
        case '?': out += "[?]"; break;
        case '[': out += "[[]"; break;
        default: out += c;
      }
    }
    return out;
  }

  SqlFragment in_list(const Field& lhs, bool negated) {
    next();  // in
    if (!accept_symbol("(")) fail_here("expected '('" + after_previous());
    SqlFragment out{"COALESCE(", {}};
    append(out, lhs.value);
    out.sql += negated ? " NOT IN (" : " IN (";
    do {
      out.sql += out.sql.back() == '(' ? "?" : ", ?";
      out.bindings.push_back(literal(lhs));
    } while (accept_symbol(","));
    if (!accept_symbol(")")) fail_here("expected ',' or ')'" + after_previous());
    out.sql += "), 0)";
    return out;
  }

  // A literal, converted to what the field holds.
  ParamValue literal(const Field& lhs) {
    const Token& t = peek();
    if (is_word(t, "null")) fail_here("cannot compare with null", "write 'is null' or 'is not null'");
    std::optional<ParamValue> value = parse_literal(t);
    if (!value) fail_here("expected a value" + after_previous());
    if (lhs.kind == ValueKind::kNumber && !std::holds_alternative<std::int64_t>(*value) &&
        !std::holds_alternative<double>(*value))
      fail_here("expected a number" + after_previous(), lhs.name + " is a number");
    next();
    if (lhs.kind != ValueKind::kText) return *value;
    // Tags and text attributes hold text: compare with the literal as written,
    // so `tags.epochs = 10` matches the tag "10".
    std::string text = t.kind == TokenKind::kString ? t.text : to_lower_if_word(t);
    return lhs.is_status ? ParamValue(status_name(t, text)) : ParamValue(text);
  }

  std::string to_lower_if_word(const Token& t) const {
    std::string text = t.text;
    if (t.kind == TokenKind::kWord)
      for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  std::optional<ParamValue> parse_literal(const Token& t) const {
    if (t.kind == TokenKind::kString) return ParamValue(t.text);
    if (is_word(t, "true")) return ParamValue(true);
    if (is_word(t, "false")) return ParamValue(false);
    if (t.kind == TokenKind::kNumber) return parse_number(t);
    return std::nullopt;
  }

  ParamValue parse_number(const Token& t) const {
    std::string_view digits = t.text;
    if (digits.front() == '+') digits.remove_prefix(1);  // from_chars takes no '+'
    const char* end = digits.data() + digits.size();
    if (digits.find_first_of(".eE") == std::string_view::npos) {
      std::int64_t i = 0;
      if (std::from_chars(digits.data(), end, i).ec == std::errc()) return i;
      // Too large for int64: still a number, as a double.
    }
    double d = 0;
    if (std::from_chars(digits.data(), end, d).ec != std::errc())
      source_.fail(t.offset, "number '" + t.text + "' is out of range");
    return d;
  }

  // Statuses are stored upper-case; accept any case, refuse typos (a typo
  // would silently match nothing).
  std::string status_name(const Token& t, const std::string& text) const {
    std::string upper = to_upper(text);
    if (parse_run_status(upper)) return upper;
    std::vector<std::string> names;
    for (RunStatus s : {RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFailed, RunStatus::kKilled})
      names.emplace_back(run_status_name(s));
    std::string hint = config::did_you_mean(upper, names);
    source_.fail(t.offset, "unknown status " + quote(t),
                 hint.empty() ? "the statuses are RUNNING, FINISHED, FAILED and KILLED" : hint);
  }

  int depth_ = 0;
};

// ---- --sort

constexpr const char* kDefaultOrder = "runs.start_time DESC, runs.id DESC";

class SortCompiler : Parser {
 public:
  using Parser::Parser;

  SqlFragment compile() {
    if (at_end()) return {kDefaultOrder, {}};
    SqlFragment out;
    do {
      append(out, item());
      out.sql += ", ";
    } while (accept_symbol(","));
    if (!at_end()) fail_here("expected ',' or the end" + after_previous());
    // Ties fall back to the default order, ending in the unique id, so the
    // same query always lists runs in the same order.
    out.sql += kDefaultOrder;
    return out;
  }

 private:
  SqlFragment item() {
    bool descending = accept_symbol("-");
    bool signed_item = descending || accept_symbol("+");
    if (peek().kind != TokenKind::kWord) {
      bool empty = !signed_item && (is_symbol(peek(), ",") || (at_end() && pos_ > 0));
      if (empty) fail_here("empty sort key", "remove the extra ','");
      fail_here("expected a sort key" + after_previous(),
                "an attribute (" + attribute_list() + "), metrics.<key>, params.<key> or tags.<key>");
    }
    Field field = resolve_field(source_, next());
    if (is_word(peek(), "asc") || is_word(peek(), "desc")) {
      if (signed_item)
        fail_here(quote(peek()) + " on a key that already has a sign", "use one: '-name' or 'name desc'");
      descending = is_word(next(), "desc");
    }
    // NULLs last in both directions: `x IS NULL` is 0 for present values.
    SqlFragment out = field.value;
    out.sql += " IS NULL, ";
    append(out, field.value);
    if (descending) out.sql += " DESC";
    return out;
  }
};

}  // namespace

SqlFragment compile_run_filter(std::string_view expression) { return FilterCompiler("--where", expression).compile(); }

SqlFragment compile_run_sort(std::string_view sort) { return SortCompiler("--sort", sort).compile(); }

}  // namespace kiln::track
