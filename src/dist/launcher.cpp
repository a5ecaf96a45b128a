// The launcher's process handling. Each worker runs in a process group of
// its own, so tearing the group down reaches whatever the worker started
// too, and with PR_SET_PDEATHSIG, so a launcher killed with SIGKILL takes
// its workers with it. One poll loop reads every worker's output and the
// launcher's own signals (through a self-pipe) and reaps exits.
#include "kiln/dist/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kiln/error.h"
#include "rank_output.h"

extern char** environ;

namespace kiln::dist {
namespace {

using Clock = std::chrono::steady_clock;

int g_signal_pipe[2] = {-1, -1};

void on_signal(int sig) {
  unsigned char byte = static_cast<unsigned char>(sig);
  int saved = errno;
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

// The launcher's handlers for the signals it forwards, restored on exit.
class SignalForwarding {
 public:
  SignalForwarding() {
    if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
      throw IoError(std::string("kiln launch: pipe: ") + std::strerror(errno));
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < kCount; ++i) sigaction(kSignals[i], &action, &previous_[i]);
  }
  ~SignalForwarding() {
    for (int i = 0; i < kCount; ++i) sigaction(kSignals[i], &previous_[i], nullptr);
    ::close(g_signal_pipe[0]);
    ::close(g_signal_pipe[1]);
    g_signal_pipe[0] = g_signal_pipe[1] = -1;
  }
  // The first signal received since the last call, if any.
  std::optional<int> take() {
    unsigned char byte = 0;
    std::optional<int> got;
    while (::read(g_signal_pipe[0], &byte, 1) == 1)
      if (!got) got = byte;
    return got;
  }
  int fd() const { return g_signal_pipe[0]; }

 private:
  static constexpr int kCount = 3;
  static constexpr int kSignals[kCount] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction previous_[kCount] {};
};

struct Worker {
  int local_rank = 0;
  int rank = 0;
  pid_t pid = -1;
  int out_fd = -1;
  int err_fd = -1;
  std::deque<std::string> tail;
  std::unique_ptr<RankOutput> out, err;
  std::optional<int> status;  // waitpid status once reaped
};

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// KEY=VALUE entries: the launcher's environment with `overrides` replacing
// or adding their keys.
std::vector<std::string> worker_environment(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [k, v] : overrides) replaced = replaced || k == key;
    if (!replaced) env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
  return env;
}

// One run id for every rank and restart of this launch (kept when the
// caller set KILN_RUN_ID), so `kiln train` workers share one run directory.
std::string launch_run_id() {
  if (const char* given = std::getenv("KILN_RUN_ID"); given != nullptr && *given != '\0') return given;
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  char pid[16];
  std::snprintf(pid, sizeof pid, "%x", static_cast<unsigned>(::getpid()));
  return std::string("launch-") + stamp + "-" + pid;
}

void spawn(Worker& worker, const LaunchOptions& options, int world_size, int port, int restart,
           const std::string& run_id) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw IoError(std::string("kiln launch: pipe: ") + std::strerror(errno));
  std::vector<std::string> env = worker_environment({
      {"KILN_LAUNCHER", "kiln"},
      {"KILN_RUN_ID", run_id},
      {"RANK", std::to_string(worker.rank)},
      {"LOCAL_RANK", std::to_string(worker.local_rank)},
      {"WORLD_SIZE", std::to_string(world_size)},
      {"LOCAL_WORLD_SIZE", std::to_string(options.nproc_per_node)},
      {"GROUP_RANK", std::to_string(options.node_rank)},
      {"NODE_RANK", std::to_string(options.node_rank)},
      {"MASTER_ADDR", options.master_addr},
      {"MASTER_PORT", std::to_string(port)},
      {"TORCHELASTIC_RESTART_COUNT", std::to_string(restart)},
      {"TORCHELASTIC_MAX_RESTARTS", std::to_string(options.max_restarts)},
  });
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> envp, argv;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> command = options.command;
  for (std::string& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) throw IoError(std::string("kiln launch: fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(1);  // the launcher died before prctl
    // The launcher's handlers do not survive exec, but its blocked and
    // ignored signals would: start the worker clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execvpe(argv[0], argv.data(), envp.data());
    const char* what = std::strerror(errno);
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, "kiln launch: cannot run '", 25);
    n = ::write(STDERR_FILENO, argv[0], std::strlen(argv[0]));
    n = ::write(STDERR_FILENO, "': ", 3);
    n = ::write(STDERR_FILENO, what, std::strlen(what));
    n = ::write(STDERR_FILENO, "\n", 1);
    _exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no race with the first killpg
  ::close(out[1]);
  ::close(err[1]);
  worker.pid = pid;
  worker.out_fd = out[0];
  worker.err_fd = err[0];
  worker.status.reset();
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) +
         ")";
}

void note(const std::string& line) {
  std::string out = "[kiln launch] " + line + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

// One run of the whole group, from spawn to the last worker reaped.
class Group {
 public:
  Group(const LaunchOptions& options, int port, int restart, const std::string& run_id, SignalForwarding& signals,
        std::vector<File>& logs)
      : options_(options), signals_(signals) {
    const int world_size = options.nnodes * options.nproc_per_node;
    workers_.resize(static_cast<std::size_t>(options.nproc_per_node));
    for (int local = 0; local < options.nproc_per_node; ++local) {
      Worker& w = workers_[static_cast<std::size_t>(local)];
      w.local_rank = local;
      w.rank = options.node_rank * options.nproc_per_node + local;
      std::FILE* log = logs.empty() ? nullptr : logs[static_cast<std::size_t>(local)].get();
      w.out = std::make_unique<RankOutput>(w.rank, stdout, log, w.tail);
      w.err = std::make_unique<RankOutput>(w.rank, stderr, log, w.tail);
      spawn(w, options, world_size, port, restart, run_id);
    }
  }

  // Until every worker is reaped. Returns the first failure (its worker) or
  // nullptr; sets `signal` when the launcher was told to stop.
  const Worker* run(std::optional<int>& signal) {
    const Worker* failed = nullptr;
    std::optional<Clock::time_point> kill_at;
    while (!all_reaped()) {
      pump(100);
      reap();
      if (!failed && !signal) {
        for (const Worker& w : workers_)
          if (w.status && exit_code_of(*w.status) != 0) {
            failed = &w;
            break;
          }
        if (failed) {
          note("rank " + std::to_string(failed->rank) + " (pid " + std::to_string(failed->pid) + ") " +
               describe(*failed->status) + "; stopping the other ranks");
          terminate(SIGTERM);
          kill_at = Clock::now() + grace();
        }
      }
      if (auto got = signals_.take(); got && !signal) {
        signal = got;
        note(std::string("got ") + strsignal(*got) + "; passing it to the workers");
        terminate(*got);
        if (!kill_at) kill_at = Clock::now() + grace();
      }
      if (kill_at && Clock::now() >= *kill_at) {
        note("ranks still running after " + std::to_string(options_.term_timeout_seconds) + " s: SIGKILL");
        terminate(SIGKILL);
        kill_at.reset();
      }
    }
    // Whatever a worker left behind in its process group goes with it.
    for (const Worker& w : workers_) ::killpg(w.pid, SIGKILL);
    drain();
    return failed;
  }

 private:
  std::chrono::nanoseconds grace() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(options_.term_timeout_seconds));
  }

  bool all_reaped() const {
    for (const Worker& w : workers_)
      if (!w.status) return false;
    return true;
  }

  void terminate(int sig) {
    for (const Worker& w : workers_) ::killpg(w.pid, sig);
  }

  // Reads whatever output is ready within timeout_ms.
  void pump(int timeout_ms) {
    std::vector<pollfd> fds;
    std::vector<std::pair<Worker*, bool>> owners;  // bool: stderr
    for (Worker& w : workers_) {
      if (w.out_fd >= 0) {
        fds.push_back({w.out_fd, POLLIN, 0});
        owners.emplace_back(&w, false);
      }
      if (w.err_fd >= 0) {
        fds.push_back({w.err_fd, POLLIN, 0});
        owners.emplace_back(&w, true);
      }
    }
    fds.push_back({signals_.fd(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    for (std::size_t i = 0; i + 1 < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto [w, is_err] = owners[i];
      read_from(*w, is_err);
    }
  }

  void read_from(Worker& w, bool is_err) {
    int& fd = is_err ? w.err_fd : w.out_fd;
    char buffer[8192];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      (is_err ? w.err : w.out)->feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      (is_err ? w.err : w.out)->finish();
      ::close(fd);
      fd = -1;
    }
  }

  void reap() {
    for (Worker& w : workers_) {
      if (w.status) continue;
      int status = 0;
      if (::waitpid(w.pid, &status, WNOHANG) == w.pid) w.status = status;
    }
  }

  // After the last exit: the pipes hold what the workers wrote last (or a
  // grandchild still holds a pipe open: its group was killed above, so EOF
  // comes soon; give up after a second rather than hang).
  void drain() {
    auto until = Clock::now() + std::chrono::seconds(1);
    auto open = [&] {
      for (const Worker& w : workers_)
        if (w.out_fd >= 0 || w.err_fd >= 0) return true;
      return false;
    };
    while (open() && Clock::now() < until) pump(50);
    for (Worker& w : workers_)
      for (int* fd : {&w.out_fd, &w.err_fd})
        if (*fd >= 0) {
          ::close(*fd);
          *fd = -1;
        }
    for (Worker& w : workers_) {
      w.out->finish();
      w.err->finish();
    }
  }

  const LaunchOptions& options_;
  SignalForwarding& signals_;
  std::vector<Worker> workers_;
};

void print_tail(const Worker& w) {
  if (w.tail.empty()) {
    note("rank " + std::to_string(w.rank) + " wrote nothing");
    return;
  }
  note("the last " + std::to_string(w.tail.size()) + " lines of rank " + std::to_string(w.rank) + ":");
  for (const std::string& line : w.tail) {
    std::string out = "  " + line + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
  std::fflush(stderr);
}

std::vector<File> open_logs(const LaunchOptions& options) {
  std::vector<File> logs;
  if (options.log_dir.empty()) return logs;
  std::error_code ec;
  std::filesystem::create_directories(options.log_dir, ec);
  if (ec) throw IoError("kiln launch: cannot create --log-dir '" + options.log_dir.string() + "': " + ec.message());
  for (int local = 0; local < options.nproc_per_node; ++local) {
    const int rank = options.node_rank * options.nproc_per_node + local;
    auto path = options.log_dir / ("rank" + std::to_string(rank) + ".log");
    File f(std::fopen(path.c_str(), "ae"));
    if (!f) throw IoError("kiln launch: cannot open '" + path.string() + "': " + std::strerror(errno));
    logs.push_back(std::move(f));
  }
  return logs;
}

}  // namespace

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw IoError(std::string("kiln launch: cannot find a free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

void validate(const LaunchOptions& options) {
  auto fail = [](const std::string& what) { throw UsageError("kiln launch: " + what); };
  if (options.nproc_per_node < 1)
    fail("--nproc-per-node must be >= 1, found " + std::to_string(options.nproc_per_node));
  if (options.nnodes < 1) fail("--nnodes must be >= 1, found " + std::to_string(options.nnodes));
  if (options.node_rank < 0 || options.node_rank >= options.nnodes)
    fail("--node-rank must be in 0.." + std::to_string(options.nnodes - 1) + " (--nnodes " +
         std::to_string(options.nnodes) + "), found " + std::to_string(options.node_rank));
  if (options.master_port < 0 || options.master_port > 65535)
    fail("--master-port must be in 0..65535, found " + std::to_string(options.master_port));
  if (options.master_port == 0 && options.nnodes > 1)
    fail("--master-port 0 (pick a free port) works on one node only: every node must be told the same port");
  if (options.max_restarts < 0) fail("--max-restarts must be >= 0, found " + std::to_string(options.max_restarts));
  if (!(options.term_timeout_seconds >= 0)) fail("--term-timeout must be >= 0 seconds");
  if (options.command.empty())
    fail("no worker command: write it after `--`, e.g. kiln launch --nproc-per-node 2 -- kiln train");
}

int launch(const LaunchOptions& options) {
  validate(options);
  const int port = options.master_port == 0 ? free_loopback_port() : options.master_port;
  const std::string run_id = launch_run_id();
  std::vector<File> logs = open_logs(options);
  SignalForwarding signals;
  const int world_size = options.nnodes * options.nproc_per_node;
  note(std::to_string(options.nproc_per_node) + " worker" + (options.nproc_per_node == 1 ? "" : "s") + " of " +
       std::to_string(world_size) + " (node " + std::to_string(options.node_rank) + " of " +
       std::to_string(options.nnodes) + "), master " + options.master_addr + ":" + std::to_string(port) +
       (options.log_dir.empty() ? std::string() : ", logs in " + options.log_dir.string() + "/"));
  for (int restart = 0;; ++restart) {
    if (restart > 0)
      for (File& log : logs) std::fprintf(log.get(), "--- kiln launch: restart %d ---\n", restart);
    Group group(options, port, restart, run_id, signals, logs);
    std::optional<int> signal;
    const Worker* failed = group.run(signal);
    if (signal) return 128 + *signal;
    if (!failed) return 0;
    print_tail(*failed);
    if (restart >= options.max_restarts) {
      if (options.max_restarts > 0)
        note("no restarts left (--max-restarts " + std::to_string(options.max_restarts) + ")");
      return exit_code_of(*failed->status);
    }
    note("restarting the group (" + std::to_string(restart + 1) + " of " + std::to_string(options.max_restarts) +
         " restarts)");
  }
}

}  // namespace kiln::dist
