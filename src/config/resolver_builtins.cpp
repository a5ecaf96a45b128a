// The built-in resolvers. Each checks its arguments and reports misuse with
// the call's key and source, since a resolver's user wrote the ${...} and
// needs to know which one is wrong.
#include "resolver_builtins.h"

#include <cstdlib>
#include <ctime>

#include "calc.h"
#include "kiln/config/error.h"

namespace kiln::config {
namespace {

std::string describe(const Node& value) {
  std::string kind = kind_name(value.kind());
  if (value.is_container() || value.is_missing()) return kind;
  return kind + " " + interpolation_text(value);
}

void expect_arity(const std::vector<Node>& args, std::size_t lo, std::size_t hi, const std::string& name,
                  const std::string& usage, const ResolverContext& context) {
  if (args.size() >= lo && args.size() <= hi) return;
  std::string expected = lo == hi ? std::to_string(lo) : std::to_string(lo) + " or " + std::to_string(hi);
  context.fail(
      name + " takes " + expected + " argument" + (hi == 1 ? "" : "s") + ", got " + std::to_string(args.size()),
      "write " + usage);
}

ResolverFn env_resolver(const std::string& name) {
  return [name](const std::vector<Node>& args, const ResolverContext& context) -> Node {
    std::string usage = "${" + name + ":VAR} or ${" + name + ":VAR,default}";
    expect_arity(args, 1, 2, name, usage, context);
    if (!args[0].is_string() || args[0].as_string().empty())
      context.fail(name + " needs an environment variable name, got " + describe(args[0]), "write " + usage);
    const std::string& var = args[0].as_string();
    if (const char* value = std::getenv(var.c_str())) return Node::string(value);
    if (args.size() == 2) {
      // OmegaConf 2.2: the default is used as a string (5 -> "5"), except null.
      if (args[1].is_null()) return Node::null();
      return Node::string(interpolation_text(args[1]));
    }
    context.fail("environment variable '" + var + "' is not set",
                 "set it (export " + var + "=...), add it to a .env file, or give a default: ${" + name + ":" + var +
                     ",default}");
  };
}

// strftime plus Python's %f (microseconds), which Hydra's ${now:} accepts.
std::string format_time(const std::string& format, std::chrono::system_clock::time_point when) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count() % 1000000;
  if (micros < 0) micros += 1000000;
  std::string expanded;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '%' && i + 1 < format.size()) {
      if (format[i + 1] == 'f') {
        std::string digits = std::to_string(micros);
        expanded += std::string(6 - digits.size(), '0') + digits;
        ++i;
        continue;
      }
      expanded += format[i];
      expanded += format[++i];
      continue;
    }
    expanded += format[i];
  }
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm local{};
  localtime_r(&t, &local);
  if (expanded.empty()) return {};
  // strftime returns 0 both for "too small" and for an empty result; grow a
  // few times, then accept the empty result.
  for (std::size_t size = 128; size <= 65536; size *= 4) {
    std::string buf(size, '\0');
    std::size_t n = std::strftime(buf.data(), buf.size(), expanded.c_str(), &local);
    if (n > 0) {
      buf.resize(n);
      return buf;
    }
  }
  return {};
}

Node now_resolver(const std::vector<Node>& args, const ResolverContext& context) {
  expect_arity(args, 1, 1, "now", "${now:%Y-%m-%d_%H-%M-%S}", context);
  if (!args[0].is_string())
    context.fail("now needs a strftime format string, got " + describe(args[0]),
                 "write ${now:%Y-%m-%d_%H-%M-%S}; quote formats that look like numbers: ${now:'%Y'}");
  auto when = context.options.now ? *context.options.now : process_start_time();
  return Node::string(format_time(args[0].as_string(), when));
}

Node select_resolver(const std::vector<Node>& args, const ResolverContext& context) {
  expect_arity(args, 1, 2, "oc.select", "${oc.select:key} or ${oc.select:key,default}", context);
  if (!args[0].is_string() || args[0].as_string().empty())
    context.fail("oc.select needs a key, got " + describe(args[0]), "write ${oc.select:model.width,64}");
  if (!context.lookup) context.fail("oc.select can only run inside a resolve pass");
  if (auto value = context.lookup->select(args[0].as_string())) return std::move(*value);
  return args.size() == 2 ? args[1] : Node::null();
}

Node decode_resolver(const std::vector<Node>& args, const ResolverContext& context) {
  expect_arity(args, 1, 1, "oc.decode", "${oc.decode:${oc.env:VAR}}", context);
  if (args[0].is_null()) return Node::null();
  if (!args[0].is_string() && !args[0].is_missing())  // "???" is a string that reads as missing
    context.fail("oc.decode takes a string (or null), got " + describe(args[0]),
                 "oc.decode parses text such as \"[1, 2]\" into a value");
  if (!context.lookup) context.fail("oc.decode can only run inside a resolve pass");
  return context.lookup->decode(args[0].as_string());
}

Node calc_resolver(const std::vector<Node>& args, const ResolverContext& context) {
  if (args.size() != 1)
    context.fail("calc takes one expression, got " + std::to_string(args.size()) + " arguments",
                 args.empty() ? "write ${calc:2 * ${model.width} + 1}"
                              : "commas separate resolver arguments; use them only inside min(...) or max(...)");
  const Node& arg = args[0];
  if (arg.kind() == Kind::kInt || arg.kind() == Kind::kFloat) return arg;
  if (!arg.is_string())
    context.fail("calc works on numbers, got " + describe(arg), "write ${calc:2 * ${model.width} + 1}");
  const std::string& expr = arg.as_string();
  Node result;
  CalcError error;
  if (calc_evaluate(expr, result, error)) return result;
  context.fail("calc: " + error.message + " at column " + std::to_string(error.position + 1) + " of '" + expr +
               "'\n    " + expr + "\n    " + std::string(error.position, ' ') + "^");
}

}  // namespace

std::chrono::system_clock::time_point process_start_time() {
  static const auto start = std::chrono::system_clock::now();
  return start;
}

std::vector<std::pair<std::string, ResolverFn>> builtin_resolvers() {
  std::vector<std::pair<std::string, ResolverFn>> out;
  out.emplace_back("oc.env", env_resolver("oc.env"));
  out.emplace_back("env", env_resolver("env"));
  out.emplace_back("now", now_resolver);
  out.emplace_back("oc.select", select_resolver);
  out.emplace_back("oc.decode", decode_resolver);
  out.emplace_back("calc", calc_resolver);
  return out;
}

}  // namespace kiln::config
