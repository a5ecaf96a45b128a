// libFuzzer target: composing and resolving a whole config tree.
//
// The input is a small in-memory config directory followed by overrides:
//
//   === train.yaml
//   defaults: [model: a, _self_]
//   x: ${model.w}
//   === model/a.yaml
//   w: 1
//   === overrides
//   model.w=2
//
// Properties checked: Composer::compose and resolve (strict, then with
// allow_missing) return or throw ConfigError; nothing else escapes, nothing
// crashes, hangs or leaks (ASan/UBSan); a composed config emits YAML that
// loads back equal.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/compose.h"
#include "kiln/config/error.h"
#include "kiln/config/override.h"
#include "kiln/config/resolve.h"
#include "kiln/config/yaml.h"

namespace {
namespace cfg = kiln::config;

constexpr std::size_t kMaxFiles = 8;
constexpr std::size_t kMaxOverrides = 8;

struct Input {
  std::vector<std::string> paths;
  std::vector<std::string> texts;
  std::vector<std::string> overrides;
};

Input split(std::string_view data) {
  Input in;
  std::string* current = nullptr;
  bool in_overrides = false;
  std::size_t pos = 0;
  while (pos <= data.size()) {
    std::size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("=== ")) {
      std::string_view name = line.substr(4);
      in_overrides = name == "overrides";
      current = nullptr;
      if (!in_overrides && in.paths.size() < kMaxFiles && !name.empty()) {
        in.paths.emplace_back(name);
        in.texts.emplace_back();
        current = &in.texts.back();
      }
    } else if (in_overrides) {
      if (in.overrides.size() < kMaxOverrides) in.overrides.emplace_back(line);
    } else if (current) {
      current->append(line);
      current->push_back('\n');
    }
    if (end == data.size()) break;
  }
  return in;
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "compose_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;
  Input in = split(std::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<cfg::EmbeddedFile> files;
  for (std::size_t i = 0; i < in.paths.size(); ++i) files.push_back({in.paths[i].c_str(), in.texts[i].c_str()});
  cfg::SearchPath search_path;
  search_path.add(cfg::embedded_root(files, "fuzz"));
  cfg::Node composed;
  try {
    std::vector<cfg::Override> overrides = cfg::parse_overrides(in.overrides);
    composed = cfg::Composer(search_path).compose("train", overrides).config;
  } catch (const cfg::ConfigError&) {
    return 0;
  }
  std::string yaml = cfg::to_yaml(composed);
  try {
    if (cfg::load_yaml(yaml, "<emitted>").root != composed) fail("emitted YAML loads back different", yaml);
  } catch (const cfg::ConfigError& e) {
    fail("emitted YAML does not load", yaml + "\n" + e.what());
  }
  for (bool allow_missing : {false, true}) {
    try {
      cfg::resolve(composed, cfg::ResolveOptions{.allow_missing = allow_missing});
    } catch (const cfg::ConfigError&) {
    }
  }
  return 0;
}
