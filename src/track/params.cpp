#include "kiln/track/params.h"

#include <string>

namespace kiln::track {
namespace {

void flatten(const config::Node& node, const std::string& key, std::vector<Param>& out) {
  using config::Kind;
  auto join = [&](const std::string& child) { return key.empty() ? child : key + "." + child; };
  switch (node.kind()) {
    case Kind::kMap:
      if (node.empty()) out.push_back({key, std::string("{}")});
      for (std::size_t i = 0; i < node.size(); ++i) flatten(node.at(i), join(node.keys()[i]), out);
      return;
    case Kind::kList:
      if (node.empty()) out.push_back({key, std::string("[]")});
      for (std::size_t i = 0; i < node.size(); ++i) flatten(node.at(i), join(std::to_string(i)), out);
      return;
    case Kind::kBool: out.push_back({key, node.as_bool()}); return;
    case Kind::kInt: out.push_back({key, node.as_int()}); return;
    case Kind::kFloat: out.push_back({key, node.as_float()}); return;
    case Kind::kString: out.push_back({key, node.as_string()}); return;
    default: out.push_back({key, std::monostate{}}); return;
  }
}

}  // namespace

std::vector<Param> flatten_params(const config::Node& resolved) {
  std::vector<Param> out;
  flatten(resolved, "", out);
  return out;
}

}  // namespace kiln::track
