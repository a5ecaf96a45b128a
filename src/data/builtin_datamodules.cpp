#include "kiln/data/builtin_datamodules.h"

#include <memory>

#include "kiln/data/data_module.h"
#include "kiln/data/fashion_mnist.h"
#include "kiln/data/shards_datamodule.h"
#include "kiln/data/token_windows.h"
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
    kiln::registry<DataModule>().add("tokens", token_windows_schema(), [](const TokenWindowsOptions& o) {
      return std::make_shared<TokenWindowsDataModule>(o);
    });
    kiln::registry<DataModule>().add(
        "synthetic_tokens", synthetic_tokens_schema(),
        [](const SyntheticTokensOptions& o) { return std::make_shared<SyntheticTokensDataModule>(o); });
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::data
