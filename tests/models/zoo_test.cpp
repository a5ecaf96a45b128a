#include "kiln/models/zoo.h"

#include <gtest/gtest.h>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"

namespace kiln::models {
namespace {

std::shared_ptr<Network> build(const std::string& yaml) {
  register_builtin_models();
  return kiln::instantiate<Network>(config::load_yaml(yaml, "model.yaml").root);
}

std::int64_t parameter_count(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

TEST(ModelZoo, EachModelMapsImagesToLogits) {
  torch::manual_seed(0);
  for (const char* target : {"mlp", "cnn", "resnet"}) {
    auto net = build(std::string("_target_: ") + target + "\n");
    EXPECT_EQ(net->forward(torch::randn({4, 1, 28, 28})).sizes(), (std::vector<std::int64_t>{4, 10})) << target;
  }
  auto color = build("_target_: cnn\nin_channels: 3\nimage_size: 32\nnum_classes: 100\n");
  EXPECT_EQ(color->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<std::int64_t>{2, 100}));
  auto resnet = build("_target_: resnet\nin_channels: 3\nwidths: [8, 16]\n");
  EXPECT_EQ(resnet->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<std::int64_t>{2, 10}));
}

TEST(ModelZoo, ParameterCountsMatchTheArchitecture) {
  // The same layers in PyTorch: Conv2d(1,32,3) + Conv2d(32,64,3) + Linear(64*7*7,128) + Linear(128,10).
  auto cnn = build("_target_: cnn\n");
  EXPECT_EQ(parameter_count(*cnn), 320 + 18496 + 401536 + 1290);
  auto mlp = build("_target_: mlp\nhidden: [100]\n");
  EXPECT_EQ(parameter_count(*mlp), 784 * 100 + 100 + 100 * 10 + 10);
}

TEST(ModelZoo, ConfigErrorsNameTheKeyAndSuggest) {
  try {
    build("_target_: cnn\nchanels: [8]\n");
    FAIL();
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'channels'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.yaml:2:1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(build("_target_: cnn\ndropout: 1.5\n"), config::ConfigError);
  EXPECT_THROW(build("_target_: cnnn\n"), config::ConfigError);
}

}  // namespace
}  // namespace kiln::models
