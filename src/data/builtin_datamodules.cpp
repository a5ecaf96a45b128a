#include "kiln/data/builtin_datamodules.h"

#include <memory>

#include "kiln/data/data_module.h"
#include "kiln/data/fashion_mnist.h"
#include "kiln/data/shards_datamodule.h"
#include "kiln/registry/registry.h"

namespace kiln::data {

void register_builtin_datamodules() {
  // A function-local static: registers once, also when called from several
  // threads at once.
  static const bool registered = [] {
    kiln::registry<DataModule>().add("fashion_mnist", fashion_mnist_schema(), [](const FashionMnistOptions& o) {
      return std::make_shared<FashionMnistDataModule>(o);
    });
    kiln::registry<DataModule>().add("shards", shards_schema(),
                                     [](const ShardsOptions& o) { return std::make_shared<ShardsDataModule>(o); });
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::data
