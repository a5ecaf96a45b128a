#include "kiln/train/rng_state.h"

#include <ATen/Context.h>

#include <cstring>
#include <mutex>

#include "kiln/error.h"

namespace kiln::train {
namespace {

constexpr std::string_view kCpu = "torch.cpu";
constexpr std::string_view kCudaPrefix = "torch.cuda.";
constexpr std::string_view kNamedPrefix = "named.";

int cuda_devices() { return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

// Context::defaultGenerator works for CPU and CUDA alike, in LibTorch 1.13
// and 2.x.
at::Generator default_generator(const c10::Device& device) { return at::globalContext().defaultGenerator(device); }

torch::Tensor get_state(const c10::Device& device) {
  at::Generator generator = default_generator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_state(const c10::Device& device, const torch::Tensor& state) {
  at::Generator generator = default_generator(device);
  try {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
  } catch (const c10::Error& e) {
    throw Error("cannot restore the RNG state of " + device.str() +
                ": LibTorch refused it: " + e.what_without_backtrace());
  }
}

}  // namespace

RngState capture_rng_state(std::map<std::string, std::uint64_t> named) {
  RngState state;
  state.cpu = get_state(c10::Device(c10::kCPU));
  for (int i = 0, n = cuda_devices(); i < n; ++i) {
    state.cuda.push_back(get_state(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i))));
  }
  state.named = std::move(named);
  return state;
}

void restore_rng_state(const RngState& state, const RngRestoreOptions& options) {
  const int devices = cuda_devices();
  if (static_cast<int>(state.cuda.size()) > devices && !options.allow_missing_cuda) {
    throw Error("cannot restore the RNG state: it holds CUDA generator states for " +
                std::to_string(state.cuda.size()) + " device(s), but this process sees " + std::to_string(devices) +
                "; the run would not continue identically (set RngRestoreOptions.allow_missing_cuda to go on anyway)");
  }
  if (state.cpu.defined()) set_state(c10::Device(c10::kCPU), state.cpu);
  for (int i = 0; i < static_cast<int>(state.cuda.size()) && i < devices; ++i) {
    set_state(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i)), state.cuda[static_cast<std::size_t>(i)]);
  }
}

TensorMap rng_state_to_tensors(const RngState& state) {
  TensorMap tensors;
  if (state.cpu.defined()) tensors[std::string(kCpu)] = state.cpu.detach().to(torch::kCPU).clone();
  for (std::size_t i = 0; i < state.cuda.size(); ++i) {
    tensors[std::string(kCudaPrefix) + std::to_string(i)] = state.cuda[i].detach().to(torch::kCPU).clone();
  }
  for (const auto& [name, value] : state.named) {
    std::int64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    tensors[std::string(kNamedPrefix) + name] = torch::scalar_tensor(bits, torch::kLong);
  }
  return tensors;
}

RngState rng_state_from_tensors(const TensorMap& tensors, const std::string& source) {
  auto invalid = [&](const std::string& problem) -> void { throw IoError(source + " is not valid: " + problem); };
  auto check_bytes = [&](const std::string& name, const torch::Tensor& tensor) {
    if (tensor.scalar_type() != torch::kByte || tensor.dim() != 1) {
      invalid("tensor '" + name + "' must be U8 with one dimension, found " +
              std::string(c10::toString(tensor.scalar_type())) + " with " + std::to_string(tensor.dim()));
    }
  };
  RngState state;
  std::map<int, torch::Tensor> cuda;
  for (const auto& [name, tensor] : tensors) {
    if (name == kCpu) {
      check_bytes(name, tensor);
      state.cpu = tensor.clone();
    } else if (name.starts_with(kCudaPrefix)) {
      std::string index = name.substr(kCudaPrefix.size());
      bool digits = !index.empty() && index.size() <= 4 && index.find_first_not_of("0123456789") == std::string::npos &&
                    (index == "0" || index[0] != '0');
      if (!digits) invalid("tensor '" + name + "' should be named torch.cuda.<device index>");
      check_bytes(name, tensor);
      cuda[std::stoi(index)] = tensor.clone();
    } else if (name.starts_with(kNamedPrefix)) {
      if (tensor.scalar_type() != torch::kLong || tensor.dim() != 0) {
        invalid("tensor '" + name + "' must be an I64 scalar, found " +
                std::string(c10::toString(tensor.scalar_type())) + " with " + std::to_string(tensor.dim()) +
                " dimension(s)");
      }
      std::int64_t bits = tensor.item<std::int64_t>();
      std::uint64_t value;
      std::memcpy(&value, &bits, sizeof value);
      state.named[name.substr(kNamedPrefix.size())] = value;
    } else {
      invalid("unexpected tensor '" + name + "' (expected torch.cpu, torch.cuda.<i> or named.<name>)");
    }
  }
  if (!state.cpu.defined()) invalid("it has no 'torch.cpu' tensor");
  for (const auto& [index, tensor] : cuda) {
    if (index != static_cast<int>(state.cuda.size())) {
      invalid("CUDA generator states must be numbered 0, 1, 2, ...; torch.cuda." + std::to_string(state.cuda.size()) +
              " is missing");
    }
    state.cuda.push_back(tensor);
  }
  return state;
}

}  // namespace kiln::train
