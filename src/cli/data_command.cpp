// `kiln data ls|info|fetch|verify|add|pack`: the dataset catalog and cache
// from the command line. Thin: parsing and printing; kiln_data_catalog does
// the work (pack: data_pack_command.cpp, kiln_data_core).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "data_pack_command.h"
#include "data_tokenize_command.h"
#include "kiln/data/catalog_search.h"
#include "kiln/data/dataset_add.h"
#include "kiln/data/dataset_cache.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "text_table.h"

namespace kiln::cli {
namespace {

constexpr const char* kDataUsage = R"(usage: kiln data <command> [options]

Named, versioned datasets (docs/data-catalog.md): a catalog says what each
dataset's files are (sizes, SHA-256) and where to get them; the cache holds
them verified.

commands:
  ls                       the datasets of every catalog, and whether they are local
  info NAME[@V]            an entry: sources, files, where it is now
  fetch NAME[@V]           make it local and verified (downloads what is missing)
  verify NAME[@V]          re-hash every local file against the catalog
  add NAME --from PATH_OR_URL [--version N] [--format F] [--description D]
          [--license L] [--files A,B] [--endpoint URL] [--region R]
                           hash the files and write the catalog entry
  pack ...                 write a dataset as WebDataset shards (kiln data pack --help)
  tokenize INPUT... --out FILE [--tokenizer byte|MODEL]
                           text files to a raw token file for language models
                           (kiln data tokenize --help)

NAME alone means its latest version.

options (every command):
  --catalog FILE           the catalog to read first and to write (default
                           $KILN_CATALOG, else ./data/catalog.yaml; kiln's own follows)

environment:
  KILN_CACHE_DIR           the cache (default ~/.cache/kiln)
  KILN_OFFLINE=1           use the cache and local sources only
  AWS_*                    S3 credentials, region and endpoint (docs/data-catalog.md)
)";

struct DataArgs {
  std::string command;
  std::vector<std::string> positional;
  std::string catalog;
  data::AddOptions add;
};

std::string human_size(std::uint64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

DataArgs parse_data_args(const Args& args) {
  DataArgs out;
  out.command = args[0];
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      std::size_t eq = a.find('=');
      if (eq != std::string::npos) return a.substr(eq + 1);
      if (i + 1 >= args.size()) throw UsageError("kiln data " + out.command + ": " + a + " needs a value");
      return args[++i];
    };
    auto is = [&](const char* flag) { return a == flag || a.starts_with(std::string(flag) + "="); };
    bool adding = out.command == "add";
    if (is("--catalog")) {
      out.catalog = value();
    } else if (adding && is("--from")) {
      out.add.from = value();
    } else if (adding && is("--version")) {
      std::string v = value();
      try {
        std::size_t used = 0;
        out.add.version = std::stoll(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        throw UsageError("kiln data add: --version takes an integer >= 1, found '" + v + "'");
      }
    } else if (adding && is("--format")) {
      out.add.format = value();
    } else if (adding && is("--description")) {
      out.add.description = value();
    } else if (adding && is("--license")) {
      out.add.license = value();
    } else if (adding && is("--files")) {
      out.add.files = split_commas(value());
    } else if (adding && is("--endpoint")) {
      out.add.endpoint = value();
    } else if (adding && is("--region")) {
      out.add.region = value();
    } else if (a.starts_with("-")) {
      throw UsageError("kiln data " + out.command + ": unknown option '" + a + "' (see kiln data --help)");
    } else {
      out.positional.push_back(a);
    }
  }
  return out;
}

data::CatalogLocations locations_for(const DataArgs& args) {
  if (args.catalog.empty()) return data::default_catalog_locations();
  std::error_code ec;
  return data::catalog_locations(args.catalog.c_str(), std::filesystem::current_path(ec));
}

data::DatasetCache make_cache() {
  data::CacheOptions options;
  options.offline = data::offline_from_environment();
  options.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  return data::DatasetCache(options);
}

const data::DatasetEntry& one_entry(const DataArgs& args, const data::Catalog& catalog) {
  if (args.positional.size() != 1)
    throw UsageError("kiln data " + args.command + " takes one dataset, NAME or NAME@VERSION (see kiln data --help)");
  return catalog.resolve(data::parse_dataset_ref(args.positional[0]));
}

std::string where_now(data::DatasetCache& cache, const data::DatasetEntry& entry) {
  std::optional<data::LocalDataset> local = cache.find_local(entry);
  if (!local) return "not local";
  return (local->in_place ? "in place: " : "cached: ") + local->root.string();
}

int data_ls(const DataArgs& args, const data::Catalog& catalog) {
  data::DatasetCache cache = make_cache();
  TableRows rows = {{"DATASET", "FORMAT", "FILES", "SIZE", "LOCAL", "CATALOG"}};
  for (const auto& e : catalog.entries())
    rows.push_back({e.ref(), e.format.empty() ? "-" : e.format, std::to_string(e.files.size()),
                    human_size(e.total_size()), where_now(cache, e), e.catalog});
  std::cout << format_table(rows);
  return 0;
}

int data_info(const DataArgs& args, const data::Catalog& catalog) {
  const data::DatasetEntry& e = one_entry(args, catalog);
  data::DatasetCache cache = make_cache();
  std::cout << "dataset      " << e.ref() << "\n";
  if (!e.description.empty()) std::cout << "description  " << e.description << "\n";
  std::cout << "format       " << (e.format.empty() ? "-" : e.format) << "\n";
  std::cout << "license      " << (e.license.empty() ? "-" : e.license) << "\n";
  std::cout << "catalog      " << e.where.str() << "\n";
  std::cout << "local        " << where_now(cache, e) << "\n";
  std::cout << "cache dir    " << cache.dataset_dir(e).string() << "\n";
  std::cout << "sources\n";
  for (const auto& s : e.sources) {
    std::cout << "  " << s.url;
    if (!s.endpoint.empty()) std::cout << "  (endpoint " << s.endpoint << ")";
    if (!s.region.empty()) std::cout << "  (region " << s.region << ")";
    std::cout << "\n";
  }
  std::cout << "files        " << e.files.size() << ", " << human_size(e.total_size()) << "\n";
  TableRows rows = {{"  PATH", "SIZE", "SHA256"}};
  for (const auto& f : e.files) rows.push_back({"  " + f.path, std::to_string(f.size), f.sha256});
  std::cout << format_table(rows);
  return 0;
}

int data_fetch(const DataArgs& args, const data::Catalog& catalog) {
  const data::DatasetEntry& e = one_entry(args, catalog);
  data::DatasetCache cache = make_cache();
  data::LocalDataset local = cache.ensure(e);
  std::cout << e.ref() << ": " << local.files.size() << " files, " << human_size(e.total_size()) << ", "
            << (local.in_place ? "used in place at " : "cached at ") << local.root.string() << "\n";
  if (local.fetched_bytes)
    std::cout << "fetched      " << human_size(local.fetched_bytes) << " from " << local.source << "\n";
  std::cout << "verified     "
            << (local.hashed_bytes ? "hashed " + human_size(local.hashed_bytes) + " now"
                                   : std::string("by earlier checks (size and mtime unchanged)"))
            << "\n";
  return 0;
}

int data_verify(const DataArgs& args, const data::Catalog& catalog) {
  const data::DatasetEntry& e = one_entry(args, catalog);
  data::DatasetCache cache = make_cache();
  data::VerifyReport report = cache.verify(e);
  std::cout << e.ref() << " in " << report.root.string() << (report.in_place ? " (in place)" : "") << "\n";
  TableRows rows = {{"  PATH", "STATE", "DETAIL"}};
  for (std::size_t i = 0; i < report.files.size(); ++i) {
    const data::FileCheck& f = report.files[i];
    const data::CatalogFile& want = e.files[i];
    std::string detail;
    if (f.state == data::FileState::kWrongSize)
      detail = "expected " + std::to_string(want.size) + " bytes, found " + std::to_string(f.size);
    if (f.state == data::FileState::kWrongHash) detail = "expected " + want.sha256 + ", found " + f.sha256;
    rows.push_back({"  " + f.path, data::file_state_name(f.state), detail});
  }
  std::cout << format_table(rows);
  if (report.ok()) {
    std::cout << "ok: " << report.files.size() << " files match the catalog\n";
    return 0;
  }
  std::cout << "FAILED: files differ from the catalog (" << e.where.str() << "); `kiln data fetch " << e.ref()
            << "` replaces bad cached files\n";
  return static_cast<int>(ExitCode::kFailure);
}

int data_add(DataArgs& args, const data::Catalog& catalog, const data::CatalogLocations& locations) {
  if (args.positional.size() != 1)
    throw UsageError("kiln data add takes one NAME: kiln data add NAME --from PATH_OR_URL (see kiln data --help)");
  args.add.name = args.positional[0];
  data::DatasetCache cache = make_cache();
  data::AddResult result = data::add_dataset(args.add, catalog, locations.write_target, cache, Env::Default());
  const data::DatasetEntry& e = result.entry;
  if (result.unchanged) {
    std::cout << e.ref() << " (" << e.catalog << ") already has these files; nothing written\n";
    return 0;
  }
  std::cout << "added " << e.ref() << " to " << locations.write_target.string() << ": " << e.files.size() << " files, "
            << human_size(e.total_size()) << "\n";
  return 0;
}

}  // namespace

int run_data(const Args& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kDataUsage;
    return args.empty() ? static_cast<int>(ExitCode::kConfig) : 0;
  }
  if (args[0] == "pack") return data_pack_command(Args(args.begin() + 1, args.end()));
  if (args[0] == "tokenize") return data_tokenize_command(Args(args.begin() + 1, args.end()));
  static const std::vector<std::string> kCommands = {"ls", "info", "fetch", "verify", "add"};
  if (std::find(kCommands.begin(), kCommands.end(), args[0]) == kCommands.end())
    throw UsageError("kiln data: unknown command '" + args[0] +
                     "'; the commands are ls, info, fetch, verify, add, pack and tokenize (see kiln data --help)");
  for (const auto& a : args)
    if (a == "-h" || a == "--help") {
      std::cout << kDataUsage;
      return 0;
    }
  DataArgs parsed = parse_data_args(args);
  data::CatalogLocations locations = locations_for(parsed);
  data::Catalog catalog = data::load_catalogs(locations, Env::Default());
  if (parsed.command == "ls") return data_ls(parsed, catalog);
  if (parsed.command == "info") return data_info(parsed, catalog);
  if (parsed.command == "fetch") return data_fetch(parsed, catalog);
  if (parsed.command == "verify") return data_verify(parsed, catalog);
  return data_add(parsed, catalog, locations);
}

}  // namespace kiln::cli
