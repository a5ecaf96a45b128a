// `kiln data pack`: parse the flags, then pack (kiln_data_core does the work).
#include "data_pack_command.h"

#include <cstdlib>
#include <iostream>
#include <optional>

#include "flag_value.h"
#include "kiln/data/byte_size.h"
#include "kiln/data/pack.h"
#include "kiln/error.h"

namespace kiln::cli {
namespace {

constexpr const char* kPackUsage =
    R"(usage: kiln data pack --from fashion_mnist --out DIR [--root DIR] [--shard-size 256MB]
                      [--split train,val,test] [--val-fraction 0.1] [--seed 42]

Writes the source as WebDataset-compatible tar shards (DIR/<split>-000000.tar),
an index per shard (DIR/<split>-000000.idx) and a manifest with every shard's
SHA-256 and sample count (DIR/<split>.shards.json). Train with them through
`kiln train data=fashion_mnist_shards data.root=DIR` (docs/shards.md).

options:
  --from SOURCE        the source format: fashion_mnist (the IDX files of Debian's
                       dataset-fashion-mnist)
  --root DIR           where the source files are (default
                       /usr/share/datasets/fashion-mnist)
  --out DIR            where the shards go (created if missing)
  --shard-size SIZE    the largest shard: 256MB (default), 64KiB, 1GiB, ...
  --split LIST         the splits to write (default train,val,test)
  --val-fraction F     training images held out as val (default 0.1, as data.val_fraction)
  --seed N             seeds the train/val split (default 42, as the run's seed)
  -h, --help           this help
)";

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    if (comma > at) out.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  if (out.empty()) throw UsageError("kiln data pack: --split needs at least one of train, val, test");
  return out;
}

double parse_fraction(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(value >= 0.0 && value < 1.0))
    throw UsageError("kiln data pack: --val-fraction takes a number in [0, 1), found '" + text + "'");
  return value;
}

std::uint64_t parse_seed(const std::string& text) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || text[0] == '-')
    throw UsageError("kiln data pack: --seed takes a non-negative integer, found '" + text + "'");
  return value;
}

}  // namespace

int data_pack_command(const std::vector<std::string>& args) {
  data::FashionMnistPackOptions options;
  std::optional<std::string> from;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kPackUsage;
      return 0;
    }
    auto value = [&](const std::string& flag) { return flag_value(args, i, flag, "kiln data pack"); };
    if (auto v = value("--from")) {
      from = *v;
    } else if (auto v = value("--root")) {
      options.root = *v;
    } else if (auto v = value("--out")) {
      options.out = *v;
    } else if (auto v = value("--shard-size")) {
      options.shard_bytes = data::parse_byte_size(*v, "kiln data pack: --shard-size");
    } else if (auto v = value("--split")) {
      options.splits = split_list(*v);
    } else if (auto v = value("--val-fraction")) {
      options.val_fraction = parse_fraction(*v);
    } else if (auto v = value("--seed")) {
      options.seed = parse_seed(*v);
    } else {
      throw UsageError("kiln data pack: unknown argument '" + a + "' (see kiln data pack --help)");
    }
  }
  if (!from) throw UsageError("kiln data pack: --from SOURCE is required (fashion_mnist; see kiln data pack --help)");
  if (*from != "fashion_mnist")
    throw UsageError("kiln data pack: unknown source '" + *from + "' (expected fashion_mnist)");
  if (options.out.empty()) throw UsageError("kiln data pack: --out DIR is required");
  for (const data::ShardManifest& m : data::pack_fashion_mnist(options)) {
    std::uint64_t bytes = 0;
    for (const auto& s : m.shards) bytes += s.bytes;
    std::cout << (options.out / data::manifest_file_name(m.name)).string() << ": " << m.samples << " samples in "
              << m.shards.size() << (m.shards.size() == 1 ? " shard" : " shards") << ", " << bytes << " bytes\n";
  }
  return 0;
}

}  // namespace kiln::cli
