// Resolvers: the functions behind `${name:arg1,arg2}`.
//
// A resolver receives its arguments already typed by OmegaConf's grammar
// (`${f:1, 2.5, true, null, abc, 'q s', [1, 2], {a: 1}, ${x}}` gives int,
// float, bool, null, string, string, list, map and x's value) and returns a
// Node. Its result is final: a string it returns is not parsed for "${".
//
// Built in (see docs/config-interpolation.md):
//   oc.env:VAR[,default]   the variable as a string; default when unset (null stays null)
//   env:VAR[,default]      kiln's short alias of oc.env
//   now:FORMAT             the run's start time, strftime-formatted, local time (Hydra's ${now:})
//   oc.select:key[,default] the value at key (absolute or relative); default when absent or ???
//   oc.decode:STRING       STRING parsed as an override value would be ("[1, 2]" -> a list), then resolved
//   calc:EXPR              integer/float arithmetic: + - * / // % ** ( ) min max abs round floor ceil
//
// A resolver reports a user error by throwing ConfigError (context.fail()
// builds one naming the key and source of the ${...}); any other exception
// it throws is reported as "resolver 'name' failed: <what>". The registry is
// process-wide and guarded by a mutex: register resolvers at startup,
// before resolving; registering during a resolve is safe but racy in effect.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/config/resolve.h"
#include "kiln/config/source.h"

namespace kiln::config {

// What a resolver may ask of the resolution it runs in (implemented by the
// resolve pass; tests may provide their own).
class ResolverLookup {
 public:
  virtual ~ResolverLookup() = default;
  // The resolved value at `key`: absolute ("a.b", "a[0]") or relative to
  // the node holding the call (".x", "..x"). nullopt when the key does not
  // exist or its value is missing (???). Errors in resolving the value are
  // reported as usual (thrown as ConfigError).
  virtual std::optional<Node> select(std::string_view key) = 0;
  // `text` parsed as one value in kiln's override grammar
  // (parse_override_value: "3", "[1, ${x}]", "{a: 1}"), then its
  // interpolations resolved relative to the node holding the call. Throws
  // ConfigError when it does not parse.
  virtual Node decode(std::string_view text) = 0;
};

struct ResolverContext {
  const Node& root;                  // the config being resolved, as written
  const KeyPath& key;                // the node holding the ${name:...}
  const Source& source;              // where that node was written
  const ResolveOptions& options;     // the options of this resolve pass
  ResolverLookup* lookup = nullptr;  // null outside a resolve pass; valid only during the call

  // key as users write it: "trainer.callbacks[0]".
  std::string key_text() const;
  // Throws a ConfigError for this call: Diagnostic{key_text(), source, message, hint}.
  [[noreturn]] void fail(const std::string& message, const std::string& hint = {}) const;
};

using ResolverFn = std::function<Node(const std::vector<Node>& args, const ResolverContext& context)>;

// Registers `fn` as ${name:...}. `name` is one or more identifiers joined by
// '.' (letters, digits, '_', '-'; not starting with a digit or '-'). Throws
// kiln::Error when the name is invalid, or already registered and !replace.
// Built-in resolvers may be replaced too.
void register_resolver(const std::string& name, ResolverFn fn, bool replace = false);

// Removes a resolver; false when none had that name. For tests and plugins
// that unload; built-ins can be removed (and come back only by registering).
bool unregister_resolver(const std::string& name);

bool has_resolver(const std::string& name);

// Every registered name, sorted; built-ins included.
std::vector<std::string> resolver_names();

// Calls the resolver registered as `name` (the resolve pass uses this).
// nullopt when no resolver has that name; otherwise whatever it returns or
// throws.
std::optional<Node> call_resolver(const std::string& name, const std::vector<Node>& args,
                                  const ResolverContext& context);

}  // namespace kiln::config
