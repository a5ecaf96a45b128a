// Schemas and registrations of the model zoo.
#include "kiln/models/gpt.h"
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

cfg::Schema<GptOptions> gpt_schema() {
  cfg::Schema<GptOptions> s("gpt", {.doc = "GPT-2 decoder-only transformer over token ids (model/gpt2.yaml: 124M)"});
  s.field("vocab_size", &GptOptions::vocab_size).doc("token ids 0..vocab_size-1 (256: byte-level tokens)").min(1);
  s.field("block_size", &GptOptions::block_size).doc("longest context, in tokens").min(1);
  s.field("n_layer", &GptOptions::n_layer).doc("transformer blocks").min(1);
  s.field("n_head", &GptOptions::n_head).doc("attention heads per block").min(1);
  s.field("n_embd", &GptOptions::n_embd).doc("width of the residual stream; a multiple of n_head").min(1);
  s.field("dropout", &GptOptions::dropout)
      .doc("dropout on embeddings, attention and residual branches")
      .range(0.0, 1.0);
  s.field("bias", &GptOptions::bias).doc("biases in Linear and LayerNorm layers (GPT-2: true)");
  return s;
}

}  // namespace

void register_builtin_models() {
  static const bool registered = [] {
    auto& models = kiln::registry<Network>();
    models.add("mlp", mlp_schema(), make_mlp);
    models.add("cnn", cnn_schema(), make_cnn);
    models.add("resnet", resnet_schema(), make_resnet);
    models.add("gpt", gpt_schema(), [](const GptOptions& o) -> std::shared_ptr<Network> { return make_gpt(o); });
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::models
