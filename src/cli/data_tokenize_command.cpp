// `kiln data tokenize`: parse the flags, read each text file, encode it with
// the chosen tokenizer (kiln_data_core), write the ids atomically.
#include "data_tokenize_command.h"

#include <iostream>
#include <optional>

#include "flag_value.h"
#include "kiln/data/token_file.h"
#include "kiln/data/tokenizer.h"
#include "kiln/error.h"
#include "kiln/track/env.h"

namespace kiln::cli {
namespace {

constexpr const char* kTokenizeUsage =
    R"(usage: kiln data tokenize INPUT... --out FILE [--tokenizer byte|MODEL] [--dtype uint16|uint32] [--eos]

Encodes text files, in the order given, into one raw token file: little-endian
token ids with no header, what nanoGPT's prepare scripts and numpy's tofile
write, read by kiln's token-file reader (docs/data.md, Token files).

options:
  --out FILE           the token file (written atomically; its directory must exist)
  --tokenizer SPEC     byte (default: every byte is one token, vocabulary 256), or
                       the path of a SentencePiece .model file
  --dtype WIDTH        uint16 or uint32 (default: uint16 when the vocabulary fits)
  --eos                append the tokenizer's end-of-sequence id after each file
                       (SentencePiece models that have one; the byte tokenizer has none)
  -h, --help           this help
)";

data::TokenWidth parse_dtype(const std::string& text) {
  if (text == "uint16") return data::TokenWidth::kUInt16;
  if (text == "uint32") return data::TokenWidth::kUInt32;
  throw UsageError("kiln data tokenize: --dtype takes uint16 or uint32, found '" + text + "'");
}

const char* dtype_name(data::TokenWidth width) { return width == data::TokenWidth::kUInt16 ? "uint16" : "uint32"; }

}  // namespace

int data_tokenize_command(const std::vector<std::string>& args) {
  std::vector<std::string> inputs;
  std::string out, tokenizer_spec = "byte";
  std::optional<data::TokenWidth> dtype;
  bool eos = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kTokenizeUsage;
      return 0;
    }
    auto value = [&](const std::string& flag) { return flag_value(args, i, flag, "kiln data tokenize"); };
    if (auto v = value("--out")) {
      out = *v;
    } else if (auto v = value("--tokenizer")) {
      tokenizer_spec = *v;
    } else if (auto v = value("--dtype")) {
      dtype = parse_dtype(*v);
    } else if (a == "--eos") {
      eos = true;
    } else if (a.starts_with("-")) {
      throw UsageError("kiln data tokenize: unknown argument '" + a + "' (see kiln data tokenize --help)");
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.empty()) throw UsageError("kiln data tokenize: no INPUT text file given (see kiln data tokenize --help)");
  if (out.empty()) throw UsageError("kiln data tokenize: --out FILE is required");

  const std::unique_ptr<data::Tokenizer> tokenizer = data::make_tokenizer(tokenizer_spec);
  const data::TokenWidth width = dtype.value_or(data::narrowest_token_width(tokenizer->vocab_size()));
  if (width == data::TokenWidth::kUInt16 && tokenizer->vocab_size() > 65536) {
    throw UsageError("kiln data tokenize: --dtype uint16 cannot hold the ids of " + tokenizer->describe() +
                     " (vocabulary " + std::to_string(tokenizer->vocab_size()) + "); use --dtype uint32");
  }
  if (eos && !tokenizer->eos_id()) {
    throw UsageError("kiln data tokenize: --eos: " + tokenizer->describe() +
                     " has no end-of-sequence id (train the SentencePiece model with --eos_id, or leave out --eos)");
  }
  // Every input is read before anything is written, so a missing file
  // leaves an existing --out untouched.
  std::vector<std::uint32_t> tokens;
  for (const auto& path : inputs) {
    std::string text;
    try {
      text = Env::Default().read_file(path);
    } catch (const IoError& e) {
      throw IoError(std::string("kiln data tokenize: ") + e.what());
    }
    const std::vector<std::uint32_t> ids = tokenizer->encode(text);
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    if (eos) tokens.push_back(*tokenizer->eos_id());
  }
  data::write_token_file(out, tokens, width);
  std::cout << "wrote " << tokens.size() << " tokens (" << dtype_name(width) << ") from " << inputs.size()
            << (inputs.size() == 1 ? " file" : " files") << " to " << out << "; tokenizer " << tokenizer->describe()
            << ", vocabulary " << tokenizer->vocab_size() << "\n";
  return 0;
}

}  // namespace kiln::cli
