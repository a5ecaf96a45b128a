// kiln's data layer: what the trainer iterates, and the data it ships with.
//
//   data/batch.h                Batch: input and target tensors
//   data/batch_loader.h         BatchLoader: one epoch of batches, deterministic and resumable
//   data/data_module.h          DataModule (Lightning's LightningDataModule), DataFile, the "datamodule" kind
//   data/tensor_batch_loader.h  TensorBatchLoader: batches of in-memory tensors, shuffled per epoch
//   data/prefetch_loader.h      PrefetchLoader: any loader's batches made ahead by a background thread
//   data/shuffle.h              kiln's own seeded PRNG and permutations (the same on every platform)
//   data/idx.h                  load_idx: (gzip) IDX files as tensors
//   data/fashion_mnist.h        FashionMnistDataModule and its options
//   data/builtin_datamodules.h  register_builtin_datamodules()
//   data/error.h                DataFormatError
//
// docs/data.md is the user guide.
#pragma once

#include "kiln/data/batch.h"
#include "kiln/data/batch_loader.h"
#include "kiln/data/builtin_datamodules.h"
#include "kiln/data/data_module.h"
#include "kiln/data/error.h"
#include "kiln/data/fashion_mnist.h"
#include "kiln/data/idx.h"
#include "kiln/data/prefetch_loader.h"
#include "kiln/data/shuffle.h"
#include "kiln/data/tensor_batch_loader.h"
