// Data modules for language models: fixed-length token windows.
//
// `tokens` (TokenWindowsDataModule) reads raw token files (token_file.h;
// `kiln data tokenize` writes them): every training epoch draws
// `train_windows` windows of block_size + 1 tokens at seeded random places
// (epoch_seed(seed, epoch)), as nanoGPT's get_batch does; validation and test
// read consecutive windows from the start of their part, the same every
// epoch. input is a window's first block_size tokens and target the same
// window shifted by one, both int64 [B, block_size].
//
//   data:
//     _target_: tokens
//     train_file: data/shakespeare/train.bin
//     val_file: null            # null: the last val_fraction of train_file
//     block_size: ${model.block_size}
//
// `synthetic_tokens` (SyntheticTokensDataModule) makes uniform random tokens
// instead, for throughput runs that must not wait on a disk: the same seed
// gives the same tokens.
//
// Both shard data parallel training like DistributedSampler: each global
// batch of batch_size * num_replicas windows is cut into one slice per rank,
// so ranks together see what one process with the global batch would.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kiln/config/schema.h"
#include "kiln/data/data_module.h"

namespace kiln::data {

class TokenFile;

struct TokenWindowsOptions {
  std::string train_file;                // required
  std::optional<std::string> val_file;   // null: the last val_fraction of train_file
  std::optional<std::string> test_file;  // null: no test stage
  double val_fraction = 0.1;             // used when val_file is null; 0: no validation
  std::string dtype = "uint16";          // uint16 | uint32, the files' token width
  std::int64_t block_size = 1024;        // tokens per input window
  std::int64_t batch_size = 8;           // windows per training batch, per rank
  std::int64_t eval_batch_size = 8;      // windows per validation and test batch
  std::int64_t train_windows = 1024;     // windows per training epoch (global)
  std::int64_t eval_windows = 64;        // at most this many validation and test windows
  std::uint64_t seed = 42;
};

config::Schema<TokenWindowsOptions> token_windows_schema();

class TokenWindowsDataModule final : public DataModule {
 public:
  explicit TokenWindowsDataModule(TokenWindowsOptions options);
  ~TokenWindowsDataModule() override;

  // Maps the files (once). Throws kiln::IoError naming a missing file,
  // DataFormatError for a size that is not whole tokens, and kiln::Error for
  // a part shorter than one window.
  void setup() override;
  std::unique_ptr<BatchLoader> train_loader() override;
  std::unique_ptr<BatchLoader> val_loader() override;
  std::unique_ptr<BatchLoader> test_loader() override;
  std::vector<DataFile> files() const override;
  void set_replica(std::size_t rank, std::size_t num_replicas) override {
    rank_ = rank;
    num_replicas_ = num_replicas;
  }

 private:
  // One token range of a file: [begin, end).
  struct Part {
    std::shared_ptr<const TokenFile> file;
    std::uint64_t begin = 0, end = 0;
  };
  std::unique_ptr<BatchLoader> eval_loader(const std::optional<Part>& part) const;

  TokenWindowsOptions options_;
  std::size_t rank_ = 0, num_replicas_ = 1;
  bool ready_ = false;
  std::optional<Part> train_, val_, test_;
};

struct SyntheticTokensOptions {
  std::int64_t vocab_size = 50257;
  std::int64_t block_size = 1024;
  std::int64_t batch_size = 8;        // per rank
  std::int64_t train_windows = 1024;  // per epoch (global)
  std::int64_t eval_windows = 64;     // validation windows; 0: no validation
  std::uint64_t seed = 42;
};

config::Schema<SyntheticTokensOptions> synthetic_tokens_schema();

class SyntheticTokensDataModule final : public DataModule {
 public:
  explicit SyntheticTokensDataModule(SyntheticTokensOptions options) : options_(options) {}
  std::unique_ptr<BatchLoader> train_loader() override;
  std::unique_ptr<BatchLoader> val_loader() override;
  void set_replica(std::size_t rank, std::size_t num_replicas) override {
    rank_ = rank;
    num_replicas_ = num_replicas;
  }

 private:
  SyntheticTokensOptions options_;
  std::size_t rank_ = 0, num_replicas_ = 1;
};

}  // namespace kiln::data
