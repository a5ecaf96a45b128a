// A project's own training binary: kiln's whole command line (`train`,
// `--cfg job`, `-m`, completion, ...) plus a model of its own, selected from
// config with `model=wide_linear`.
//
//   cmake --build build/test --target custom_model
//   build/test/examples/custom_model/custom_model train \
//       -cd examples/custom_model/configs model=wide_linear trainer.max_epochs=1
#include <torch/torch.h>

#include "kiln/cli.h"
#include "kiln/models/network.h"

namespace {

struct WideLinearOptions {
  std::int64_t in_features = 784;
  std::int64_t num_classes = 10;
  double input_scale = 1.0;  // multiplies the flattened input
};

// A linear classifier over flattened images: small enough to read at a glance.
class WideLinear final : public kiln::models::Network {
 public:
  explicit WideLinear(const WideLinearOptions& options) : scale_(options.input_scale) {
    linear_ = register_module("linear", torch::nn::Linear(options.in_features, options.num_classes));
  }
  torch::Tensor forward(const torch::Tensor& input) override { return linear_->forward(input.flatten(1) * scale_); }

 private:
  double scale_;
  torch::nn::Linear linear_{nullptr};
};

kiln::config::Schema<WideLinearOptions> wide_linear_schema() {
  kiln::config::Schema<WideLinearOptions> s("wide_linear", {.doc = "a linear classifier (example project)"});
  s.field("in_features", &WideLinearOptions::in_features).doc("input features after flattening").min(1);
  s.field("num_classes", &WideLinearOptions::num_classes).doc("outputs").min(1);
  s.field("input_scale", &WideLinearOptions::input_scale).doc("multiplies the input");
  return s;
}

std::shared_ptr<kiln::models::Network> make_wide_linear(const WideLinearOptions& options) {
  return std::make_shared<WideLinear>(options);
}

KILN_REGISTER(kiln::models::Network, "wide_linear", wide_linear_schema(), make_wide_linear);

}  // namespace

int main(int argc, char** argv) { return kiln::main(argc, argv); }
