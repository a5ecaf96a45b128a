// The byte tokenizer, and the SentencePiece one through libkiln_sentencepiece.so
// (loaded on first use; sentencepiece_api.h says why).
#include "kiln/data/tokenizer.h"

#include <dlfcn.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <system_error>
#include <type_traits>

#include "../sentencepiece/sentencepiece_api.h"
#include "kiln/data/error.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

class ByteTokenizer final : public Tokenizer {
 public:
  std::vector<std::uint32_t> encode(std::string_view text) const override { return byte_tokenize(text); }
  std::string decode(const std::vector<std::uint32_t>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] > 255)
        throw kiln::Error("byte tokenizer: token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                          " is not a byte (expected 0..255)");
    return byte_detokenize(tokens);
  }
  std::uint32_t vocab_size() const override { return 256; }
  std::optional<std::uint32_t> eos_id() const override { return std::nullopt; }
  std::string describe() const override { return "byte"; }
};

// libkiln_sentencepiece.so's entry points, loaded once per process
// (sentencepiece_api.h says why it is a separate library).
struct SentencePieceLibrary {
  kiln_spm_load_fn load = nullptr;
  kiln_spm_free_fn free = nullptr;
  kiln_spm_piece_size_fn piece_size = nullptr;
  kiln_spm_eos_id_fn eos_id = nullptr;
  kiln_spm_encode_fn encode = nullptr;
  kiln_spm_free_ids_fn free_ids = nullptr;
  kiln_spm_decode_fn decode = nullptr;
  kiln_spm_free_text_fn free_text = nullptr;
};

// $KILN_SENTENCEPIECE_LIBRARY, else next to the executable, else the build
// tree this was compiled in (the test binaries).
std::vector<std::filesystem::path> library_candidates() {
  constexpr const char* kName = "libkiln_sentencepiece.so";
  if (const char* path = std::getenv("KILN_SENTENCEPIECE_LIBRARY"); path && *path) return {path};
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path() / kName);
  candidates.push_back(std::filesystem::path(KILN_BUILD_DIR) / kName);
  return candidates;
}

const SentencePieceLibrary& sentencepiece_library() {
  static const SentencePieceLibrary library = [] {
    std::string tried;
    void* handle = nullptr;
    for (const auto& path : library_candidates()) {
      // RTLD_LOCAL | RTLD_DEEPBIND: sentencepiece's protobuf-lite copy binds
      // to itself and stays out of the global scope.
      handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (handle) break;
      tried += "\n  " + path.string() + ": " + dlerror();
    }
    if (!handle) {
      throw kiln::Error("cannot load kiln's SentencePiece library:" + tried +
                        "\n  hint: build the kiln target (it builds libkiln_sentencepiece.so next to kiln), or set "
                        "KILN_SENTENCEPIECE_LIBRARY");
    }
    SentencePieceLibrary l;
    auto bind = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
      if (fn == nullptr)
        throw kiln::Error(std::string("kiln's SentencePiece library lacks ") + name + "; rebuild kiln");
    };
    bind(l.load, "kiln_spm_load");
    bind(l.free, "kiln_spm_free");
    bind(l.piece_size, "kiln_spm_piece_size");
    bind(l.eos_id, "kiln_spm_eos_id");
    bind(l.encode, "kiln_spm_encode");
    bind(l.free_ids, "kiln_spm_free_ids");
    bind(l.decode, "kiln_spm_decode");
    bind(l.free_text, "kiln_spm_free_text");
    return l;
  }();
  return library;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::filesystem::path& model) : path_(model) {
    // libsentencepiece reports a missing file and a bad one alike; tell
    // them apart first so each gets its own error.
    std::ifstream probe(model, std::ios::binary);
    if (!probe) {
      throw kiln::IoError("cannot read SentencePiece model " + model.string() + ": " +
                          std::error_code(errno, std::generic_category()).message());
    }
    char error[512] = {};
    model_ = library_.load(model.c_str(), error, sizeof error);
    if (model_ == nullptr) {
      throw DataFormatError(model.string() + ": not a SentencePiece model (" + error +
                            "); expected a .model file written by spm_train or SentencePieceTrainer");
    }
    vocab_size_ = static_cast<std::uint32_t>(library_.piece_size(model_));
    const std::int32_t eos = library_.eos_id(model_);  // -1 when trained without one
    if (eos >= 0) eos_id_ = static_cast<std::uint32_t>(eos);
  }
  ~SentencePieceTokenizer() override { library_.free(model_); }
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<std::uint32_t> encode(std::string_view text) const override {
    std::int32_t* ids = nullptr;
    std::size_t count = 0;
    char error[512] = {};
    if (library_.encode(model_, text.data(), text.size(), &ids, &count, error, sizeof error) != 0)
      throw kiln::Error("SentencePiece " + path_.string() + ": encode failed: " + error);
    std::vector<std::uint32_t> out(ids, ids + count);
    library_.free_ids(ids);
    return out;
  }

  std::string decode(const std::vector<std::uint32_t>& tokens) const override {
    std::vector<std::int32_t> ids;
    ids.reserve(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] >= vocab_size_)
        throw kiln::Error("SentencePiece " + path_.string() + ": token " + std::to_string(tokens[i]) + " at position " +
                          std::to_string(i) + " is outside the vocabulary of " + std::to_string(vocab_size_));
      ids.push_back(static_cast<std::int32_t>(tokens[i]));
    }
    char* text = nullptr;
    std::size_t size = 0;
    char error[512] = {};
    if (library_.decode(model_, ids.data(), ids.size(), &text, &size, error, sizeof error) != 0)
      throw kiln::Error("SentencePiece " + path_.string() + ": decode failed: " + error);
    std::string out(text, size);
    library_.free_text(text);
    return out;
  }

  std::uint32_t vocab_size() const override { return vocab_size_; }
  std::optional<std::uint32_t> eos_id() const override { return eos_id_; }
  std::string describe() const override { return "sentencepiece " + path_.string(); }

 private:
  const SentencePieceLibrary& library_ = sentencepiece_library();
  std::filesystem::path path_;
  void* model_ = nullptr;
  std::uint32_t vocab_size_ = 0;
  std::optional<std::uint32_t> eos_id_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() { return std::make_unique<ByteTokenizer>(); }

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::filesystem::path& model) {
  return std::make_unique<SentencePieceTokenizer>(model);
}

std::unique_ptr<Tokenizer> make_tokenizer(std::string_view spec) {
  if (spec == "byte") return make_byte_tokenizer();
  return load_sentencepiece_tokenizer(std::filesystem::path(spec));
}

TokenWidth narrowest_token_width(std::uint32_t vocab_size) {
  return vocab_size <= 65536 ? TokenWidth::kUInt16 : TokenWidth::kUInt32;
}

}  // namespace kiln::data
