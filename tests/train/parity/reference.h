// The PyTorch reference values of the parity tests: runs
// tests/train/parity/reference.py once per test binary with Debian's
// /usr/bin/python3 (torch 1.13) and parses its records (the script's
// docstring describes them).
#pragma once

#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace kiln::train::parity {

struct SchedCase {
  std::string name;
  std::string config;  // flow YAML
  double base_lr = 0;
  std::int64_t total_steps = 0;
  std::vector<double> lrs;  // PyTorch's lr before step 0, 1, ...
};

struct OptimCase {
  std::string name;
  std::string config;
  std::optional<std::vector<double>> lrs;  // set before each step, when given
  std::vector<double> final_params;        // w then b, flattened
};

struct RefTensor {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

struct Reference {
  bool available = false;
  std::string why_not;  // when !available: for GTEST_SKIP
  std::string error;    // the script ran but failed or printed garbage: tests fail
  std::map<std::string, RefTensor> tensors;
  std::vector<SchedCase> scheds;
  std::vector<OptimCase> optims;
};

inline std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) out.push_back(field);
  return out;
}

template <class T>
std::vector<T> parse_numbers(const std::string& text) {
  std::vector<T> out;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    if constexpr (std::is_integral_v<T>) {
      out.push_back(std::strtoll(word.c_str(), nullptr, 10));
    } else {
      out.push_back(std::strtod(word.c_str(), nullptr));
    }
  }
  return out;
}

inline Reference run_reference_script() {
  Reference ref;
  const std::string command = "/usr/bin/python3 " KILN_SOURCE_DIR "/tests/train/parity/reference.py";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    ref.why_not = "cannot start " + command;
    return ref;
  }
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127 || code == 3) {  // no python3 / no torch
    ref.why_not = "PyTorch reference unavailable (" + command + " exited " + std::to_string(code) +
                  "): needs /usr/bin/python3 with torch";
    return ref;
  }
  ref.available = true;
  if (code != 0) {
    ref.error = command + " exited " + std::to_string(code);
    return ref;
  }
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    const auto f = split(line, '\t');
    if (f.size() == 4 && f[0] == "tensor") {
      ref.tensors[f[1]] = {parse_numbers<std::int64_t>(f[2]), parse_numbers<double>(f[3])};
    } else if (f.size() == 6 && f[0] == "sched") {
      ref.scheds.push_back({f[1], f[2], std::strtod(f[3].c_str(), nullptr), std::strtoll(f[4].c_str(), nullptr, 10),
                            parse_numbers<double>(f[5])});
    } else if (f.size() == 5 && f[0] == "optim") {
      std::optional<std::vector<double>> lrs;
      if (f[3] != "-") lrs = parse_numbers<double>(f[3]);
      ref.optims.push_back({f[1], f[2], lrs, parse_numbers<double>(f[4])});
    } else {
      ref.error = "unexpected line from reference.py: " + line.substr(0, 120);
      return ref;
    }
  }
  return ref;
}

// Runs the script on first use; later calls return the same values.
inline const Reference& reference() {
  static const Reference ref = run_reference_script();
  return ref;
}

}  // namespace kiln::train::parity

// In a test: binds `ref` to the reference values; skips the test (visibly)
// when PyTorch is not installed, fails it when the script failed.
#define REQUIRE_PYTORCH_REFERENCE(ref)                                              \
  const ::kiln::train::parity::Reference& ref = ::kiln::train::parity::reference(); \
  if (!ref.available) GTEST_SKIP() << ref.why_not;                                  \
  ASSERT_TRUE(ref.error.empty()) << ref.error
