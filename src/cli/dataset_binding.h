// A run's data config that names a catalog dataset (`data.dataset:
// fashion_mnist@1`) bound to the local, verified copy of it, before the
// data module is built.
//
//   data:
//     _target_: fashion_mnist
//     dataset: fashion_mnist@1   # NAME@VERSION, or NAME for the latest
//     root: null                 # null: the dataset's directory; a path overrides it
//     catalog: null              # optional: a catalog file read before $KILN_CATALOG's
//
// When `root` is null the dataset is made local (dataset_cache.h: the cache,
// a local source in place, or fetched; KILN_OFFLINE respected) and `root`
// becomes its directory. An explicit `root` wins: the dataset is then not
// looked up and the run records no dataset. `dataset` and `catalog` are
// kiln's keys, removed before the data module sees its parameters.
//
// The recorded config keeps `dataset` and `root: null`, so `kiln reproduce`
// binds again on whatever machine it runs on; the manifest records the
// dataset's name, version, catalog, directory and every file's SHA-256.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "kiln/config/node.h"
#include "kiln/data/dataset_cache.h"
#include "kiln/track/json.h"

namespace kiln::cli {

struct BoundDataset {
  std::string ref;      // "fashion_mnist@1"
  std::string catalog;  // the catalog file of the entry
  data::LocalDataset local;
};

struct DatasetBinding {
  config::Node runnable;                // what the trainer gets
  std::optional<BoundDataset> dataset;  // set when data.dataset was bound
};

// Binds `resolved`'s data.dataset (see above). Without `make_local` the
// entry is only looked up and `root` set to its cache directory, so the job
// can be validated before anything is fetched. Throws config::ConfigError
// naming data.dataset and its source for a bad or unknown reference, and
// kiln::IoError when the dataset cannot be made local.
DatasetBinding bind_dataset(const config::Node& resolved, bool make_local = true);

// The manifest's `dataset` object.
track::JsonValue dataset_json(const BoundDataset& dataset);

// Absolute path -> SHA-256 of the bound files, so the manifest need not hash
// them again (they were verified moments ago, or vouched for by stamps).
std::map<std::string, std::string> known_hashes(const BoundDataset& dataset);

}  // namespace kiln::cli
