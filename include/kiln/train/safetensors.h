// Reading and writing the safetensors format (huggingface/safetensors), the
// format of kiln's checkpoint weights, so Python can load them with
// `safetensors.torch.load_file` (or json + torch.frombuffer; docs/formats.md).
//
// Layout of a file (all integers little-endian):
//
//   u64 N                  length of the header in bytes
//   N bytes                JSON object, UTF-8, padded with spaces so that the
//                          data starts at a multiple of 8 bytes:
//                            {"__metadata__": {"k": "v", ...},        optional
//                             "<tensor name>": {"dtype": "F32",
//                                               "shape": [2, 3],
//                                               "data_offsets": [B, E]}, ...}
//   data                   each tensor's elements, C order, little-endian, at
//                          bytes [B, E) of this section
//
// Writing does what the reference implementation does, so for the same
// tensors kiln's file is byte-identical to Python's
// `safetensors.torch.save_file` (with at most one metadata entry: the
// reference writes metadata in hash-map order, kiln sorts it): tensors are
// laid out by descending dtype
// alignment (I64/F64 first, BOOL last) and then by name, the header is compact
// JSON with the tensors in that order (__metadata__ first, its keys sorted),
// and there are no gaps between tensors. Non-contiguous tensors, tensors on
// another device and tensors that require grad are written as their
// contiguous CPU values. The order is deterministic: the same tensors give the
// same bytes.
//
// Reading validates everything before trusting the file, and refuses a bad
// file with kiln::IoError "'<file>' is not a valid safetensors file: <what>",
// for: a file shorter than 8 bytes; a header length above 100,000,000 bytes
// (the reference limit) or past the end of the file; a header that is not a
// JSON object (invalid JSON or UTF-8, duplicate names); a tensor entry with a
// missing or unexpected field, an unknown dtype or one LibTorch lacks (U16,
// U32, U64, F8_*), a shape that is not a list of non-negative integers or
// overflows, data_offsets that are not [begin, end] with begin <= end, a size
// that does not match dtype x shape; offsets that overlap, run past the end
// of the file, or leave bytes of the data section unclaimed (the reference
// rejects gaps and trailing bytes too); a BOOL element other than 0 or 1; and
// __metadata__ that is not an object of strings.
//
// Supported dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
// Assumes a little-endian host (all platforms LibTorch supports).
//
// Thread safety: the functions are reentrant; tensors passed in are only read.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "kiln/track/env.h"

namespace kiln::train {

// Named tensors, ordered by name.
using TensorMap = std::map<std::string, torch::Tensor>;
// A safetensors file's "__metadata__": free-form string pairs.
using SafetensorsMetadata = std::map<std::string, std::string>;

struct SafetensorsContents {
  TensorMap tensors;             // CPU, contiguous, owning their memory
  SafetensorsMetadata metadata;  // empty when the file has no __metadata__
};

// The reference implementation's limit on the header length.
inline constexpr std::uint64_t kSafetensorsMaxHeaderSize = 100'000'000;

// "F32" for torch::kFloat, etc. Throws kiln::Error for a dtype safetensors
// cannot hold here (complex, quantized, uint16/32/64).
std::string safetensors_dtype(torch::ScalarType dtype);

// The file's bytes for `tensors` (see the header comment for the layout).
// Throws kiln::Error for an undefined, sparse or unsupported-dtype tensor, or
// a tensor named "__metadata__".
std::string safetensors_serialize(const TensorMap& tensors, const SafetensorsMetadata& metadata = {});

// Parses a whole file held in memory; `source` names it in error messages.
SafetensorsContents safetensors_deserialize(std::string_view bytes, const std::string& source = "<memory>");

// Streams the file into `out` (one append for the header, one per tensor),
// copying at most one tensor to contiguous CPU memory at a time. Does not
// sync or close `out`.
void write_safetensors(WritableFile& out, const TensorMap& tensors, const SafetensorsMetadata& metadata = {});

// Writes `path` atomically: a temporary file in the same directory, fsync,
// rename over `path`, fsync of the directory. A crash leaves the old file or
// the new one, never a mix. Throws kiln::IoError naming the path on failure.
void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const SafetensorsMetadata& metadata = {}, Env& env = Env::Default());

// Reads and validates `path`, streaming each tensor straight into its own
// memory (no second copy of the file). Throws kiln::IoError naming the path.
SafetensorsContents load_safetensors(const std::filesystem::path& path, Env& env = Env::Default());

}  // namespace kiln::train
