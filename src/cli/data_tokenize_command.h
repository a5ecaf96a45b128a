// `kiln data tokenize`: text files to one raw token file for language-model
// training (docs/data.md, Token files). `kiln data` (data_command.cpp)
// dispatches here with the arguments after "tokenize".
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

// Returns the exit code; bad usage throws kiln::UsageError, an unreadable
// input or tokenizer model kiln::IoError (both caught by kiln::main).
int data_tokenize_command(const std::vector<std::string>& args);

}  // namespace kiln::cli
