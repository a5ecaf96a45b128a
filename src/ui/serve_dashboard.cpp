// `kiln ui` in the foreground: the URL to open, then serve until Ctrl-C.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <system_error>

#include "kiln/ui/access_token.h"
#include "kiln/ui/dashboard.h"

namespace kiln::ui {
namespace {

// The one server a signal stops. A lock-free atomic pointer is safe to read
// in a signal handler; HttpServer::stop only write(2)s to a pipe.
std::atomic<DashboardServer*> g_signalled_server{nullptr};

extern "C" void stop_on_signal(int) {
  if (DashboardServer* server = g_signalled_server.load()) server->stop();
}

// What to put in the printed URL: the host as given, except that a wildcard
// address is not something a browser can open.
std::string url_host(const std::string& host) {
  if (host == "0.0.0.0" || host == "::" || host.empty()) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') return name;
    return "localhost";
  }
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

int serve_dashboard(DashboardOptions options) {
  if (options.token.empty() && !is_loopback_host(options.host)) options.token = generate_access_token();
  DashboardServer server(options);
  server.start();

  std::error_code ec;
  if (!std::filesystem::exists(options.store, ec))
    std::cerr << "kiln ui: no run store at '" << options.store.string()
              << "' yet; runs appear once `kiln train` creates it (or pass --store)\n";
  std::string url = "http://" + url_host(options.host) + ":" + std::to_string(server.port()) + "/";
  if (!options.token.empty()) url += "?token=" + options.token;
  // Scripts (tests/e2e/ui_dashboard.sh) read the port from this line.
  std::cout << "kiln ui: serving " << options.store.string() << " at " << url << std::endl;
  std::cout << "kiln ui: press Ctrl-C to stop" << std::endl;

  struct sigaction action {};
  action.sa_handler = stop_on_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  g_signalled_server.store(&server);
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);
  server.wait();
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  g_signalled_server.store(nullptr);
  std::cout << "kiln ui: stopped" << std::endl;
  return 0;
}

}  // namespace kiln::ui
