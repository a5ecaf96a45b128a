// Registers kiln's own data modules with kiln::registry<DataModule>():
//   fashion_mnist   FashionMnistDataModule (fashion_mnist.h)
//   shards          ShardsDataModule (shards_datamodule.h)
//   tokens          TokenWindowsDataModule (token_windows.h)
//   synthetic_tokens  SyntheticTokensDataModule (token_windows.h)
//
// kiln_data is a static library, where static registrars would be dropped by
// the linker (see kiln/registry/registrar.h), so registration is this
// explicit call instead. Call it once before instantiating a `data` node
// (the trainer does); further calls do nothing. Thread-safe.
#pragma once

namespace kiln::data {

void register_builtin_datamodules();

}  // namespace kiln::data
