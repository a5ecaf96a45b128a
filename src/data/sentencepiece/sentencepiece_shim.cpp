// libkiln_sentencepiece.so: sentencepiece_api.h over libsentencepiece.
#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sentencepiece_api.h"

namespace {

void put_error(const std::string& message, char* error, std::size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  std::strncpy(error, message.c_str(), error_size - 1);
  error[error_size - 1] = '\0';
}

const sentencepiece::SentencePieceProcessor& processor(const void* model) {
  return *static_cast<const sentencepiece::SentencePieceProcessor*>(model);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* kiln_spm_load(const char* path, char* error, std::size_t error_size) {
  auto* model = new sentencepiece::SentencePieceProcessor();
  const auto status = model->Load(path);
  if (!status.ok()) {
    put_error(status.ToString(), error, error_size);
    delete model;
    return nullptr;
  }
  return model;
}

__attribute__((visibility("default"))) void kiln_spm_free(void* model) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(model);
}

__attribute__((visibility("default"))) std::int32_t kiln_spm_piece_size(const void* model) {
  return processor(model).GetPieceSize();
}

__attribute__((visibility("default"))) std::int32_t kiln_spm_eos_id(const void* model) {
  return processor(model).eos_id();
}

__attribute__((visibility("default"))) int kiln_spm_encode(const void* model, const char* text, std::size_t size,
                                                           std::int32_t** ids, std::size_t* count, char* error,
                                                           std::size_t error_size) {
  std::vector<int> out;
  const auto status = processor(model).Encode(std::string_view(text, size), &out);
  if (!status.ok()) {
    put_error(status.ToString(), error, error_size);
    return -1;
  }
  *count = out.size();
  *ids = static_cast<std::int32_t*>(std::malloc(sizeof(std::int32_t) * (out.empty() ? 1 : out.size())));
  for (std::size_t i = 0; i < out.size(); ++i) (*ids)[i] = out[i];
  return 0;
}

__attribute__((visibility("default"))) void kiln_spm_free_ids(std::int32_t* ids) { std::free(ids); }

__attribute__((visibility("default"))) int kiln_spm_decode(const void* model, const std::int32_t* ids,
                                                           std::size_t count, char** text, std::size_t* size,
                                                           char* error, std::size_t error_size) {
  std::vector<int> in(ids, ids + count);
  std::string out;
  const auto status = processor(model).Decode(in, &out);
  if (!status.ok()) {
    put_error(status.ToString(), error, error_size);
    return -1;
  }
  *size = out.size();
  *text = static_cast<char*>(std::malloc(out.size() + 1));
  std::memcpy(*text, out.data(), out.size() + 1);
  return 0;
}

__attribute__((visibility("default"))) void kiln_spm_free_text(char* text) { std::free(text); }
}
