// range() values. Float ranges reproduce Hydra's FloatRange digit for digit:
// it converts start, stop and step to Python Decimals (exactly) and adds the
// step repeatedly in Decimal's default context (28 significant digits,
// round-half-even), converting each value to float. Neither double nor long
// double arithmetic gives the same results (0.1*3 lies exactly between two
// doubles), so this file carries the small piece of decimal arithmetic that
// takes.
#include "sweep_range.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace kiln::config::sweep_range {
namespace {

constexpr std::size_t kPrecision = 28;  // Python's decimal.getcontext().prec

// digits * 10^exponent, sign apart. Zero has no digits.
struct Decimal {
  bool negative = false;
  std::string digits;  // most significant first, no leading zeros
  int exponent = 0;
};

void normalize(Decimal& d) {
  std::size_t lead = d.digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    d = Decimal{};
    return;
  }
  d.digits.erase(0, lead);
  std::size_t last = d.digits.find_last_not_of('0');
  d.exponent += static_cast<int>(d.digits.size() - 1 - last);
  d.digits.resize(last + 1);
}

// The exact value of a double (Python's Decimal(float) is exact). glibc's
// printf prints exact digits at any precision; 770 covers every double.
Decimal exact(double x) {
  char buf[800];
  std::snprintf(buf, sizeof buf, "%.770e", x);
  Decimal d;
  const char* p = buf;
  if (*p == '-') {
    d.negative = true;
    ++p;
  }
  for (; *p && *p != 'e'; ++p)
    if (*p != '.') d.digits += *p;
  int exp10 = *p == 'e' ? std::atoi(p + 1) : 0;
  d.exponent = exp10 - static_cast<int>(d.digits.size() - 1);
  normalize(d);
  return d;
}

Decimal exact(const Node& n) {
  if (n.kind() == Kind::kFloat) return exact(n.as_float());
  Decimal d;
  std::int64_t v = n.as_int();
  d.negative = v < 0;
  d.digits = std::to_string(v);
  if (d.negative) d.digits.erase(0, 1);
  normalize(d);
  return d;
}

// Both magnitudes as digit strings over a common exponent.
void align(const Decimal& a, const Decimal& b, std::string& x, std::string& y) {
  int e = std::min(a.exponent, b.exponent);
  x = a.digits + std::string(static_cast<std::size_t>(a.exponent - e), '0');
  y = b.digits + std::string(static_cast<std::size_t>(b.exponent - e), '0');
  std::size_t width = std::max(x.size(), y.size());
  x.insert(0, width - x.size(), '0');
  y.insert(0, width - y.size(), '0');
}

int compare_magnitude(const Decimal& a, const Decimal& b) {
  std::string x, y;
  align(a, b, x, y);
  return x.compare(y) < 0 ? -1 : (x == y ? 0 : 1);
}

int compare(const Decimal& a, const Decimal& b) {
  bool a_zero = a.digits.empty(), b_zero = b.digits.empty();
  if (a_zero && b_zero) return 0;
  if (a.negative != b.negative || a_zero || b_zero) {
    int sa = a_zero ? 0 : (a.negative ? -1 : 1);
    int sb = b_zero ? 0 : (b.negative ? -1 : 1);
    return sa < sb ? -1 : (sa > sb ? 1 : 0);
  }
  int m = compare_magnitude(a, b);
  return a.negative ? -m : m;
}

void round_to_precision(Decimal& d) {
  if (d.digits.size() <= kPrecision) return;
  std::string kept = d.digits.substr(0, kPrecision);
  std::string rest = d.digits.substr(kPrecision);
  d.exponent += static_cast<int>(rest.size());
  bool up = rest[0] > '5' ||
            (rest[0] == '5' && (rest.find_first_not_of('0', 1) != std::string::npos || (kept.back() - '0') % 2 == 1));
  if (up) {
    std::size_t i = kept.size();
    while (i > 0 && kept[i - 1] == '9') kept[--i] = '0';
    if (i == 0) {
      kept.insert(0, 1, '1');  // 999... carried into one more digit; its last zero goes
    } else {
      ++kept[i - 1];
    }
  }
  d.digits = kept;
  normalize(d);
}

// a + b, exact, then rounded as Decimal's context does.
Decimal add(const Decimal& a, const Decimal& b) {
  if (a.digits.empty() || b.digits.empty()) {
    Decimal out = a.digits.empty() ? b : a;  // still rounded: 0 + Decimal(0.1) has 28 digits
    round_to_precision(out);
    return out;
  }
  std::string x, y;
  align(a, b, x, y);
  Decimal out;
  out.exponent = std::min(a.exponent, b.exponent);
  if (a.negative == b.negative) {
    out.negative = a.negative;
    int carry = 0;
    out.digits.assign(x.size() + 1, '0');
    for (std::size_t i = x.size(); i-- > 0;) {
      int s = (x[i] - '0') + (y[i] - '0') + carry;
      out.digits[i + 1] = static_cast<char>('0' + s % 10);
      carry = s / 10;
    }
    out.digits[0] = static_cast<char>('0' + carry);
  } else {
    if (x < y) std::swap(x, y);
    out.negative = compare_magnitude(a, b) >= 0 ? a.negative : b.negative;
    int borrow = 0;
    out.digits.assign(x.size(), '0');
    for (std::size_t i = x.size(); i-- > 0;) {
      int s = (x[i] - '0') - (y[i] - '0') - borrow;
      borrow = s < 0;
      out.digits[i] = static_cast<char>('0' + (s + 10) % 10);
    }
  }
  normalize(out);
  round_to_precision(out);
  return out;
}

// Python's float(Decimal): correctly rounded, as glibc's strtod is.
double to_double(const Decimal& d) {
  if (d.digits.empty()) return 0.0;
  std::string text = (d.negative ? "-" : "") + d.digits + "e" + std::to_string(d.exponent);
  return std::strtod(text.c_str(), nullptr);
}

}  // namespace

std::vector<Node> values(const Node& start, const Node& stop, const Node& step, std::size_t limit,
                         const Source& source) {
  std::vector<Node> out;
  if (start.kind() == Kind::kInt && stop.kind() == Kind::kInt && step.kind() == Kind::kInt) {
    // 128 bits: no int64 bound or step can overflow here.
    const __int128 first = start.as_int(), end = stop.as_int(), by = step.as_int();
    for (__int128 v = first; (by > 0 ? v < end : v > end) && out.size() <= limit; v += by)
      out.push_back(Node::integer(static_cast<std::int64_t>(v), source));
    return out;
  }
  Decimal value = exact(start);
  const Decimal end = exact(stop), by = exact(step);
  const int direction = by.negative ? -1 : 1;
  while (compare(value, end) == -direction && out.size() <= limit) {
    out.push_back(Node::floating(to_double(value), source));
    value = add(value, by);
  }
  return out;
}

}  // namespace kiln::config::sweep_range
