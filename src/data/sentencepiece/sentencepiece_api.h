// The C interface of libkiln_sentencepiece.so, the one place kiln touches
// libsentencepiece. Why a separate library loaded with dlopen: Debian's
// libsentencepiece carries its own copy of protobuf-lite's symbols, and in a
// process that also loads LibTorch (which links libprotobuf) the dynamic
// linker binds libprotobuf's start-up code to sentencepiece's copies, which
// crashes (`kiln train` segfaulted while the runner library loaded). Loaded
// RTLD_LOCAL | RTLD_DEEPBIND only when a SentencePiece model is used, its
// symbols never reach the global scope. Plain C types only, so the two sides
// need not agree on a C++ ABI.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

// A loaded model, or nullptr with the reason in `error` (NUL-terminated,
// truncated to `error_size`).
typedef void* (*kiln_spm_load_fn)(const char* path, char* error, std::size_t error_size);
typedef void (*kiln_spm_free_fn)(void* model);
typedef std::int32_t (*kiln_spm_piece_size_fn)(const void* model);
typedef std::int32_t (*kiln_spm_eos_id_fn)(const void* model);  // -1: none
// Encodes `text`; the ids go to a buffer the library allocates (released by
// kiln_spm_free_ids). Returns 0, or -1 with the reason in `error`.
typedef int (*kiln_spm_encode_fn)(const void* model, const char* text, std::size_t size, std::int32_t** ids,
                                  std::size_t* count, char* error, std::size_t error_size);
typedef void (*kiln_spm_free_ids_fn)(std::int32_t* ids);
// Decodes `ids`; the text goes to a buffer the library allocates (released
// by kiln_spm_free_text). Returns 0, or -1 with the reason in `error`.
typedef int (*kiln_spm_decode_fn)(const void* model, const std::int32_t* ids, std::size_t count, char** text,
                                  std::size_t* size, char* error, std::size_t error_size);
typedef void (*kiln_spm_free_text_fn)(char* text);
}
