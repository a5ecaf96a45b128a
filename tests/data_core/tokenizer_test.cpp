// Tokenizers: the byte tokenizer, and SentencePiece models trained here by
// Debian's python3-sentencepiece, whose own encoder is the reference.
#include "kiln/data/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "kiln/data/error.h"
#include "kiln/error.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

using kiln::testing::run_command;
using kiln::testing::shell_quote;

// Texts the model has and has not seen, with non-ASCII and whitespace runs.
const std::vector<std::string> kSamples = {
    "the quick brown fox jumps over the lazy dog",
    "Kiln trains models reproducibly.",
    "ünïcödé — 日本語 text  with   spaces\nand a newline",
    "",
};

// Trains a small SentencePiece model of `type` (unigram or bpe) with an eos
// id on a generated corpus in `dir`, then prints, per line, the ids Python's
// SentencePieceProcessor gives each of kSamples. Returns those lines' ids.
std::vector<std::vector<std::uint32_t>> train_and_encode(const std::filesystem::path& dir, const std::string& type) {
  std::string samples = "[";
  for (const auto& s : kSamples) {
    std::string escaped;
    for (unsigned char c : s) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      escaped += hex;
    }
    samples += "b'" + escaped + "'.decode(),";
  }
  samples += "]";
  const std::string script =
      "import sentencepiece as spm, sys, random\n"
      "d = sys.argv[1]\n"
      "random.seed(7)\n"
      "words = 'the quick brown fox jumps over lazy dog kiln trains models reproducibly data shard loader'.split()\n"
      "rare = [''.join(random.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(random.randint(3, 8))) "
      "for _ in range(300)]\n"
      "with open(d + '/corpus.txt', 'w') as f:\n"
      "    for _ in range(3000): f.write(' '.join(random.choice(words) for _ in range(12)) + '\\n')\n"
      "    for _ in range(100): f.write(' '.join(random.choice(rare) for _ in range(12)) + '\\n')\n"
      "spm.SentencePieceTrainer.train(input=d + '/corpus.txt', model_prefix=d + '/m', vocab_size=120, "
      "model_type='" +
      type +
      "', eos_id=2, character_coverage=1.0, minloglevel=2)\n"
      "sp = spm.SentencePieceProcessor(model_file=d + '/m.model')\n"
      "for s in " +
      samples + ": print(' '.join(map(str, sp.encode(s))))\n";
  const auto r = run_command("/usr/bin/python3 -c " + shell_quote(script) + " " + shell_quote(dir.string()), dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<std::uint32_t>> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ids(line);
    out.emplace_back();
    for (std::uint32_t id; ids >> id;) out.back().push_back(id);
  }
  return out;
}

TEST(Tokenizer, ByteTokenizerRoundTripsAnyBytes) {
  auto t = make_tokenizer("byte");
  const std::string text("a\0\xff\n\xe6\x97\xa5", 7);
  EXPECT_EQ(t->encode(text), (std::vector<std::uint32_t>{97, 0, 255, 10, 230, 151, 165}));
  EXPECT_EQ(t->decode(t->encode(text)), text);
  EXPECT_EQ(t->vocab_size(), 256u);
  EXPECT_FALSE(t->eos_id().has_value());
  EXPECT_EQ(t->describe(), "byte");
  try {
    t->decode({65, 256});
    FAIL() << "token 256 decoded";
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("token 256 at position 1 is not a byte"), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, SentencePieceIdsAreThoseOfPythonsSentencePiece) {
  for (const std::string type : {"unigram", "bpe"}) {
    SCOPED_TRACE(type);
    kiln::testing::TempDir dir;
    const auto expected = train_and_encode(dir.path(), type);
    ASSERT_EQ(expected.size(), kSamples.size());
    auto t = make_tokenizer((dir.path() / "m.model").string());
    EXPECT_EQ(t->vocab_size(), 120u);
    ASSERT_TRUE(t->eos_id().has_value());
    EXPECT_EQ(*t->eos_id(), 2u);
    EXPECT_EQ(t->describe(), "sentencepiece " + (dir.path() / "m.model").string());
    for (std::size_t i = 0; i < kSamples.size(); ++i) {
      const auto ids = t->encode(kSamples[i]);
      EXPECT_EQ(ids, expected[i]) << "sample " << i;
      if (i == 0) {
        EXPECT_GT(ids.size(), 0u);
        EXPECT_LT(ids.size(), kSamples[i].size());  // pieces, not bytes
        EXPECT_EQ(t->decode(ids), kSamples[i]);     // seen text round-trips exactly
      }
    }
    EXPECT_THROW(t->decode({5, 120}), kiln::Error);
  }
}

TEST(Tokenizer, MissingAndInvalidModelsNameTheFile) {
  kiln::testing::TempDir dir;
  const auto missing = dir.path() / "none.model";
  try {
    make_tokenizer(missing.string());
    FAIL() << "a missing model loaded";
  } catch (const DataFormatError& e) {
    FAIL() << "missing file reported as a format error: " << e.what();
  } catch (const kiln::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read SentencePiece model " + missing.string()), std::string::npos)
        << e.what();
  }
  const auto garbage = dir.path() / "garbage.model";
  std::ofstream(garbage) << "this is not a protobuf";
  try {
    make_tokenizer(garbage.string());
    FAIL() << "a garbage model loaded";
  } catch (const DataFormatError& e) {
    EXPECT_NE(std::string(e.what()).find(garbage.string() + ": not a SentencePiece model"), std::string::npos)
        << e.what();
  }
}

TEST(Tokenizer, NarrowestWidthHoldsEveryId) {
  EXPECT_EQ(narrowest_token_width(256), TokenWidth::kUInt16);
  EXPECT_EQ(narrowest_token_width(65536), TokenWidth::kUInt16);  // ids 0..65535
  EXPECT_EQ(narrowest_token_width(65537), TokenWidth::kUInt32);
  EXPECT_EQ(narrowest_token_width(50257), TokenWidth::kUInt16);  // GPT-2's
}

}  // namespace
}  // namespace kiln::data
