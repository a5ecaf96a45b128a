// Text to token ids for language models: the byte-level tokenizer (every
// byte one token, vocabulary 256) or a trained SentencePiece model (a
// `.model` file from `spm_train` or sentencepiece.SentencePieceTrainer,
// read through Debian's libsentencepiece). What `kiln data tokenize` turns
// text files into raw token files with (docs/data.md, Token files).
//
//   std::unique_ptr<Tokenizer> t = make_tokenizer("tokenizer.model");
//   std::vector<std::uint32_t> ids = t->encode("Hello world");
//   write_token_file("train.bin", ids, narrowest_token_width(t->vocab_size()));
//
// SentencePiece ids are the model's own, the same as Python's
// `sentencepiece.SentencePieceProcessor(model_file=...).encode(text)`
// (tests/data_core/tokenizer_test.cpp checks them against it). Thread
// safety: encode and decode are const and may run concurrently.
// Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/data/token_file.h"

namespace kiln::data {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<std::uint32_t> encode(std::string_view text) const = 0;
  // Throws kiln::Error for an id outside the vocabulary.
  virtual std::string decode(const std::vector<std::uint32_t>& tokens) const = 0;
  // Ids are in [0, vocab_size()).
  virtual std::uint32_t vocab_size() const = 0;
  // The end-of-sequence id, when the tokenizer has one (the byte tokenizer
  // has none: all 256 ids are bytes).
  virtual std::optional<std::uint32_t> eos_id() const = 0;
  // "byte", or "sentencepiece <path>": what a run's manifest records.
  virtual std::string describe() const = 0;
};

std::unique_ptr<Tokenizer> make_byte_tokenizer();

// Loads a SentencePiece model. Throws kiln::IoError when the file cannot be
// read and DataFormatError when it is not a SentencePiece model (both name
// the path).
std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::filesystem::path& model);

// "byte" gives the byte tokenizer; anything else is the path of a
// SentencePiece model.
std::unique_ptr<Tokenizer> make_tokenizer(std::string_view spec);

// uint16 when every id of a `vocab_size` vocabulary fits, else uint32.
TokenWidth narrowest_token_width(std::uint32_t vocab_size);

}  // namespace kiln::data
