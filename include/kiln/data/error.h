// Errors of the data layer.
#pragma once

#include <string>

#include "kiln/error.h"

namespace kiln::data {

// A data file was read but its contents are not what its format promises
// (a bad magic number, a truncated payload, a label out of range). The
// message names the path and says what was expected and what was found.
// An IoError, so code that handles unreadable files handles these too
// (exit code 74).
class DataFormatError : public kiln::IoError {
 public:
  explicit DataFormatError(const std::string& message) : kiln::IoError(message) {}
};

}  // namespace kiln::data
