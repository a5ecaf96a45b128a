// The `kiln` subcommands. Each takes the arguments after its own name and
// returns the process exit code; kiln::Error propagates to kiln::main.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

using Args = std::vector<std::string>;

int run_train(const Args& args);
// `kiln runs ls|show|diff|compare|tag|rm` (runs_command.cpp).
int run_runs(const Args& args);
// `kiln reproduce RUN`: re-run a recorded run and compare (reproduce_command.cpp).
int run_reproduce(const Args& args);
// `kiln data ls|info|fetch|verify|add|pack`: datasets (data_command.cpp).
int run_data(const Args& args);
// `kiln completion bash|zsh`: prints the shell script to source.
int run_completion(const Args& args);
// `kiln __complete WORD...`: the candidates for the last word, one per line
// (called by the completion scripts; hidden from --help).
int run_complete(const Args& args);
// `kiln launch [flags] -- COMMAND`: starts and watches the local workers of
// a distributed job (launch_command.cpp, kiln/dist/launcher.h).
int run_launch(const Args& args);
// `kiln world`: prints the distributed world read from the environment.
int run_world(const Args& args);
// `kiln generate RUN --prompt TEXT`: samples from a trained GPT (generate_command.cpp).
int run_generate(const Args& args);
// `kiln checkpoint consolidate RUN --out F`: one .safetensors (checkpoint_command.cpp).
int run_checkpoint(const Args& args);
// `kiln ui`: serves the run dashboard until Ctrl-C (kiln_ui, docs/ui.md).
int run_ui(const Args& args);

}  // namespace kiln::cli
