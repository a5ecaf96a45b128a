// Private: the arithmetic behind ${calc:...}.
//
// Python's arithmetic on ints and floats: + - * / // % ** with Python's
// precedence (** binds tighter than unary minus on its left: -2**2 == -4),
// parentheses, and the functions min, max, abs, round, floor, ceil. Ints
// stay ints except through '/', a negative '**' exponent, or a float
// operand; // and % floor as Python's do; round() rounds half to even.
// Ints are 64-bit: an int result that does not fit is an error rather than
// a silent wrap. inf and nan are accepted, as str() of a float can give them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kiln/config/node.h"

namespace kiln::config {

struct CalcError {
  std::size_t position = 0;  // 0-based offset of the offending token in the expression
  std::string message;       // "division by zero", "expected a number, found ')'"
};

// Evaluates expr into `result` (an int or float Node). False with `error`
// set on a syntax or arithmetic error.
bool calc_evaluate(std::string_view expr, Node& result, CalcError& error);

}  // namespace kiln::config
