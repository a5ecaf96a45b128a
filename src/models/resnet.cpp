#include "kiln/models/zoo.h"

namespace kiln::models {
namespace {

torch::nn::Conv2d conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride)
      : conv1_(register_module("conv1", conv3x3(in, out, stride))),
        bn1_(register_module("bn1", torch::nn::BatchNorm2d(out))),
        conv2_(register_module("conv2", conv3x3(out, out, 1))),
        bn2_(register_module("bn2", torch::nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      shortcut_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
      shortcut_->push_back(torch::nn::BatchNorm2d(out));
    }
    register_module("shortcut", shortcut_);
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1_->forward(conv1_->forward(x)));
    y = bn2_->forward(conv2_->forward(y));
    return torch::relu(y + (shortcut_->is_empty() ? x : shortcut_->forward(x)));
  }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Conv2d conv2_;
  torch::nn::BatchNorm2d bn2_;
  torch::nn::Sequential shortcut_;
};
TORCH_MODULE(BasicBlock);

class ResNet final : public Network {
 public:
  explicit ResNet(const ResNetOptions& o) {
    std::int64_t channels = o.widths.empty() ? 16 : o.widths.front();
    body_->push_back(conv3x3(o.in_channels, channels, 1));
    body_->push_back(torch::nn::BatchNorm2d(channels));
    body_->push_back(torch::nn::ReLU());
    for (std::size_t stage = 0; stage < o.widths.size(); ++stage) {
      for (std::int64_t block = 0; block < o.blocks_per_stage; ++block) {
        std::int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
        body_->push_back(BasicBlock(channels, o.widths[stage], stride));
        channels = o.widths[stage];
      }
    }
    head_ = torch::nn::Linear(channels, o.num_classes);
    register_module("body", body_);
    register_module("head", head_);
  }

  torch::Tensor forward(const torch::Tensor& input) override {
    torch::Tensor features = run_units(body_, input).mean({2, 3});
    return run_unit(*head_, [&] { return head_->forward(features); });
  }
  std::vector<std::shared_ptr<torch::nn::Module>> sharding_units() override {
    std::vector<std::shared_ptr<torch::nn::Module>> units = units_of(body_);
    units.push_back(head_.ptr());
    return units;
  }

 private:
  torch::nn::Sequential body_;
  torch::nn::Linear head_{nullptr};
};

}  // namespace

std::shared_ptr<Network> make_resnet(const ResNetOptions& options) { return std::make_shared<ResNet>(options); }

}  // namespace kiln::models
