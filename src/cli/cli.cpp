// kiln::main: dispatch to subcommands, and the one place errors are caught.
#include "kiln/cli.h"

#include <cstdio>
#include <exception>
#include <iostream>

#include "commands.h"
#include "kiln/error.h"
#include "kiln/version.h"

namespace kiln {
namespace {

constexpr const char* kUsage = R"(kiln - reproducible, recorded, scalable training on LibTorch

usage: kiln <command> [options] [overrides...]
       kiln --version | --help

commands:
  train        compose the experiment config and run it (kiln train --help)
  runs         the run store: ls, show, diff, compare, tag, rm (kiln runs --help)
  reproduce    re-run a recorded run and check it comes out the same (kiln reproduce --help)
  data         datasets: ls, info, fetch, verify, add, pack, tokenize (kiln data --help)
  generate     sample text from a trained GPT (kiln generate --help)
  checkpoint   consolidate a checkpoint (ZeRO shards too) into one .safetensors (kiln checkpoint --help)
  completion   print a shell completion script: kiln completion bash|zsh
  ui           serve the run dashboard in the browser (kiln ui --help)
  launch       start the workers of a distributed job, torchrun-style (kiln launch --help)
  world        print this process's rank and world as read from the environment

options:
  --version    print the kiln version and the git commit it was built from
  -h, --help   print this help

Exit codes: 0 success, 1 failure, 2 config or usage error, 74 I/O error,
130 interrupted.
)";

int dispatch(const cli::Args& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? static_cast<int>(ExitCode::kConfig) : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "kiln " << version() << " (" << git_commit() << ")\n";
    return 0;
  }
  cli::Args rest(args.begin() + 1, args.end());
  if (args[0] == "train") return cli::run_train(rest);
  if (args[0] == "runs") return cli::run_runs(rest);
  if (args[0] == "reproduce") return cli::run_reproduce(rest);
  if (args[0] == "data") return cli::run_data(rest);
  if (args[0] == "completion") return cli::run_completion(rest);
  if (args[0] == "ui") return cli::run_ui(rest);
  if (args[0] == "generate") return cli::run_generate(rest);
  if (args[0] == "checkpoint") return cli::run_checkpoint(rest);
  if (args[0] == "launch") return cli::run_launch(rest);
  if (args[0] == "world") return cli::run_world(rest);
  if (args[0] == "__complete") return cli::run_complete(rest);
  throw UsageError("unknown command '" + args[0] +
                   "'; the commands are train, runs, reproduce, data, generate, checkpoint, ui, launch, world and "
                   "completion (see kiln --help)");
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args args(argv + 1, argv + argc);
  try {
    return dispatch(args);
  } catch (const Error& e) {
    std::cout.flush();
    std::cerr << "kiln: " << e.what() << "\n";
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    // Reaching here is a kiln bug: every user error is a kiln::Error.
    std::cout.flush();
    std::cerr << "kiln: internal error: " << e.what() << "\nplease report this with the command line you ran\n";
    return static_cast<int>(ExitCode::kFailure);
  }
}

}  // namespace kiln
