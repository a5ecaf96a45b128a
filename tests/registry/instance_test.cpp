// Tests for kiln::Instance<U> (kiln/registry/instance.h): nested `_target_`
// nodes bound through the process-wide registries, two levels deep, in
// lists and optionals, with runtime arguments, over C++ defaults, and their
// rows in help. Factories are registered with KILN_REGISTER as a user would.
#include "kiln/registry/instance.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kiln/config/yaml.h"
#include "kiln/registry/registrar.h"
#include "test_products.h"

namespace kiln_test {

// Lightning-style: a model that builds its own optimizer later.
struct LitModel {
  std::function<std::shared_ptr<Optimizer>(Params)> configure_optimizer;
};

}  // namespace kiln_test

KILN_DEFINE_KIND(kiln_test::LitModel, "lit_model");

namespace kiln_test {
namespace {

using kiln::Instance;
using kiln::config::ConfigError;
using kiln::config::Diagnostic;
using kiln::config::Node;
using kiln::config::Schema;

Node yaml(std::string_view text) { return kiln::config::load_yaml(text, "test.yaml").root; }

template <class Fn>
std::vector<Diagnostic> errors_of(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  return {};
}

// --- activations: level 2 ---

struct LeakyOptions {
  double slope = 0.01;
};
Schema<LeakyOptions> leaky_schema() {
  Schema<LeakyOptions> s("leaky_relu", {.doc = "max(x, slope * x)"});
  s.field("slope", &LeakyOptions::slope).doc("negative slope").range(0.0, 1.0);
  return s;
}
KILN_REGISTER(Activation, "leaky_relu", leaky_schema(), [](const LeakyOptions& o) {
  return std::make_shared<Activation>(Activation{"leaky_relu", o.slope});
});
KILN_REGISTER(Activation, "identity", [] { return std::make_shared<Activation>(Activation{"identity", 1.0}); });

// --- encoders: level 1 ---

Node leaky_default() {
  Node node = Node::map();
  node.set("_target_", Node::string("leaky_relu"));
  node.set("slope", Node::floating(0.01));
  return node;
}

struct ConvOptions {
  std::int64_t channels = 16;
  Instance<Activation> activation{leaky_default()};
};
Schema<ConvOptions> conv_schema() {
  Schema<ConvOptions> s("conv", {.doc = "a convolutional encoder"});
  s.field("channels", &ConvOptions::channels).doc("output channels").min(1);
  s.field("activation", &ConvOptions::activation).doc("the nonlinearity");
  return s;
}
std::shared_ptr<Encoder> make_conv(const ConvOptions& o) {
  return std::make_shared<Encoder>(Encoder{"conv", o.channels, o.activation.create()});
}
KILN_REGISTER(Encoder, "conv", conv_schema(), make_conv);

struct LinearOptions {
  std::int64_t dim = 8;
};
Schema<LinearOptions> linear_schema() {
  Schema<LinearOptions> s("linear");
  s.field("dim", &LinearOptions::dim);
  return s;
}
KILN_REGISTER(Encoder, "linear", linear_schema(), [](const LinearOptions& o) {
  return std::make_shared<Encoder>(Encoder{"linear", o.dim, nullptr});
});

// --- callbacks ---

struct EarlyStoppingOptions {
  std::int64_t patience = 3;
};
Schema<EarlyStoppingOptions> early_stopping_schema() {
  Schema<EarlyStoppingOptions> s("early_stopping");
  s.field("patience", &EarlyStoppingOptions::patience).min(0);
  return s;
}
KILN_REGISTER(Callback, "early_stopping", early_stopping_schema(), [](const EarlyStoppingOptions& o) {
  return std::make_shared<Callback>(Callback{"early_stopping/" + std::to_string(o.patience)});
});
KILN_REGISTER(Callback, "checkpoint", [] { return std::make_shared<Callback>(Callback{"checkpoint"}); });

// --- models: level 0 ---

struct MlpOptions {
  std::int64_t hidden = 128;
  Instance<Encoder> encoder;
  std::vector<Instance<Callback>> callbacks;
  std::optional<Instance<Encoder>> head;
};
Schema<MlpOptions> mlp_schema() {
  Schema<MlpOptions> s("mlp", {.doc = "a multi-layer perceptron"});
  s.field("hidden", &MlpOptions::hidden).doc("hidden width").min(1);
  s.field("encoder", &MlpOptions::encoder).doc("the input encoder").required();
  s.field("callbacks", &MlpOptions::callbacks).doc("callbacks to attach");
  s.field("head", &MlpOptions::head).doc("an optional output encoder");
  return s;
}
std::shared_ptr<Model> make_mlp(const MlpOptions& o) {
  auto model = std::make_shared<Model>();
  model->name = "mlp";
  model->hidden = o.hidden;
  model->encoder = o.encoder.create();
  for (const auto& cb : o.callbacks) model->callbacks.push_back(cb.create()->name);
  if (o.head) model->callbacks.push_back("head:" + o.head->create()->name);
  return model;
}
KILN_REGISTER(Model, "mlp", mlp_schema(), make_mlp);

// --- schedulers: nested with a runtime argument ---

struct CosineOptions {
  double t_max = 100;
};
Schema<CosineOptions> cosine_schema() {
  Schema<CosineOptions> s("cosine");
  s.field("t_max", &CosineOptions::t_max).min(1.0);
  return s;
}
struct Cosine : Scheduler {
  double t_max = 0;
  double lr_at(int step) const override { return optimizer->lr * (1.0 - step / t_max); }
};
KILN_REGISTER(Scheduler, "cosine", cosine_schema(), [](const CosineOptions& o, Optimizer& opt) {
  auto s = std::make_shared<Cosine>();
  s->optimizer = &opt;
  s->t_max = o.t_max;
  return s;
});

struct WarmupOptions {
  std::int64_t steps = 10;
  Instance<Scheduler> after;
};
Schema<WarmupOptions> warmup_schema() {
  Schema<WarmupOptions> s("warmup", {.doc = "linear warmup, then another scheduler"});
  s.field("steps", &WarmupOptions::steps).min(0);
  s.field("after", &WarmupOptions::after).doc("the scheduler after warmup").required();
  return s;
}
struct Warmup : Scheduler {
  std::int64_t steps = 0;
  std::shared_ptr<Scheduler> after;
  double lr_at(int step) const override {
    return step < steps ? optimizer->lr * (step + 1) / static_cast<double>(steps) : after->lr_at(step - steps);
  }
};
KILN_REGISTER(Scheduler, "warmup", warmup_schema(), [](const WarmupOptions& o, Optimizer& opt) {
  auto s = std::make_shared<Warmup>();
  s->optimizer = &opt;
  s->steps = o.steps;
  s->after = o.after.create(opt);  // the nested scheduler gets the runtime argument too
  return s;
});

// --- optimizers, for a nested partial ---

struct PlainOptions {
  double lr = 0.1;
};
Schema<PlainOptions> plain_schema() {
  Schema<PlainOptions> s("plain");
  s.field("lr", &PlainOptions::lr);
  return s;
}
KILN_REGISTER(Optimizer, "plain", plain_schema(), [](const PlainOptions& o, Params p) {
  auto opt = std::make_shared<Optimizer>();
  opt->name = "plain";
  opt->lr = o.lr;
  opt->params = std::move(p.values);
  return opt;
});

struct LitOptions {
  Instance<Optimizer> optimizer;
};
Schema<LitOptions> lit_schema() {
  Schema<LitOptions> s("lit");
  s.field("optimizer", &LitOptions::optimizer).required();
  return s;
}
KILN_REGISTER(LitModel, "lit", lit_schema(), [](const LitOptions& o) {
  auto model = std::make_shared<LitModel>();
  model->configure_optimizer = [make = o.optimizer](Params p) { return make.create(std::move(p)); };
  return model;
});

// --- tests ---

constexpr const char* kTwoLevels =
    "model:\n"
    "  _target_: mlp\n"
    "  hidden: 64\n"
    "  encoder:\n"
    "    _target_: conv\n"
    "    channels: 8\n"
    "    activation: {_target_: leaky_relu, slope: 0.2}\n";

TEST(Instance, TwoLevelsOfNestingAreBuiltByTheirParents) {
  auto model = kiln::instantiate_at<Model>(yaml(kTwoLevels), {"model"});
  EXPECT_EQ(model->hidden, 64);
  ASSERT_NE(model->encoder, nullptr);
  EXPECT_EQ(model->encoder->name, "conv");
  EXPECT_EQ(model->encoder->channels, 8);
  ASSERT_NE(model->encoder->activation, nullptr);
  EXPECT_EQ(model->encoder->activation->name, "leaky_relu");
  EXPECT_DOUBLE_EQ(model->encoder->activation->slope, 0.2);
}

TEST(Instance, NestedProblemsAreReportedWithFullKeysAlongsideTheParents) {
  Node root = yaml(
      "model:\n"
      "  _target_: mlp\n"
      "  hidden: wide\n"
      "  encoder:\n"
      "    _target_: conv\n"
      "    channels: 0\n"
      "    activation: {_target_: leaky_relu, slop: 0.2}\n");
  auto errors = errors_of([&] { kiln::instantiate_at<Model>(root, {"model"}); });
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].key, "model.hidden");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:3:11");
  EXPECT_EQ(errors[1].key, "model.encoder.channels");
  EXPECT_EQ(errors[1].source.str(), "test.yaml:6:15");
  EXPECT_NE(errors[1].message.find("out of range"), std::string::npos);
  EXPECT_EQ(errors[2].key, "model.encoder.activation.slop");
  EXPECT_EQ(errors[2].source.str(), "test.yaml:7:46");
  EXPECT_EQ(errors[2].hint, "did you mean 'model.encoder.activation.slope'?");
}

TEST(Instance, NestedUnknownTargetNamesTheNestedKind) {
  Node root = yaml("model:\n  _target_: mlp\n  encoder: {_target_: convv}\n");
  auto errors = errors_of([&] { kiln::instantiate_at<Model>(root, {"model"}); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.encoder._target_");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:3:23");
  EXPECT_EQ(errors[0].message, "unknown encoder 'convv' (expected one of: conv, linear)");
  EXPECT_EQ(errors[0].hint, "did you mean 'conv'?");
}

TEST(Instance, NestedNodeMustBeAMapWithATarget) {
  Node root = yaml("model:\n  _target_: mlp\n  encoder: {channels: 3}\n");
  auto errors = errors_of([&] { kiln::instantiate_at<Model>(root, {"model"}); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.encoder._target_");
  EXPECT_EQ(errors[0].message, "missing _target_: expected the name of a registered encoder (one of: conv, linear)");

  root = yaml("model:\n  _target_: mlp\n  encoder: 3\n");
  errors = errors_of([&] { kiln::instantiate_at<Model>(root, {"model"}); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.encoder");
  EXPECT_EQ(errors[0].message, "expected a map with _target_ (an encoder), found int 3");
}

TEST(Instance, RequiredInstanceFieldMustBeSet) {
  Node root = yaml("model:\n  _target_: mlp\n");
  auto errors = errors_of([&] { kiln::instantiate_at<Model>(root, {"model"}); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.encoder");
  EXPECT_EQ(errors[0].message,
            "missing mandatory value: the key is not set (expected a map with _target_ (an encoder))");
}

TEST(Instance, DefaultConfigIsUsedWhenTheKeyIsAbsent) {
  auto model = kiln::instantiate<Model>(yaml("_target_: mlp\nencoder: {_target_: conv}\n"));
  EXPECT_EQ(model->encoder->channels, 16);
  EXPECT_EQ(model->encoder->activation->name, "leaky_relu");
  EXPECT_DOUBLE_EQ(model->encoder->activation->slope, 0.01);
}

TEST(Instance, NodeWithoutTargetTweaksTheDefault) {
  auto model =
      kiln::instantiate<Model>(yaml("_target_: mlp\nencoder:\n  _target_: conv\n  activation: {slope: 0.3}\n"));
  EXPECT_EQ(model->encoder->activation->name, "leaky_relu");
  EXPECT_DOUBLE_EQ(model->encoder->activation->slope, 0.3);
}

TEST(Instance, NodeWithAnotherTargetReplacesTheDefault) {
  // The default's `slope` does not follow: identity has no parameters.
  auto model =
      kiln::instantiate<Model>(yaml("_target_: mlp\nencoder:\n  _target_: conv\n  activation: {_target_: identity}\n"));
  EXPECT_EQ(model->encoder->activation->name, "identity");
}

TEST(Instance, ListOfNestedNodes) {
  Node root = yaml(
      "_target_: mlp\n"
      "encoder: {_target_: linear}\n"
      "callbacks:\n"
      "  - {_target_: early_stopping, patience: 5}\n"
      "  - {_target_: checkpoint}\n");
  auto model = kiln::instantiate<Model>(root);
  EXPECT_EQ(model->callbacks, (std::vector<std::string>{"early_stopping/5", "checkpoint"}));
}

TEST(Instance, ProblemInAListElementNamesItsIndex) {
  Node root = yaml(
      "model:\n"
      "  _target_: mlp\n"
      "  encoder: {_target_: linear}\n"
      "  callbacks:\n"
      "    - {_target_: checkpoint}\n"
      "    - {_target_: early_stopping, patiense: 5}\n");
  auto errors = errors_of([&] { kiln::instantiate_at<Model>(root, {"model"}); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.callbacks[1].patiense");
  EXPECT_EQ(errors[0].hint, "did you mean 'model.callbacks[1].patience'?");
}

TEST(Instance, OptionalNestedNode) {
  auto without = kiln::instantiate<Model>(yaml("_target_: mlp\nencoder: {_target_: linear}\nhead: null\n"));
  EXPECT_TRUE(without->callbacks.empty());
  auto with = kiln::instantiate<Model>(yaml("_target_: mlp\nencoder: {_target_: linear}\nhead: {_target_: linear}\n"));
  EXPECT_EQ(with->callbacks, std::vector<std::string>{"head:linear"});
}

TEST(Instance, NestedProductsReceiveRuntimeArguments) {
  Node root = yaml(
      "scheduler:\n"
      "  _target_: warmup\n"
      "  steps: 4\n"
      "  after: {_target_: cosine, t_max: 10}\n");
  Optimizer opt;
  opt.lr = 1.0;
  auto scheduler = kiln::instantiate_at<Scheduler>(root, {"scheduler"}, opt);
  auto* warmup = dynamic_cast<Warmup*>(scheduler.get());
  ASSERT_NE(warmup, nullptr);
  EXPECT_EQ(warmup->after->optimizer, &opt);
  EXPECT_DOUBLE_EQ(scheduler->lr_at(0), 0.25);
  EXPECT_DOUBLE_EQ(scheduler->lr_at(3), 1.0);
  EXPECT_DOUBLE_EQ(scheduler->lr_at(9), 0.5);  // cosine's step 5 of 10
}

TEST(Instance, SameKindNestedErrorsCarryTheirKind) {
  Node root = yaml("scheduler:\n  _target_: warmup\n  after: {_target_: cosine, t_max: 0}\n");
  Optimizer opt;
  auto errors = errors_of([&] { kiln::instantiate_at<Scheduler>(root, {"scheduler"}, opt); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "scheduler.after.t_max");
}

TEST(Instance, NestedPartialIsAFactoryTheParentCallsLater) {
  Node root = yaml("_target_: lit\noptimizer: {_target_: plain, _partial_: true, lr: 0.3}\n");
  auto model = kiln::instantiate<LitModel>(root);
  auto first = model->configure_optimizer(Params{{1.0}});
  auto second = model->configure_optimizer(Params{{2.0}});
  EXPECT_NE(first, second);
  EXPECT_DOUBLE_EQ(first->lr, 0.3);
  EXPECT_EQ(second->params, std::vector<double>{2.0});
}

TEST(Instance, EmptyInstanceCannotCreate) {
  Instance<Encoder> empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.target(), "");
  try {
    empty.create();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no encoder is configured here"), std::string::npos) << e.what();
  }
}

TEST(Instance, AnUntouchedDefaultIsCheckedWhenCreated) {
  Instance<Activation> bad{"relu6"};
  EXPECT_EQ(bad.target(), "relu6");
  auto errors = errors_of([&] { bad.create(); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "_target_");
  EXPECT_EQ(errors[0].source.str(), "a C++ default");
  EXPECT_EQ(errors[0].message, "unknown activation 'relu6' (expected one of: identity, leaky_relu)");
}

TEST(Instance, BoundInstanceRemembersItsKeyAndConfig) {
  // The options as the registry binds them: the node without its reserved keys.
  Node node = *yaml(kTwoLevels).find("model");
  node.erase("_target_");
  auto options = mlp_schema().bind(node, {"model"});
  EXPECT_EQ(options.encoder.key(), "model.encoder");
  EXPECT_EQ(options.encoder.target(), "conv");
  EXPECT_EQ(options.encoder.config().find("channels")->as_int(), 8);
  EXPECT_EQ(options.encoder.partial().key(), "model.encoder");
  // to_node writes the nested node back, so a bound config can be printed.
  Node back = mlp_schema().to_node(options);
  EXPECT_EQ(back.find("encoder")->find("_target_")->as_string(), "conv");
}

TEST(Instance, HelpShowsTheNestedKindAndDefault) {
  auto info = kiln::registry<Encoder>().info("conv");
  ASSERT_TRUE(info);
  auto rows = info->params(nullptr, {"encoder"});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].key, "encoder.activation");
  EXPECT_EQ(rows[1].type, "activation");
  EXPECT_EQ(rows[1].default_value, "{_target_: leaky_relu, slope: 0.01}");

  auto mlp_rows = kiln::registry<Model>().info("mlp")->params();
  ASSERT_EQ(mlp_rows.size(), 4u);
  EXPECT_EQ(mlp_rows[1].type, "encoder");
  EXPECT_EQ(mlp_rows[1].default_value, "???");
  EXPECT_TRUE(mlp_rows[1].required);
  EXPECT_EQ(mlp_rows[2].type, "list[callback]");
  EXPECT_EQ(mlp_rows[2].default_value, "[]");
  EXPECT_EQ(mlp_rows[3].type, "optional[encoder]");
}

}  // namespace
}  // namespace kiln_test
