// ${calc:...}: a recursive-descent evaluator over the expression text. Each
// parse level evaluates as it goes (no tree), which is all a one-shot
// expression needs. Errors unwind with a local exception type that never
// leaves calc_evaluate.
#include "calc.h"

#include <cfenv>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

namespace kiln::config {
namespace {

struct Value {
  bool is_int = true;
  std::int64_t i = 0;
  double f = 0.0;

  static Value of_int(std::int64_t v) { return Value{true, v, 0.0}; }
  static Value of_float(double v) { return Value{false, 0, v}; }
  double as_double() const { return is_int ? static_cast<double>(i) : f; }
};

struct Failure {
  CalcError error;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || is_digit(c); }

// Python's float floor division and modulo (Objects/floatobject.c float_divmod).
void python_float_divmod(double vx, double wx, double& floordiv, double& mod) {
  mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, vx / wx);
  }
}

constexpr int kMaxDepth = 200;

class Calculator {
 public:
  explicit Calculator(std::string_view s) : s_(s) {}

  Value run() {
    Value v = expression();
    skip_ws();
    if (pos_ < s_.size()) {
      if (s_[pos_] == ')') fail(pos_, "unexpected ')' without a matching '('");
      fail(pos_, "unexpected " + describe_here() + " after a complete expression; expected an operator");
    }
    return v;
  }

 private:
  [[noreturn]] void fail(std::size_t pos, std::string message) { throw Failure{CalcError{pos, std::move(message)}}; }

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  std::string describe_here() const {
    if (pos_ >= s_.size()) return "the end of the expression";
    std::size_t end = pos_;
    if (is_name_char(s_[pos_]))
      while (end < s_.size() && is_name_char(s_[end])) ++end;
    else
      end = pos_ + 1;
    return "'" + std::string(s_.substr(pos_, end - pos_)) + "'";
  }

  // Matches an operator at pos_ (after whitespace), not a longer one that
  // starts with it: "*" does not match "**".
  bool take(std::string_view op, const char* not_followed_by = nullptr) {
    skip_ws();
    if (s_.substr(pos_, op.size()) != op) return false;
    if (not_followed_by && pos_ + op.size() < s_.size() && s_[pos_ + op.size()] == *not_followed_by) return false;
    op_pos_ = pos_;
    pos_ += op.size();
    return true;
  }

  Value expression() {
    Value left = term();
    while (true) {
      if (take("+")) {
        std::size_t at = op_pos_;
        left = add(left, term(), at, false);
      } else if (take("-")) {
        std::size_t at = op_pos_;
        left = add(left, term(), at, true);
      } else {
        return left;
      }
    }
  }

  Value term() {
    Value left = factor();
    while (true) {
      if (take("//")) {
        std::size_t at = op_pos_;
        left = floor_divide(left, factor(), at);
      } else if (take("/")) {
        std::size_t at = op_pos_;
        left = divide(left, factor(), at);
      } else if (take("*", "*")) {
        std::size_t at = op_pos_;
        left = multiply(left, factor(), at);
      } else if (take("%")) {
        std::size_t at = op_pos_;
        left = modulo(left, factor(), at);
      } else {
        return left;
      }
    }
  }

  // Every recursion (parentheses, unary signs, '**', function arguments)
  // passes through here, so this one bound keeps the stack shallow.
  Value factor() {
    if (++depth_ > kMaxDepth)
      fail(pos_, "the expression nests more than " + std::to_string(kMaxDepth) + " levels deep");
    Value v = signed_factor();
    --depth_;
    return v;
  }

  Value signed_factor() {
    if (take("-")) {
      std::size_t at = op_pos_;
      Value v = factor();
      if (!v.is_int) return Value::of_float(-v.f);
      if (v.i == std::numeric_limits<std::int64_t>::min())
        fail(at, "integer overflow: the result does not fit in 64 bits");
      return Value::of_int(-v.i);
    }
    if (take("+")) return factor();
    return power();
  }

  // ** is right-associative and binds its right operand as a factor, so
  // 2**-1 == 0.5 and 2**3**2 == 512, as in Python.
  Value power() {
    Value base = primary();
    if (take("**")) {
      std::size_t at = op_pos_;
      return raise(base, factor(), at);
    }
    return base;
  }

  Value primary() {
    skip_ws();
    if (pos_ >= s_.size()) fail(pos_, "expected a number, found the end of the expression");
    char c = s_[pos_];
    if (c == '(') {
      std::size_t open = pos_++;
      Value v = expression();
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ')') fail(open, "the '(' here is never closed");
      ++pos_;
      return v;
    }
    if (is_digit(c) || (c == '.' && pos_ + 1 < s_.size() && is_digit(s_[pos_ + 1]))) return number();
    if (is_name_char(c)) return name();
    fail(pos_, "expected a number, found " + describe_here());
  }

  Value number() {
    std::size_t start = pos_;
    bool is_float = false;
    auto digits = [&] {
      while (pos_ < s_.size() &&
             (is_digit(s_[pos_]) || (s_[pos_] == '_' && pos_ + 1 < s_.size() && is_digit(s_[pos_ + 1]))))
        ++pos_;
    };
    digits();
    if (pos_ < s_.size() && s_[pos_] == '.') {
      is_float = true;
      ++pos_;
      digits();
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      std::size_t e = pos_++;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !is_digit(s_[pos_]))
        fail(e, "malformed exponent in the number '" + std::string(s_.substr(start, pos_ - start)) + "'");
      digits();
      is_float = true;
    }
    if (pos_ < s_.size() && is_name_char(s_[pos_])) {
      std::size_t end = pos_;
      while (end < s_.size() && is_name_char(s_[end])) ++end;
      fail(start, "malformed number '" + std::string(s_.substr(start, end - start)) + "'");
    }
    std::string text;
    for (char ch : s_.substr(start, pos_ - start))
      if (ch != '_') text += ch;
    if (!is_float) {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size())
        fail(start, "the integer " + text + " does not fit in 64 bits");
      return Value::of_int(v);
    }
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range) {
      auto e = text.find_first_of("eE");
      v = (e != std::string::npos && e + 1 < text.size() && text[e + 1] == '-')
              ? 0.0
              : std::numeric_limits<double>::infinity();
    } else if (ec != std::errc()) {
      fail(start, "malformed number '" + text + "'");
    }
    return Value::of_float(v);
  }

  Value name() {
    std::size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    std::string_view id = s_.substr(start, pos_ - start);
    if (id == "inf") return Value::of_float(std::numeric_limits<double>::infinity());
    if (id == "nan") return Value::of_float(std::numeric_limits<double>::quiet_NaN());
    bool known = id == "min" || id == "max" || id == "abs" || id == "round" || id == "floor" || id == "ceil";
    if (!known) {
      if (id == "True" || id == "False" || id == "None" || id == "true" || id == "false" || id == "null")
        fail(start, "calc works on numbers, found '" + std::string(id) + "'");
      fail(start, "unknown name '" + std::string(id) + "'; calc knows min, max, abs, round, floor and ceil");
    }
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] != '(')
      fail(start, std::string(id) + " is a function: write " + std::string(id) + "(...)");
    ++pos_;
    std::vector<Value> args;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ')') {
      ++pos_;
    } else {
      while (true) {
        args.push_back(expression());
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == ')') {
          ++pos_;
          break;
        }
        fail(pos_, "expected ',' or ')' in the arguments of " + std::string(id) + ", found " + describe_here());
      }
    }
    return call(id, args, start);
  }

  Value call(std::string_view id, const std::vector<Value>& args, std::size_t at) {
    std::string name(id);
    auto arity = [&](std::size_t lo, std::size_t hi) {
      if (args.size() < lo || args.size() > hi) {
        std::string expected = lo == hi ? std::to_string(lo) : std::to_string(lo) + " or " + std::to_string(hi);
        fail(at, name + "() takes " + expected + " argument" + (hi == 1 ? "" : "s") + ", got " +
                     std::to_string(args.size()));
      }
    };
    if (id == "min" || id == "max") {
      if (args.empty()) fail(at, name + "() needs at least one argument");
      Value best = args[0];
      for (std::size_t k = 1; k < args.size(); ++k) {
        bool less = compare_less(args[k], best);
        bool greater = compare_less(best, args[k]);
        if (id == "min" ? less : greater) best = args[k];
      }
      return best;
    }
    if (id == "abs") {
      arity(1, 1);
      const Value& v = args[0];
      if (!v.is_int) return Value::of_float(std::fabs(v.f));
      if (v.i == std::numeric_limits<std::int64_t>::min())
        fail(at, "integer overflow: the result does not fit in 64 bits");
      return Value::of_int(v.i < 0 ? -v.i : v.i);
    }
    if (id == "floor" || id == "ceil") {
      arity(1, 1);
      const Value& v = args[0];
      if (v.is_int) return v;
      return to_int(id == "floor" ? std::floor(v.f) : std::ceil(v.f), at);
    }
    // round(x): to the nearest int, halves to even. round(x, n): n digits
    // after the point (before it when negative); an int stays an int.
    arity(1, 2);
    const Value& v = args[0];
    if (args.size() == 1) {
      if (v.is_int) return v;
      return to_int(round_half_even(v.f), at);
    }
    if (!args[1].is_int) fail(at, "round()'s second argument must be an int");
    std::int64_t n = args[1].i;
    if (v.is_int) {
      if (n >= 0) return v;
      if (n < -18) return Value::of_int(0);
      std::int64_t scale = 1;
      for (std::int64_t k = 0; k < -n; ++k) scale *= 10;
      std::int64_t q = v.i / scale, r = v.i % scale;
      if (r < 0) {
        r += scale;
        q -= 1;
      }
      if (2 * r > scale || (2 * r == scale && (q % 2 != 0))) q += 1;
      std::int64_t out = 0;
      if (__builtin_mul_overflow(q, scale, &out)) fail(at, "integer overflow: the result does not fit in 64 bits");
      return Value::of_int(out);
    }
    if (!std::isfinite(v.f)) return v;
    if (n >= 0) {
      // printf rounds the exact binary value correctly, as Python's round does.
      if (n > 330) return v;
      char buf[512];
      std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(n), v.f);
      return Value::of_float(std::strtod(buf, nullptr));
    }
    if (n < -330) return Value::of_float(std::copysign(0.0, v.f));
    double scale = std::pow(10.0, static_cast<double>(-n));
    return Value::of_float(round_half_even(v.f / scale) * scale);
  }

  static double round_half_even(double x) {
    double r = std::round(x);  // halves away from zero
    if (std::fabs(x - std::trunc(x)) == 0.5) r = 2.0 * std::round(x / 2.0);
    return r;
  }

  Value to_int(double d, std::size_t at) {
    if (std::isnan(d)) fail(at, "cannot convert nan to an integer");
    if (std::isinf(d)) fail(at, "cannot convert infinity to an integer");
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
      fail(at, "integer overflow: the result does not fit in 64 bits");
    return Value::of_int(static_cast<std::int64_t>(d));
  }

  static bool compare_less(const Value& a, const Value& b) {
    if (a.is_int && b.is_int) return a.i < b.i;
    return a.as_double() < b.as_double();
  }

  Value float_result(double v, std::size_t at) {
    if (std::isinf(v)) fail(at, "float overflow: the result is too large");
    return Value::of_float(v);
  }

  Value add(const Value& a, const Value& b, std::size_t at, bool subtract) {
    if (a.is_int && b.is_int) {
      std::int64_t out = 0;
      bool overflow = subtract ? __builtin_sub_overflow(a.i, b.i, &out) : __builtin_add_overflow(a.i, b.i, &out);
      if (overflow) fail(at, "integer overflow: the result does not fit in 64 bits");
      return Value::of_int(out);
    }
    return Value::of_float(subtract ? a.as_double() - b.as_double() : a.as_double() + b.as_double());
  }

  Value multiply(const Value& a, const Value& b, std::size_t at) {
    if (a.is_int && b.is_int) {
      std::int64_t out = 0;
      if (__builtin_mul_overflow(a.i, b.i, &out)) fail(at, "integer overflow: the result does not fit in 64 bits");
      return Value::of_int(out);
    }
    return Value::of_float(a.as_double() * b.as_double());
  }

  bool is_zero(const Value& v) const { return v.is_int ? v.i == 0 : v.f == 0.0; }

  Value divide(const Value& a, const Value& b, std::size_t at) {
    if (is_zero(b)) fail(at, "division by zero");
    return float_result(a.as_double() / b.as_double(), at);
  }

  Value floor_divide(const Value& a, const Value& b, std::size_t at) {
    if (is_zero(b)) fail(at, "division by zero");
    if (a.is_int && b.is_int) {
      if (a.i == std::numeric_limits<std::int64_t>::min() && b.i == -1)
        fail(at, "integer overflow: the result does not fit in 64 bits");
      std::int64_t q = a.i / b.i;
      if ((a.i % b.i != 0) && ((a.i < 0) != (b.i < 0))) --q;
      return Value::of_int(q);
    }
    double floordiv = 0, mod = 0;
    python_float_divmod(a.as_double(), b.as_double(), floordiv, mod);
    return Value::of_float(floordiv);
  }

  Value modulo(const Value& a, const Value& b, std::size_t at) {
    if (is_zero(b)) fail(at, "division by zero (modulo)");
    if (a.is_int && b.is_int) {
      if (b.i == -1) return Value::of_int(0);
      std::int64_t r = a.i % b.i;
      if (r != 0 && ((r < 0) != (b.i < 0))) r += b.i;
      return Value::of_int(r);
    }
    double floordiv = 0, mod = 0;
    python_float_divmod(a.as_double(), b.as_double(), floordiv, mod);
    return Value::of_float(mod);
  }

  Value raise(const Value& base, const Value& exponent, std::size_t at) {
    if (base.is_int && exponent.is_int && exponent.i >= 0) {
      std::int64_t result = 1, b = base.i, e = exponent.i;
      while (e > 0) {
        if (e & 1)
          if (__builtin_mul_overflow(result, b, &result))
            fail(at, "integer overflow: the result does not fit in 64 bits");
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(b, b, &b)) fail(at, "integer overflow: the result does not fit in 64 bits");
      }
      return Value::of_int(result);
    }
    double x = base.as_double(), y = exponent.as_double();
    if (x == 0.0 && y < 0) fail(at, "zero cannot be raised to a negative power");
    if (x < 0 && std::isfinite(y) && y != std::floor(y))
      fail(at, "a negative number cannot be raised to a fractional power");
    return float_result(std::pow(x, y), at);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;
  int depth_ = 0;  // factor() recursion
};

}  // namespace

bool calc_evaluate(std::string_view expr, Node& result, CalcError& error) {
  try {
    Value v = Calculator(expr).run();
    result = v.is_int ? Node::integer(v.i) : Node::floating(v.f);
    return true;
  } catch (const Failure& failure) {
    error = failure.error;
    return false;
  }
}

}  // namespace kiln::config
