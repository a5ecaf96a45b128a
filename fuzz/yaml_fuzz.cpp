// libFuzzer target: YAML loading and emitting.
//
// Properties checked for every input:
//   1. load_yaml either returns or throws ConfigError: no other exception
//      (yaml-cpp's, std::out_of_range) and no crash or sanitizer report.
//   2. to_yaml of what loaded loads back without error to an equal tree, list
//      merge tags included (yaml.h promises this round trip).
//   3. Emitting is a fixed point: to_yaml of the reloaded tree is the same text.
// A violation prints both sides and aborts, which libFuzzer saves as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kiln/config/error.h"
#include "kiln/config/node.h"
#include "kiln/config/yaml.h"

namespace {

using kiln::config::ConfigError;
using kiln::config::Node;

// Node's operator== ignores list merge modes; the emitter must keep them.
bool same_tree(const Node& a, const Node& b) {
  if (a != b) return false;
  if (a.is_list() && a.list_merge() != b.list_merge()) return false;
  for (std::size_t i = 0; a.is_container() && i < a.size(); ++i)
    if (!same_tree(a.at(i), b.at(i))) return false;
  return true;
}

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& first, const std::string& second) {
  std::fprintf(stderr, "yaml_fuzz: %s\n--- input\n%.*s\n--- first\n%s--- second\n%s", what,
               static_cast<int>(input.size()), input.data(), first.c_str(), second.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  kiln::config::LoadedYaml first;
  try {
    first = kiln::config::load_yaml(input, "<fuzz>");
  } catch (const ConfigError&) {
    return 0;  // rejecting bad input with a diagnostic is correct behaviour
  }
  const std::string emitted = kiln::config::to_yaml(first.root);
  kiln::config::LoadedYaml second;
  try {
    second = kiln::config::load_yaml(emitted, "<emitted>");
  } catch (const ConfigError& e) {
    fail("emitted YAML does not load", input, emitted, e.what());
  }
  if (!same_tree(first.root, second.root)) {
    fail("reloaded tree differs", input, emitted, kiln::config::to_yaml(second.root));
  }
  const std::string again = kiln::config::to_yaml(second.root);
  if (again != emitted) fail("emitting is not a fixed point", input, emitted, again);
  return 0;
}
