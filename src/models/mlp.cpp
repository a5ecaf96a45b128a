#include "kiln/models/dropout.h"
#include "kiln/models/zoo.h"

namespace kiln::models {
namespace {

class Mlp final : public Network {
 public:
  explicit Mlp(const MlpOptions& o) {
    std::int64_t width = o.in_features;
    for (std::size_t i = 0; i < o.hidden.size(); ++i) {
      layers_->push_back(torch::nn::Linear(width, o.hidden[i]));
      layers_->push_back(torch::nn::ReLU());
      if (o.dropout > 0) layers_->push_back(Dropout(o.dropout));
      width = o.hidden[i];
    }
    layers_->push_back(torch::nn::Linear(width, o.num_classes));
    register_module("layers", layers_);
  }

  torch::Tensor forward(const torch::Tensor& input) override { return run_units(layers_, input.flatten(1)); }
  std::vector<std::shared_ptr<torch::nn::Module>> sharding_units() override { return units_of(layers_); }

 private:
  torch::nn::Sequential layers_;
};

}  // namespace

std::shared_ptr<Network> make_mlp(const MlpOptions& options) { return std::make_shared<Mlp>(options); }

}  // namespace kiln::models
