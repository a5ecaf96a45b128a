#include "kiln/models/dropout.h"
#include "kiln/models/zoo.h"

namespace kiln::models {
namespace {

class Cnn final : public Network {
 public:
  explicit Cnn(const CnnOptions& o) {
    std::int64_t channels = o.in_channels;
    std::int64_t size = o.image_size;
    for (std::int64_t width : o.channels) {
      features_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, width, 3).padding(1)));
      features_->push_back(torch::nn::ReLU());
      features_->push_back(torch::nn::MaxPool2d(2));
      channels = width;
      size /= 2;
    }
    head_->push_back(torch::nn::Linear(channels * size * size, o.hidden));
    head_->push_back(torch::nn::ReLU());
    if (o.dropout > 0) head_->push_back(Dropout(o.dropout));
    head_->push_back(torch::nn::Linear(o.hidden, o.num_classes));
    register_module("features", features_);
    register_module("head", head_);
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    return run_units(head_, run_units(features_, input).flatten(1));
  }
  std::vector<std::shared_ptr<torch::nn::Module>> sharding_units() override {
    std::vector<std::shared_ptr<torch::nn::Module>> units = units_of(features_);
    for (auto& unit : units_of(head_)) units.push_back(unit);
    return units;
  }

 private:
  torch::nn::Sequential features_;
  torch::nn::Sequential head_;
};

}  // namespace

std::shared_ptr<Network> make_cnn(const CnnOptions& options) { return std::make_shared<Cnn>(options); }

}  // namespace kiln::models
