// Private: the resolvers every process starts with (see resolver.h).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "kiln/config/resolver.h"

namespace kiln::config {

// oc.env, env, now, oc.select, oc.decode and calc, in registration order.
std::vector<std::pair<std::string, ResolverFn>> builtin_resolvers();

// The time ${now:} formats when ResolveOptions::now is unset: taken once, at
// the first call in the process.
std::chrono::system_clock::time_point process_start_time();

}  // namespace kiln::config
