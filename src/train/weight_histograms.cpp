#include "kiln/train/weight_histograms.h"

#include "kiln/config/error.h"
#include "kiln/train/module.h"
#include "kiln/train/trainer.h"

namespace kiln {

WeightHistograms::WeightHistograms(WeightHistogramsOptions options) : options_(options) {
  if (options_.every_n_steps < 1)
    throw config::ConfigError(
        config::Diagnostic{"weight_histograms.every_n_steps", config::Source::generated("callback options"),
                           "expected an integer >= 1, found " + std::to_string(options_.every_n_steps), ""});
}

void WeightHistograms::on_train_step_end(Trainer& trainer, Module& module) {
  if (trainer.global_step() % options_.every_n_steps != 0) return;
  std::shared_ptr<void> whole_model = trainer.summon_full_params();  // ZeRO-3: every rank gathers
  for (const auto& item : module.named_parameters()) trainer.log_histogram("weights/" + item.key(), item.value());
}

}  // namespace kiln
