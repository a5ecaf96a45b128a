// SentencePiece in a process that has LibTorch (and so libprotobuf) loaded,
// as a training process would: libsentencepiece's own protobuf-lite copy
// must not meet libprotobuf (sentencepiece_api.h). Linking libsentencepiece
// into kiln directly made `kiln train` crash at start-up.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "kiln/data/tokenizer.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

TEST(TokenizerWithTorch, SentencePieceEncodesBesideLibTorch) {
  ASSERT_GT(torch::ones({2}).sum().item<float>(), 1.0f);  // LibTorch is loaded and working
  kiln::testing::TempDir dir;
  const std::string script =
      "import sentencepiece as spm, sys\n"
      "d = sys.argv[1]\n"
      "open(d + '/c.txt', 'w').write('hello kiln world\\n' * 200 + 'abcdefghijklmnopqrstuvwxyz\\n' * 20)\n"
      "spm.SentencePieceTrainer.train(input=d + '/c.txt', model_prefix=d + '/m', vocab_size=30, minloglevel=2)\n"
      "print(' '.join(map(str, spm.SentencePieceProcessor(model_file=d + '/m.model').encode('hello kiln'))))\n";
  const auto r = kiln::testing::run_command("/usr/bin/python3 -c " + kiln::testing::shell_quote(script) + " " +
                                                kiln::testing::shell_quote(dir.path().string()),
                                            dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::uint32_t> expected;
  std::istringstream words(r.out);
  for (std::uint32_t id; words >> id;) expected.push_back(id);
  auto tokenizer = make_tokenizer((dir.path() / "m.model").string());
  EXPECT_EQ(tokenizer->encode("hello kiln"), expected);
  EXPECT_EQ(tokenizer->decode(expected), "hello kiln");
  EXPECT_GT(torch::ones({3}).sum().item<float>(), 2.0f);  // and LibTorch still works after
}

}  // namespace
}  // namespace kiln::data
