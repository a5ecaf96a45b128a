// Small plain product types for the registry tests, and their kinds. Shared
// by several test files, as a trainer layer's kinds header would be.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/registry.h"

namespace kiln_test {

// The runtime argument of optimizers: what a model's parameters would be.
struct Params {
  std::vector<double> values;
};

struct Optimizer {
  virtual ~Optimizer() = default;
  std::string name;
  double lr = 0.0;
  double weight_decay = 0.0;
  std::vector<double> params;  // the runtime argument it was built with
};

// Schedulers need the optimizer they drive (a reference runtime argument).
struct Scheduler {
  virtual ~Scheduler() = default;
  virtual double lr_at(int step) const = 0;
  Optimizer* optimizer = nullptr;
};

struct Activation {
  std::string name;
  double slope = 0.0;
};

struct Encoder {
  std::string name;
  std::int64_t channels = 0;
  std::shared_ptr<Activation> activation;
};

struct Model {
  std::string name;
  std::int64_t hidden = 0;
  std::shared_ptr<Encoder> encoder;
  std::vector<std::string> callbacks;  // names of the callbacks built
};

struct Callback {
  std::string name;
};

// Registered only from registered_elsewhere_test.cpp.
struct Widget {
  std::string label;
  std::int64_t size = 0;
};

}  // namespace kiln_test

KILN_DEFINE_KIND(kiln_test::Optimizer, "optimizer", kiln_test::Params);
KILN_DEFINE_KIND(kiln_test::Scheduler, "scheduler", kiln_test::Optimizer&);
KILN_DEFINE_KIND(kiln_test::Activation, "activation");
KILN_DEFINE_KIND(kiln_test::Encoder, "encoder");
KILN_DEFINE_KIND(kiln_test::Model, "model");
KILN_DEFINE_KIND(kiln_test::Callback, "callback");
KILN_DEFINE_KIND(kiln_test::Widget, "widget");
