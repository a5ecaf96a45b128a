// `kiln ui`: parse the flags, then serve the dashboard (kiln_ui does the work).
#include <iostream>

#include "commands.h"
#include "flag_value.h"
#include "kiln/error.h"
#include "kiln/ui/dashboard.h"

namespace kiln::cli {
namespace {

constexpr const char* kUiUsage = R"(usage: kiln ui [--port 8765] [--host 127.0.0.1] [--store runs/kiln.db] [--token T]

Serves the run dashboard (runs table, run pages with live charts, compare and
diff views) and its JSON API under /api/ (docs/ui.md).

options:
  --port N       port to listen on (default 8765; 0 = any free port)
  --host H       address to bind (default 127.0.0.1). Any non-loopback address
                 requires an access token
  --store PATH   the run store to read (default runs/kiln.db)
  --token T      the access token for /api/ (default: none on loopback, a random
                 one printed at start on any other host)
  -h, --help     this help
)";

int parse_port(const std::string& text) {
  std::size_t used = 0;
  int port = -1;
  try {
    port = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || port < 0 || port > 65535)
    throw UsageError("kiln ui: --port takes a number in 0..65535, found '" + text + "'");
  return port;
}

}  // namespace

int run_ui(const Args& args) {
  ui::DashboardOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUiUsage;
      return 0;
    }
    auto value = [&](const std::string& flag) { return flag_value(args, i, flag, "kiln ui"); };
    if (auto v = value("--port")) {
      options.port = parse_port(*v);
    } else if (auto v = value("--host")) {
      options.host = *v;
    } else if (auto v = value("--store")) {
      options.store = *v;
    } else if (auto v = value("--token")) {
      if (v->empty()) throw UsageError("kiln ui: --token must not be empty");
      options.token = *v;
    } else {
      throw UsageError("kiln ui: unknown argument '" + a + "' (see kiln ui --help)");
    }
  }
  return ui::serve_dashboard(options);
}

}  // namespace kiln::cli
