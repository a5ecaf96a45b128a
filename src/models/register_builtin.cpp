// Schemas and registrations of the model zoo.
#include "kiln/models/zoo.h"

namespace kiln::models {
namespace {
namespace cfg = kiln::config;

cfg::Schema<MlpOptions> mlp_schema() {
  cfg::Schema<MlpOptions> s("mlp", {.doc = "multi-layer perceptron over flattened inputs"});
  s.field("in_features", &MlpOptions::in_features).doc("input features after flattening").min(1);
  s.field("num_classes", &MlpOptions::num_classes).doc("outputs").min(1);
  s.field("hidden", &MlpOptions::hidden).doc("widths of the hidden layers").min(1);
  s.field("dropout", &MlpOptions::dropout).doc("dropout after each hidden layer").range(0.0, 1.0);
  return s;
}

cfg::Schema<CnnOptions> cnn_schema() {
  cfg::Schema<CnnOptions> s("cnn", {.doc = "convolutional net: conv3x3 + relu + maxpool per width, then an MLP head"});
  s.field("in_channels", &CnnOptions::in_channels).doc("input channels").min(1);
  s.field("num_classes", &CnnOptions::num_classes).doc("outputs").min(1);
  s.field("image_size", &CnnOptions::image_size).doc("input height and width").min(1);
  s.field("channels", &CnnOptions::channels).doc("output channels of each conv block").min(1);
  s.field("hidden", &CnnOptions::hidden).doc("width of the hidden linear layer").min(1);
  s.field("dropout", &CnnOptions::dropout).doc("dropout before the last layer").range(0.0, 1.0);
  return s;
}

cfg::Schema<ResNetOptions> resnet_schema() {
  cfg::Schema<ResNetOptions> s("resnet", {.doc = "small ResNet of BasicBlocks for 28x28 and 32x32 images"});
  s.field("in_channels", &ResNetOptions::in_channels).doc("input channels").min(1);
  s.field("num_classes", &ResNetOptions::num_classes).doc("outputs").min(1);
  s.field("widths", &ResNetOptions::widths).doc("channels of each stage (stride 2 between stages)").min(1);
  s.field("blocks_per_stage", &ResNetOptions::blocks_per_stage).doc("BasicBlocks per stage").min(1);
  return s;
}

}  // namespace

void register_builtin_models() {
  static const bool registered = [] {
    auto& models = kiln::registry<Network>();
    models.add("mlp", mlp_schema(), make_mlp);
    models.add("cnn", cnn_schema(), make_cnn);
    models.add("resnet", resnet_schema(), make_resnet);
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::models
