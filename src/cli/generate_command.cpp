// `kiln generate RUN_OR_CKPT --prompt TEXT ...`: finds the run and its
// checkpoint, encodes the prompt (torch-free, kiln_data_core), and asks the
// runner (libkiln_runner.so) to sample, printing each token as it arrives.
#include <charconv>
#include <filesystem>
#include <iostream>
#include <optional>

#include "commands.h"
#include "flag_value.h"
#include "job_runner.h"
#include "kiln/data/tokenizer.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "run_layout.h"

namespace kiln::cli {
namespace {

constexpr const char* kGenerateUsage =
    R"(usage: kiln generate RUN_OR_CKPT [--prompt TEXT | --prompt-file FILE] [options]

Samples text from a GPT that `kiln train` trained (docs/language-models.md),
with a KV cache, printing the prompt and then each token as it is chosen.

RUN_OR_CKPT is a run directory (its newest checkpoint), its checkpoints/
directory, or one checkpoint in it (checkpoints/step-00001000).

options:
  --prompt TEXT          the text to continue (default: a newline)
  --prompt-file FILE     read the prompt from FILE instead
  --max-new-tokens N     tokens to sample (default 256)
  --temperature T        divides the logits; 0 is greedy decoding (default 1.0)
  --top-k K              sample among the K most likely tokens only (default 0: off)
  --top-p P              sample from the smallest set of tokens whose probability reaches P
                         (nucleus sampling; default 1.0: off)
  --seed S               seeds the sampler: the same seed gives the same text (default 1337)
  --tokenizer SPEC       byte (default) or the SentencePiece .model the run's tokens were made with
  --eos                  stop at the tokenizer's end-of-sequence token (SentencePiece)
  --device D             auto (default: cuda when there is one), cpu, cuda, cuda:1
  --num-threads N        intra-op CPU threads (default: LibTorch's)
  -h, --help             this help
)";

template <typename T>
T parse_number(const std::string& flag, const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty())
    throw UsageError("kiln generate: " + flag + " takes a number, found '" + text + "'");
  return value;
}

// Prints text as tokens arrive: pieces decode independently with the byte
// tokenizer; SentencePiece pieces can change how the text so far decodes
// (leading spaces), so the whole is decoded and the new tail printed.
class TokenPrinter {
 public:
  explicit TokenPrinter(const data::Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  void add(std::int64_t id) {
    ids_.push_back(static_cast<std::uint32_t>(id));
    std::string text = tokenizer_.decode(ids_);
    if (text.size() > printed_) std::cout << text.substr(printed_) << std::flush;
    printed_ = std::max(printed_, text.size());
  }

 private:
  const data::Tokenizer& tokenizer_;
  std::vector<std::uint32_t> ids_;
  std::size_t printed_ = 0;
};

}  // namespace

int run_generate(const Args& args) {
  std::optional<std::string> target, prompt, prompt_file;
  std::string tokenizer_spec = "byte";
  GenerateRequest request;
  request.device = "auto";
  bool eos = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kGenerateUsage;
      return 0;
    }
    auto value = [&](const std::string& flag) { return flag_value(args, i, flag, "kiln generate"); };
    SamplingOptions& s = request.sampling;
    if (auto v = value("--prompt")) {
      prompt = *v;
    } else if (auto v = value("--prompt-file")) {
      prompt_file = *v;
    } else if (auto v = value("--max-new-tokens")) {
      s.max_new_tokens = parse_number<std::int64_t>("--max-new-tokens", *v);
    } else if (auto v = value("--temperature")) {
      s.temperature = parse_number<double>("--temperature", *v);
    } else if (auto v = value("--top-k")) {
      s.top_k = parse_number<std::int64_t>("--top-k", *v);
    } else if (auto v = value("--top-p")) {
      s.top_p = parse_number<double>("--top-p", *v);
    } else if (auto v = value("--seed")) {
      s.seed = parse_number<std::uint64_t>("--seed", *v);
    } else if (auto v = value("--tokenizer")) {
      tokenizer_spec = *v;
    } else if (auto v = value("--device")) {
      request.device = *v;
    } else if (auto v = value("--num-threads")) {
      request.num_threads = parse_number<int>("--num-threads", *v);
    } else if (a == "--eos") {
      eos = true;
    } else if (a.starts_with("-")) {
      throw UsageError("kiln generate: unknown argument '" + a + "' (see kiln generate --help)");
    } else if (target) {
      throw UsageError("kiln generate: one RUN_OR_CKPT, found '" + *target + "' and '" + a + "'");
    } else {
      target = a;
    }
  }
  if (!target) throw UsageError("kiln generate: no RUN_OR_CKPT given (see kiln generate --help)");
  if (prompt && prompt_file) throw UsageError("kiln generate: give --prompt or --prompt-file, not both");
  if (prompt_file) prompt = Env::Default().read_file(*prompt_file);
  const std::string text = prompt.value_or("\n");
  if (text.empty()) throw UsageError("kiln generate: the prompt is empty (give at least one character)");

  RunCheckpoint located = locate_run_checkpoint(*target, "kiln generate");
  const std::filesystem::path& checkpoint = located.checkpoint;
  request.resolved = std::move(located.resolved);
  request.checkpoint = checkpoint.string();
  const std::unique_ptr<data::Tokenizer> tokenizer = data::make_tokenizer(tokenizer_spec);
  const config::Node* model = request.resolved.find("model");
  if (const config::Node* vocab = model ? model->find("vocab_size") : nullptr;
      vocab && vocab->kind() == config::Kind::kInt && tokenizer->vocab_size() > vocab->as_int())
    throw UsageError("kiln generate: the tokenizer " + tokenizer->describe() + " has " +
                     std::to_string(tokenizer->vocab_size()) + " ids but the run's model only " +
                     std::to_string(vocab->as_int()) + " (model.vocab_size); pass the run's --tokenizer");
  if (eos) {
    if (!tokenizer->eos_id())
      throw UsageError("kiln generate: --eos: " + tokenizer->describe() + " has no end-of-sequence token");
    request.sampling.stop_token = *tokenizer->eos_id();
  }
  for (std::uint32_t id : tokenizer->encode(text)) request.prompt.push_back(id);

  std::cerr << "kiln: sampling " << request.sampling.max_new_tokens << " tokens from " << checkpoint.string()
            << " (temperature " << request.sampling.temperature << ", top-k " << request.sampling.top_k << ", top-p "
            << request.sampling.top_p << ", seed " << request.sampling.seed << ")\n";
  // The prompt is echoed once the model is loaded and sampling, so an error
  // before that leaves stdout empty.
  bool echoed = false;
  auto echo_prompt = [&] {
    if (!echoed) std::cout << text << std::flush;
    echoed = true;
  };
  TokenPrinter printer(*tokenizer);
  job_runner().generate(request, [&](std::int64_t id) {
    echo_prompt();
    printer.add(id);
  });
  echo_prompt();
  std::cout << "\n" << std::flush;
  return 0;
}

}  // namespace kiln::cli
