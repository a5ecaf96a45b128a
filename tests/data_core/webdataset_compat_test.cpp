// The shards read by Python's tarfile, grouped as webdataset groups them
// (key = the basename up to its first dot, consecutive members), must give
// back every sample byte for byte.
#include <gtest/gtest.h>

#include "kiln/data/shard_reader.h"
#include "kiln/track/sha256.h"
#include "shard_fixture.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

using kiln::testing::run_command;
using kiln::testing::shell_quote;
using kiln::testing::synthetic_sample;
using kiln::testing::TempDir;

TEST(ShardWebdatasetTest, PythonTarfileGroupsEverySampleByteEqual) {
  TempDir dir;
  const auto manifest = kiln::testing::write_synthetic_shards(dir.path(), 150);
  const std::string script = std::string(KILN_SOURCE_DIR) + "/tests/data_core/webdataset_group.py";
  const auto result =
      run_command("/usr/bin/python3 " + shell_quote(script) + " " + shell_quote(manifest.string()), dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // One line per sample: key, then ext=sha256 for each member in tar order.
  std::string expected;
  for (std::uint64_t i = 0; i < 150; ++i) {
    const Sample s = synthetic_sample(i);
    expected += s.key;
    for (const auto& f : s.fields) expected += " " + f.ext + "=" + sha256_hex(f.data);
    expected += "\n";
  }
  EXPECT_EQ(result.out, expected);
}

}  // namespace
}  // namespace kiln::data
