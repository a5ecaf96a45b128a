// Tests for kiln::Registry (kiln/registry/registry.h): binding `_target_`
// nodes to factories' typed options, the reserved keys, partials, runtime
// arguments, registration rules and factory failures. Uses registries of its
// own, so the process-wide ones are untouched.
#include "kiln/registry/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kiln/config/yaml.h"
#include "test_products.h"

namespace kiln_test {
namespace {

using kiln::config::ConfigError;
using kiln::config::Diagnostic;
using kiln::config::Diagnostics;
using kiln::config::Node;
using kiln::config::Schema;

Node yaml(std::string_view text) { return kiln::config::load_yaml(text, "test.yaml").root; }

// The diagnostics fn throws, or none.
template <class Fn>
std::vector<Diagnostic> errors_of(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  return {};
}

struct AdamWOptions {
  double lr = 1e-3;
  double weight_decay = 0.01;
  std::vector<double> betas{0.9, 0.999};
};

Schema<AdamWOptions> adamw_schema() {
  Schema<AdamWOptions> s("adamw", {.doc = "AdamW with decoupled weight decay"});
  s.field("lr", &AdamWOptions::lr).doc("learning rate").min(0.0);
  s.field("weight_decay", &AdamWOptions::weight_decay).doc("decoupled weight decay").range(0.0, 1.0);
  s.field("betas", &AdamWOptions::betas).doc("coefficients of the running averages");
  return s;
}

std::shared_ptr<Optimizer> make_adamw(const AdamWOptions& o, Params params) {
  auto opt = std::make_shared<Optimizer>();
  opt->name = "adamw";
  opt->lr = o.lr;
  opt->weight_decay = o.weight_decay;
  opt->params = std::move(params.values);
  return opt;
}

struct SgdOptions {
  double lr = 0.0;
  double momentum = 0.0;
};

Schema<SgdOptions> sgd_schema() {
  Schema<SgdOptions> s("sgd", {.doc = "stochastic gradient descent"});
  s.field("lr", &SgdOptions::lr).doc("learning rate").required();
  s.field("momentum", &SgdOptions::momentum).doc("momentum factor");
  return s;
}

// A derived class through a unique_ptr: both are accepted as results.
struct Sgd : Optimizer {
  double momentum = 0.0;
};
std::unique_ptr<Sgd> make_sgd(const SgdOptions& o, Params params) {
  auto opt = std::make_unique<Sgd>();
  opt->name = "sgd";
  opt->lr = o.lr;
  opt->momentum = o.momentum;
  opt->params = std::move(params.values);
  return opt;
}

using Optimizers = kiln::Registry<Optimizer, Params>;

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() {
    optimizers.add("adamw", adamw_schema(), make_adamw);
    optimizers.add("sgd", sgd_schema(), make_sgd);
  }
  std::vector<Diagnostic> create_errors(std::string_view text) {
    Node root = yaml(text);
    return errors_of([&] { optimizers.create_at(root, {"optimizer"}, Params{}); });
  }

  Optimizers optimizers{"optimizer"};
};

// --- parameters by name ---

TEST_F(RegistryTest, ParametersArriveByName) {
  auto opt = optimizers.create(yaml("weight_decay: 0.1\n_target_: adamw\nlr: 3.0e-4\n"), Params{{1.0, 2.0}});
  EXPECT_EQ(opt->name, "adamw");
  EXPECT_DOUBLE_EQ(opt->lr, 3e-4);
  EXPECT_DOUBLE_EQ(opt->weight_decay, 0.1);
  EXPECT_EQ(opt->params, (std::vector<double>{1.0, 2.0}));
}

TEST_F(RegistryTest, AbsentParametersTakeTheirDeclaredDefaults) {
  auto opt = optimizers.create(yaml("_target_: adamw\n"), Params{});
  EXPECT_DOUBLE_EQ(opt->lr, 1e-3);
  EXPECT_DOUBLE_EQ(opt->weight_decay, 0.01);
}

TEST_F(RegistryTest, ValuesConvertAsSchemasDo) {
  // An int and a string in exponent form are floats, as in OmegaConf.
  auto opt = optimizers.create(yaml("_target_: adamw\nlr: 1\nweight_decay: '1e-2'\n"), Params{});
  EXPECT_DOUBLE_EQ(opt->lr, 1.0);
  EXPECT_DOUBLE_EQ(opt->weight_decay, 0.01);
}

TEST_F(RegistryTest, UniquePtrOfDerivedClassIsAccepted) {
  auto opt = optimizers.create(yaml("_target_: sgd\nlr: 0.1\nmomentum: 0.9\n"), Params{{3.0}});
  auto* sgd = dynamic_cast<Sgd*>(opt.get());
  ASSERT_NE(sgd, nullptr);
  EXPECT_DOUBLE_EQ(sgd->momentum, 0.9);
  EXPECT_EQ(sgd->params, std::vector<double>{3.0});
}

TEST_F(RegistryTest, UnknownKeyIsAnErrorWithDidYouMean) {
  auto errors = create_errors("optimizer:\n  _target_: adamw\n  lrr: 0.1\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lrr");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:3:8");
  EXPECT_NE(
      errors[0].message.find("unknown key 'lrr' (not a field of adamw; expected one of: lr, weight_decay, betas)"),
      std::string::npos)
      << errors[0].message;
  EXPECT_EQ(errors[0].hint, "did you mean 'optimizer.lr'?");
}

TEST_F(RegistryTest, WrongTypeNamesKeyAndSource) {
  auto errors = create_errors("optimizer:\n  _target_: adamw\n  lr: fast\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lr");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:3:7");
  EXPECT_EQ(errors[0].message, "expected a float, found string 'fast'");
}

TEST_F(RegistryTest, ValueOutOfRangeNamesTheRange) {
  auto errors = create_errors("optimizer:\n  _target_: adamw\n  weight_decay: 2\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.weight_decay");
  EXPECT_NE(errors[0].message.find("out of range: expected 0 <= x <= 1"), std::string::npos) << errors[0].message;
}

TEST_F(RegistryTest, RequiredParameterMissing) {
  auto errors = create_errors("optimizer:\n  _target_: sgd\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lr");
  EXPECT_NE(errors[0].message.find("missing mandatory value"), std::string::npos);
}

TEST_F(RegistryTest, EveryProblemOfTheNodeIsReportedAtOnce) {
  Node root = yaml("optimizer:\n  _target_: adamw\n  lrr: 0.1\n  weight_decay: x\n  _partial_: sometimes\n");
  try {
    optimizers.create_at(root, {"optimizer"}, Params{});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 3u);
    EXPECT_EQ(e.diagnostics()[0].key, "optimizer._partial_");
    EXPECT_EQ(e.diagnostics()[1].key, "optimizer.lrr");
    EXPECT_EQ(e.diagnostics()[2].key, "optimizer.weight_decay");
    EXPECT_NE(std::string(e.what()).find("3 config errors"), std::string::npos);
    EXPECT_EQ(e.exit_code(), kiln::ExitCode::kConfig);
  }
}

// --- _target_ ---

TEST_F(RegistryTest, UnknownTargetNamesTheKindListsNamesAndSuggests) {
  auto errors = create_errors("optimizer:\n  _target_: adamww\n  lr: 0.1\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer._target_");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:2:13");
  EXPECT_EQ(errors[0].message, "unknown optimizer 'adamww' (expected one of: adamw, sgd)");
  EXPECT_EQ(errors[0].hint, "did you mean 'adamw'?");
}

TEST_F(RegistryTest, UnknownTargetWithNothingCloseHintsAtStaticLibraries) {
  auto errors = create_errors("optimizer:\n  _target_: lbfgs\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].hint.find("--whole-archive"), std::string::npos) << errors[0].hint;
}

TEST(RegistryEmpty, UnknownTargetSaysNothingIsRegistered) {
  Optimizers empty("optimizer");
  auto errors = errors_of([&] { empty.create(yaml("_target_: adamw\n"), Params{}); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "_target_");
  EXPECT_EQ(errors[0].message, "unknown optimizer 'adamw' (no optimizer is registered)");
}

TEST_F(RegistryTest, MissingTargetIsAnErrorAtTheNode) {
  auto errors = create_errors("optimizer:\n  lr: 0.1\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer._target_");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:2:3");
  EXPECT_EQ(errors[0].message, "missing _target_: expected the name of a registered optimizer (one of: adamw, sgd)");
  EXPECT_EQ(errors[0].hint, "add `_target_: <name>` to choose the optimizer");
}

TEST_F(RegistryTest, MisspeltTargetKeyIsOneErrorWithDidYouMean) {
  for (const char* spelling : {"target", "_target", "_targte_"}) {
    auto errors = create_errors(std::string("optimizer:\n  ") + spelling + ": adamw\n");
    ASSERT_EQ(errors.size(), 1u) << spelling;
    EXPECT_EQ(errors[0].key, "optimizer._target_");
    EXPECT_EQ(errors[0].hint, std::string("did you mean '_target_'? (found '") + spelling + "')");
  }
}

TEST_F(RegistryTest, AbsentSubtreeIsAMissingTarget) {
  auto errors = create_errors("model:\n  hidden: 3\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer._target_");
  EXPECT_NE(errors[0].message.find("missing _target_"), std::string::npos);
}

TEST_F(RegistryTest, TargetMustBeAString) {
  auto errors = create_errors("optimizer:\n  _target_: 3\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer._target_");
  EXPECT_EQ(errors[0].message, "expected a string (the name of a registered optimizer), found int 3");

  errors = create_errors("optimizer:\n  _target_: ???\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("missing mandatory value: found ???"), std::string::npos);

  errors = create_errors("optimizer:\n  _target_: ${choice}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].hint.find("resolve the config first"), std::string::npos) << errors[0].hint;
}

TEST_F(RegistryTest, NodeMustBeAMap) {
  auto errors = create_errors("optimizer: adamw\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:1:12");
  EXPECT_EQ(errors[0].message, "expected a map with _target_ (an optimizer), found string 'adamw'");
  EXPECT_EQ(errors[0].hint, "write {_target_: adamw} to choose the optimizer 'adamw'");
}

// --- reserved keys ---

TEST_F(RegistryTest, ReservedKeysNeverReachTheFactory) {
  // adamw's schema is closed: _partial_ would be an unknown key if passed on.
  auto opt = optimizers.create(yaml("_target_: adamw\n_partial_: true\nlr: 0.5\n"), Params{});
  EXPECT_DOUBLE_EQ(opt->lr, 0.5);
}

TEST(ReservedKeys, StartAndEndWithAnUnderscore) {
  EXPECT_TRUE(kiln::is_reserved_key("_target_"));
  EXPECT_TRUE(kiln::is_reserved_key("__"));
  EXPECT_FALSE(kiln::is_reserved_key("_"));
  EXPECT_FALSE(kiln::is_reserved_key("_lr"));
  EXPECT_FALSE(kiln::is_reserved_key("lr_"));
}

TEST_F(RegistryTest, PartialFlagMustBeABool) {
  auto errors = create_errors("optimizer:\n  _target_: adamw\n  _partial_: sometimes\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer._partial_");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:3:14");
  EXPECT_EQ(errors[0].message, "expected a bool, found string 'sometimes'");
}

TEST_F(RegistryTest, HydraKeysKilnDoesNotSupportAreRefusedWithAReason) {
  auto errors =
      create_errors("optimizer:\n  _target_: adamw\n  _args_: [0.1]\n  _recursive_: false\n  _convert_: all\n");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].key, "optimizer._args_");
  EXPECT_EQ(errors[0].message,
            "positional arguments (_args_) are not supported: kiln passes a factory's parameters by name");
  EXPECT_EQ(errors[1].key, "optimizer._recursive_");
  EXPECT_NE(errors[1].message.find("_recursive_ is not supported"), std::string::npos);
  EXPECT_EQ(errors[2].key, "optimizer._convert_");
  EXPECT_NE(errors[2].message.find("_convert_ is not supported"), std::string::npos);
}

TEST_F(RegistryTest, UnknownReservedKeySuggestsTheKnownOnes) {
  auto errors = create_errors("optimizer:\n  _target_: adamw\n  _partail_: true\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer._partail_");
  EXPECT_NE(errors[0].message.find("unknown reserved key '_partail_'"), std::string::npos);
  EXPECT_EQ(errors[0].hint, "did you mean '_partial_'?");
}

// --- partials and runtime arguments ---

TEST_F(RegistryTest, PartialBindsNowAndBuildsWhenCalled) {
  Node root = yaml("optimizer:\n  _target_: adamw\n  _partial_: true\n  lr: 0.02\n");
  Optimizers::partial_type make = optimizers.partial_at(root, {"optimizer"});
  ASSERT_TRUE(make);
  EXPECT_EQ(make.kind(), "optimizer");
  EXPECT_EQ(make.target(), "adamw");
  EXPECT_EQ(make.key(), "optimizer");
  EXPECT_EQ(make.config().find("lr")->as_float(), 0.02);

  auto first = make(Params{{1.0}});
  auto second = make.create(Params{{2.0, 3.0}});
  EXPECT_NE(first, second);  // each call builds a new product
  EXPECT_DOUBLE_EQ(first->lr, 0.02);
  EXPECT_EQ(first->params, std::vector<double>{1.0});
  EXPECT_EQ(second->params, (std::vector<double>{2.0, 3.0}));
}

TEST_F(RegistryTest, PartialReportsConfigErrorsBeforeAnythingIsBuilt) {
  auto errors = errors_of([&] { optimizers.partial(yaml("_target_: adamw\nlr: -1\n"), {"optimizer"}); });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lr");
}

TEST(RegistryPartial, EmptyPartialThrowsWhenCalled) {
  Optimizers::partial_type empty;
  EXPECT_FALSE(empty);
  EXPECT_EQ(empty.target(), "");
  EXPECT_THROW(empty(Params{}), kiln::Error);
}

// Runtime arguments are part of create()'s signature: a factory that needs
// them cannot be built without them (this would not compile).
template <class R>
concept CreatableWithoutArgs = requires(const R& r, const Node& n) {
  r.create(n);
};
static_assert(!CreatableWithoutArgs<Optimizers>);
static_assert(CreatableWithoutArgs<kiln::Registry<Activation>>);

TEST(RegistryRuntimeArgs, ReferenceArgumentsReachTheFactory) {
  struct Constant : Scheduler {
    double lr = 0;
    double lr_at(int) const override { return lr; }
  };
  struct ConstantOptions {
    double factor = 1.0;
  };
  Schema<ConstantOptions> schema("constant");
  schema.field("factor", &ConstantOptions::factor);
  kiln::Registry<Scheduler, Optimizer&> schedulers("scheduler");
  schedulers.add("constant", schema, [](const ConstantOptions& o, Optimizer& opt) {
    auto s = std::make_shared<Constant>();
    s->optimizer = &opt;
    s->lr = opt.lr * o.factor;
    return s;
  });
  Optimizer opt;
  opt.lr = 0.5;
  auto s = schedulers.create(yaml("_target_: constant\nfactor: 0.1\n"), opt);
  EXPECT_EQ(s->optimizer, &opt);
  EXPECT_DOUBLE_EQ(s->lr_at(7), 0.05);
}

TEST(RegistryRuntimeArgs, NoArgumentsAtAll) {
  kiln::Registry<Activation> activations("activation");
  activations.add("relu", [] { return std::make_shared<Activation>(Activation{"relu", 0.0}); });
  EXPECT_EQ(activations.create(yaml("_target_: relu\n"))->name, "relu");
}

TEST_F(RegistryTest, FactoryWithoutParametersTakesOnlyReservedKeys) {
  optimizers.add("none", [](Params p) {
    auto opt = std::make_shared<Optimizer>();
    opt->params = p.values;
    return opt;
  });
  EXPECT_EQ(optimizers.create(yaml("_target_: none\n"), Params{{4.0}})->params, std::vector<double>{4.0});
  auto errors = create_errors("optimizer:\n  _target_: none\n  lr: 1\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lr");
  EXPECT_NE(errors[0].message.find("unknown key 'lr' (not a field of none; it has no fields)"), std::string::npos)
      << errors[0].message;
}

// --- registration ---

TEST_F(RegistryTest, DuplicateRegistrationIsAnError) {
  try {
    optimizers.add("adamw", adamw_schema(), make_adamw);
    FAIL() << "expected kiln::Error";
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer 'adamw' is already registered"), std::string::npos) << e.what();
  }
  // The first registration is untouched.
  EXPECT_EQ(optimizers.create(yaml("_target_: adamw\n"), Params{})->name, "adamw");
}

TEST_F(RegistryTest, InvalidNamesAreRefused) {
  for (const char* name : {"", "two words", "a:b"}) {
    EXPECT_THROW(optimizers.add(name, adamw_schema(), make_adamw), kiln::Error) << name;
  }
  EXPECT_NO_THROW(optimizers.add("torch.optim.AdamW", adamw_schema(), make_adamw));
  EXPECT_NO_THROW(optimizers.add("my-lib/adam_v2", adamw_schema(), make_adamw));
}

TEST_F(RegistryTest, RemoveThenAddReplaces) {
  EXPECT_TRUE(optimizers.remove("sgd"));
  EXPECT_FALSE(optimizers.remove("sgd"));
  EXPECT_EQ(optimizers.names(), std::vector<std::string>{"adamw"});
  EXPECT_FALSE(optimizers.contains("sgd"));
  optimizers.add("sgd", adamw_schema(), make_adamw);
  EXPECT_EQ(optimizers.create(yaml("_target_: sgd\n"), Params{})->name, "adamw");
}

// --- validation without building ---

TEST_F(RegistryTest, ValidateBuildsNothingAndCollects) {
  int built = 0;
  optimizers.add("counted", adamw_schema(), [&built](const AdamWOptions& o, Params p) {
    ++built;
    return make_adamw(o, std::move(p));
  });
  Node root = yaml("a:\n  _target_: counted\nb:\n  _target_: counted\n  lr: x\nc:\n  _target_: nope\n");
  Diagnostics diags;
  EXPECT_TRUE(optimizers.validate_at(root, {"a"}, diags));
  EXPECT_FALSE(optimizers.validate_at(root, {"b"}, diags));
  EXPECT_FALSE(optimizers.validate(*root.find("c"), diags, "c"));
  EXPECT_EQ(built, 0);
  ASSERT_EQ(diags.size(), 2u);
  EXPECT_EQ(diags.items()[0].key, "b.lr");
  EXPECT_EQ(diags.items()[1].key, "c._target_");
}

// --- factory failures ---

TEST_F(RegistryTest, InvalidParamBecomesAConfigErrorAtTheParameter) {
  optimizers.add("checked", adamw_schema(), [](const AdamWOptions& o, Params) -> std::shared_ptr<Optimizer> {
    if (o.betas.size() != 2)
      throw kiln::InvalidParam("betas", "expected 2 betas, found " + std::to_string(o.betas.size()),
                               "write betas: [0.9, 0.999]");
    return std::make_shared<Optimizer>();
  });
  auto errors = create_errors("optimizer:\n  _target_: checked\n  betas: [0.9]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.betas");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:3:10");
  EXPECT_EQ(errors[0].message, "expected 2 betas, found 1");
  EXPECT_EQ(errors[0].hint, "write betas: [0.9, 0.999]");
}

TEST_F(RegistryTest, OtherFactoryExceptionsNameTheConfigThatFailed) {
  optimizers.add("broken", adamw_schema(), [](const AdamWOptions&, Params) -> std::shared_ptr<Optimizer> {
    throw std::runtime_error("CUDA out of memory");
  });
  Node root = yaml("optimizer:\n  _target_: broken\n");
  try {
    optimizers.create_at(root, {"optimizer"}, Params{});
    FAIL() << "expected kiln::Error";
  } catch (const ConfigError&) {
    FAIL() << "a factory failure is not a config error";
  } catch (const kiln::Error& e) {
    EXPECT_EQ(std::string(e.what()), "optimizer 'broken' at optimizer: the factory failed: CUDA out of memory");
    EXPECT_EQ(e.exit_code(), kiln::ExitCode::kFailure);
  }
}

TEST_F(RegistryTest, ConfigErrorsFromTheFactoryPassThrough) {
  optimizers.add("strict", adamw_schema(), [](const AdamWOptions&, Params) -> std::shared_ptr<Optimizer> {
    throw ConfigError(Diagnostic{"elsewhere", {}, "no", ""});
  });
  auto errors = create_errors("optimizer:\n  _target_: strict\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "elsewhere");
}

TEST_F(RegistryTest, NullProductIsReported) {
  optimizers.add("hollow", adamw_schema(), [](const AdamWOptions&, Params) { return std::shared_ptr<Optimizer>(); });
  try {
    optimizers.create(yaml("_target_: hollow\n"), Params{});
    FAIL() << "expected kiln::Error";
  } catch (const kiln::Error& e) {
    EXPECT_EQ(std::string(e.what()), "optimizer 'hollow': the factory returned null (a bug in the factory)");
  }
}

// --- thread safety ---

TEST_F(RegistryTest, ConcurrentCreatesWhileRegistering) {
  std::atomic<int> built{0};
  std::vector<std::thread> threads;
  const Node node = yaml("_target_: adamw\nlr: 0.25\n");
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (optimizers.create(node, Params{})->lr == 0.25) ++built;
        (void)optimizers.names();
      }
    });
  }
  for (int i = 0; i < 50; ++i) optimizers.add("extra" + std::to_string(i), adamw_schema(), make_adamw);
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(built.load(), 800);
  EXPECT_EQ(optimizers.names().size(), 52u);
}

}  // namespace
}  // namespace kiln_test
