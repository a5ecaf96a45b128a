#include "kiln/train/lr_monitor.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "kiln/config/error.h"
#include "kiln/train/trainer.h"

namespace kiln {
namespace {

// The optimizer's class name without namespaces, as Lightning takes
// optimizer.__class__.__name__.
std::string optimizer_name(const torch::optim::Optimizer& opt) {
  const char* mangled = typeid(opt).name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string name = status == 0 && demangled ? demangled.get() : mangled;
  std::size_t colon = name.rfind("::");
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

}  // namespace

LearningRateMonitor::LearningRateMonitor(LearningRateMonitorOptions options) : options_(std::move(options)) {
  if (options_.logging_interval != "step" && options_.logging_interval != "epoch")
    throw config::ConfigError(
        config::Diagnostic{"learning_rate_monitor.logging_interval", config::Source::generated("callback options"),
                           "expected 'step' or 'epoch', found '" + options_.logging_interval + "'", ""});
}

Metrics LearningRateMonitor::learning_rates(const Trainer& trainer) {
  Metrics rates;
  torch::optim::Optimizer* opt = trainer.optimizer();
  if (!opt) return rates;
  const std::string name = "lr-" + optimizer_name(*opt);
  auto& groups = opt->param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::string key = groups.size() > 1 ? name + "/pg" + std::to_string(g + 1) : name;
    rates[key] = groups[g].options().get_lr();
  }
  return rates;
}

void LearningRateMonitor::on_train_epoch_start(Trainer& trainer, Module&) {
  if (options_.logging_interval == "epoch") trainer.log_metrics(learning_rates(trainer));
}

void LearningRateMonitor::on_train_step_end(Trainer& trainer, Module&) {
  if (options_.logging_interval == "step" && trainer.global_step() % trainer.options().log_every_n_steps == 0)
    trainer.log_metrics(learning_rates(trainer));
}

}  // namespace kiln
