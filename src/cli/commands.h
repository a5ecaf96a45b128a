// The `kiln` subcommands. Each takes the arguments after its own name and
// returns the process exit code; kiln::Error propagates to kiln::main.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

using Args = std::vector<std::string>;

int run_train(const Args& args);
// `kiln completion bash|zsh`: prints the shell script to source.
int run_completion(const Args& args);
// `kiln __complete WORD...`: the candidates for the last word, one per line
// (called by the completion scripts; hidden from --help).
int run_complete(const Args& args);

}  // namespace kiln::cli
