// libFuzzer target: command-line overrides.
//
// The input is split into lines, one override each (at most 16). Properties
// checked:
//   1. parse_override returns or throws ConfigError; nothing else escapes.
//   2. A parsed value survives format_override_value -> parse_override_value
//      unchanged (override.h promises this round trip).
//   3. The values of a sweep can be listed (sweep_values) or are rejected
//      with a ConfigError.
//   4. apply_overrides on a small config returns or throws ConfigError, and
//      leaves a map that still emits as YAML and loads back equal.
// A violation prints the details and aborts, which libFuzzer saves as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/error.h"
#include "kiln/config/node.h"
#include "kiln/config/override.h"
#include "kiln/config/sweep.h"
#include "kiln/config/yaml.h"

namespace {

using kiln::config::ConfigError;
using kiln::config::Node;
using kiln::config::Override;

constexpr std::size_t kMaxOverrides = 16;

constexpr const char* kBaseConfig = R"(a: 1
s: hello
f: 0.5
n: null
m: ???
b: [1, 2, {c: 3}]
model:
  name: resnet
  depth: 50
  head: {dropout: 0.1, act: relu}
  tags: [x, y]
)";

const Node& base_config() {
  static const Node config = kiln::config::load_yaml(kBaseConfig, "<fuzz base>").root;
  return config;
}

[[noreturn]] void fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "override_fuzz: %s\n--- input\n%.*s\n", what.c_str(), static_cast<int>(input.size()),
               input.data());
  std::abort();
}

void check_value_round_trip(const Override& o, std::string_view input) {
  if (!o.value) return;
  const std::string text = kiln::config::format_override_value(*o.value);
  Node again;
  try {
    again = kiln::config::parse_override_value(text, o.source);
  } catch (const ConfigError& e) {
    fail("format_override_value gave '" + text + "', which does not parse: " + e.what(), input);
  }
  if (again != *o.value) {
    fail("'" + o.text + "': value formats as '" + text + "' which reads back as '" +
             kiln::config::format_override_value(again) + "'",
         input);
  }
}

void check_sweep(const Override& o) {
  if (!o.is_sweep()) return;
  try {
    kiln::config::sweep_values(o, [](const std::string&) { return std::vector<std::string>{"cnn", "mlp", "res"}; });
  } catch (const ConfigError&) {
  }
}

void check_apply(const std::vector<Override>& overrides, std::string_view input) {
  Node config = base_config();
  try {
    kiln::config::apply_overrides(config, overrides);
  } catch (const ConfigError&) {
  }
  if (!config.is_map()) fail("apply_overrides left a " + std::string(kind_name(config.kind())) + " at the root", input);
  const std::string yaml = kiln::config::to_yaml(config);
  try {
    Node reloaded = kiln::config::load_yaml(yaml, "<emitted>").root;
    if (reloaded != config) fail("config after overrides does not survive to_yaml:\n" + yaml, input);
  } catch (const ConfigError& e) {
    fail("config after overrides emits YAML that does not load: " + std::string(e.what()) + "\n" + yaml, input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<Override> parsed;
  std::size_t begin = 0;
  int index = 0;
  while (begin <= input.size() && static_cast<std::size_t>(index) < kMaxOverrides) {
    std::size_t end = input.find('\n', begin);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(begin, end - begin);
    begin = end + 1;
    ++index;
    try {
      Override o = kiln::config::parse_override(line, index);
      check_value_round_trip(o, input);
      check_sweep(o);
      if (!o.is_sweep()) parsed.push_back(std::move(o));
    } catch (const ConfigError&) {
    }
  }
  check_apply(parsed, input);
  return 0;
}
