#include "kiln/config/source.h"

namespace kiln::config {

Source Source::override_arg(int index, const std::string& text) {
  return Source{std::make_shared<const std::string>("override #" + std::to_string(index) + " '" + text + "'"), 0, 0};
}

std::string Source::str() const {
  if (!origin) return "<unknown>";
  if (line <= 0) return *origin;
  return *origin + ":" + std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace kiln::config
