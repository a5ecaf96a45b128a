#include "kiln/train/safetensors.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/error.h"
#include "kiln/track/env.h"
#include "support/temp_dir.h"

namespace kiln::train {
namespace {

namespace fs = std::filesystem;

// Each test's directory is named after this file.
class TempDir : public kiln::testing::TempDir {
 public:
  TempDir() : kiln::testing::TempDir("kiln_safetensors_test") {}
};

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string u64le(std::uint64_t value) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &value, 8);
  return out;
}

// A file with `header` verbatim and `data` after it.
std::string file_with(const std::string& header, const std::string& data = "") {
  return u64le(header.size()) + header + data;
}

std::uint64_t header_length(const std::string& file) {
  std::uint64_t n;
  std::memcpy(&n, file.data(), 8);
  return n;
}

// Must match expected() in safetensors_interop.py.
TensorMap interop_tensors() {
  TensorMap t;
  t["f64"] = torch::arange(6, torch::kDouble).reshape({2, 3}) / 3;
  t["f32"] = torch::arange(6, torch::kFloat).reshape({3, 2}) * -1.5;
  t["f16"] = torch::tensor({0.5, -2.0, 65504.0}, torch::kHalf);
  t["bf16"] = torch::tensor({1.0, -0.0078125, 1.2676506002282294e30}, torch::kBFloat16);  // 2^100
  t["i64"] = torch::tensor(
      {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(), std::int64_t{0}},
      torch::kLong);
  t["i32"] =
      torch::tensor({std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()}, torch::kInt)
          .reshape({2, 1});
  t["i16"] = torch::tensor({-32768, 32767}, torch::kShort);
  t["i8"] = torch::tensor({-128, 127, 0}, torch::kChar);
  t["u8"] = torch::tensor({0, 255, 7}, torch::kByte);
  t["bool"] = torch::tensor({true, false, true}, torch::kBool);
  t["empty"] = torch::zeros({2, 0}, torch::kFloat);
  t["scalar"] = torch::scalar_tensor(3.25, torch::kDouble);
  t["transposed"] = torch::arange(12, torch::kFloat).reshape({3, 4}).t();  // non-contiguous
  return t;
}

const SafetensorsMetadata kInteropMetadata = {{"format", "pt"}, {"note", "h\xc3\xa9llo \"quoted\"\n"}};

void expect_same_tensors(const TensorMap& got, const TensorMap& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) {
    ASSERT_TRUE(got.count(name)) << name;
    const torch::Tensor& actual = got.at(name);
    EXPECT_EQ(actual.scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(actual.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(actual.is_contiguous()) << name;
    EXPECT_TRUE(torch::equal(actual, tensor)) << name << ": " << actual << " vs " << tensor;
  }
}

// Expects `file` to be refused with a message containing `fragment`.
void expect_invalid(const std::string& file, const std::string& fragment) {
  try {
    safetensors_deserialize(file, "bad.safetensors");
    ADD_FAILURE() << "no error; expected: " << fragment;
  } catch (const IoError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("'bad.safetensors' is not a valid safetensors file: "), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what << "\nlacks: " << fragment;
  }
}

std::string python_with_torch() {
  return std::system("/usr/bin/python3 -c 'import torch' 2>/dev/null") == 0 ? "/usr/bin/python3" : "";
}

// ------------------------------------------------------------------ the reference's own examples

TEST(SafetensorsTest, MatchesReferenceSerializationBytes) {
  // safetensors/src/tensor.rs, test_serialization: the same bytes.
  TensorMap tensors{{"attn.0", torch::arange(6, torch::kFloat).reshape({1, 2, 3})}};
  std::string expected = bytes({64, 0, 0, 0, 0, 0, 0, 0}) +
                         R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})" +
                         bytes({0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64});
  EXPECT_EQ(safetensors_serialize(tensors), expected);
}

TEST(SafetensorsTest, MatchesReferenceAlignmentPadding) {
  // test_serialization_forced_alignement: 7 spaces pad the header to 72.
  TensorMap tensors{{"attn0", torch::arange(6, torch::kFloat).reshape({1, 1, 2, 3})}};
  std::string out = safetensors_serialize(tensors);
  EXPECT_EQ(header_length(out), 72u);
  EXPECT_EQ(out.substr(8, 72),
            R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" + std::string(7, ' '));
}

TEST(SafetensorsTest, MatchesReferenceEmptyFiles) {
  // test_empty: no tensors, with and without metadata.
  EXPECT_EQ(safetensors_serialize({}), bytes({8, 0, 0, 0, 0, 0, 0, 0}) + "{}" + std::string(6, ' '));
  EXPECT_EQ(safetensors_serialize({}, {{"framework", "pt"}}),
            bytes({40, 0, 0, 0, 0, 0, 0, 0}) + R"({"__metadata__":{"framework":"pt"}})" + std::string(5, ' '));
  SafetensorsContents contents = safetensors_deserialize(safetensors_serialize({}, {{"framework", "pt"}}));
  EXPECT_TRUE(contents.tensors.empty());
  EXPECT_EQ(contents.metadata, (SafetensorsMetadata{{"framework", "pt"}}));
}

// ------------------------------------------------------------------ round trips

TEST(SafetensorsTest, EveryDtypeRoundTrips) {
  TensorMap tensors = interop_tensors();
  SafetensorsContents back = safetensors_deserialize(safetensors_serialize(tensors, kInteropMetadata));
  expect_same_tensors(back.tensors, tensors);
  EXPECT_EQ(back.metadata, kInteropMetadata);
}

TEST(SafetensorsTest, DtypeNames) {
  EXPECT_EQ(safetensors_dtype(torch::kDouble), "F64");
  EXPECT_EQ(safetensors_dtype(torch::kFloat), "F32");
  EXPECT_EQ(safetensors_dtype(torch::kHalf), "F16");
  EXPECT_EQ(safetensors_dtype(torch::kBFloat16), "BF16");
  EXPECT_EQ(safetensors_dtype(torch::kLong), "I64");
  EXPECT_EQ(safetensors_dtype(torch::kInt), "I32");
  EXPECT_EQ(safetensors_dtype(torch::kShort), "I16");
  EXPECT_EQ(safetensors_dtype(torch::kChar), "I8");
  EXPECT_EQ(safetensors_dtype(torch::kByte), "U8");
  EXPECT_EQ(safetensors_dtype(torch::kBool), "BOOL");
  EXPECT_THROW(safetensors_dtype(torch::kComplexFloat), Error);
}

TEST(SafetensorsTest, NonContiguousTensorsAreWrittenContiguously) {
  torch::Tensor base = torch::arange(24, torch::kFloat).reshape({4, 6});
  TensorMap views{{"t", base.t()},
                  {"strided", base.index({torch::indexing::Slice(), torch::indexing::Slice(0, 6, 2)})},
                  {"expanded", torch::tensor({1.0f, 2.0f}).expand({3, 2})}};
  TensorMap copies;
  for (const auto& [name, view] : views) {
    ASSERT_FALSE(view.is_contiguous()) << name;
    copies[name] = view.contiguous();
  }
  EXPECT_EQ(safetensors_serialize(views), safetensors_serialize(copies));
  expect_same_tensors(safetensors_deserialize(safetensors_serialize(views)).tensors, copies);
}

TEST(SafetensorsTest, EmptyAndScalarTensorsRoundTrip) {
  TensorMap tensors{{"a", torch::zeros({0}, torch::kLong)},
                    {"b", torch::zeros({2, 0, 3}, torch::kHalf)},
                    {"c", torch::scalar_tensor(true, torch::kBool)},
                    {"d", torch::zeros({0}, torch::kBool)}};
  std::string file = safetensors_serialize(tensors);
  EXPECT_NE(file.find(R"("a":{"dtype":"I64","shape":[0],"data_offsets":[0,0]})"), std::string::npos) << file;
  expect_same_tensors(safetensors_deserialize(file).tensors, tensors);
}

TEST(SafetensorsTest, LayoutIsByDescendingAlignmentThenNameAndDeterministic) {
  TensorMap tensors{{"a_bool", torch::ones({3}, torch::kBool)}, {"b_f32", torch::ones({1}, torch::kFloat)},
                    {"c_i64", torch::ones({1}, torch::kLong)},  {"d_f64", torch::ones({1}, torch::kDouble)},
                    {"e_u8", torch::ones({1}, torch::kByte)},   {"f_f16", torch::ones({1}, torch::kHalf)}};
  std::string file = safetensors_serialize(tensors);
  std::string header = file.substr(8, header_length(file));
  // I64, F64, F32, F16, U8, BOOL: every tensor starts at a multiple of its size.
  std::vector<std::string> order = {"c_i64", "d_f64", "b_f32", "f_f16", "e_u8", "a_bool"};
  std::size_t last = 0;
  for (const std::string& name : order) {
    std::size_t at = header.find("\"" + name + "\"");
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_GT(at, last) << name << " out of order in " << header;
    last = at;
  }
  EXPECT_NE(header.find(R"("c_i64":{"dtype":"I64","shape":[1],"data_offsets":[0,8]})"), std::string::npos);
  EXPECT_NE(header.find(R"("a_bool":{"dtype":"BOOL","shape":[3],"data_offsets":[23,26]})"), std::string::npos);
  EXPECT_EQ((8 + header.size()) % 8, 0u);
  EXPECT_EQ(safetensors_serialize(tensors), file);
}

TEST(SafetensorsTest, MetadataComesFirstWithSortedKeys) {
  std::string file = safetensors_serialize({{"w", torch::zeros({1})}}, {{"z", "1"}, {"a", "2"}});
  EXPECT_EQ(file.substr(8, 31), R"({"__metadata__":{"a":"2","z":"1)");
}

TEST(SafetensorsTest, TensorsThatRequireGradOrAreViewsOfBiggerStorageAreSaved) {
  torch::Tensor weight = torch::randn({3, 3}).requires_grad_();
  torch::Tensor row = torch::arange(9, torch::kFloat).reshape({3, 3})[1];  // offset into a larger storage
  SafetensorsContents back = safetensors_deserialize(safetensors_serialize({{"w", weight}, {"row", row}}));
  EXPECT_TRUE(torch::equal(back.tensors.at("w"), weight.detach()));
  EXPECT_FALSE(back.tensors.at("w").requires_grad());
  EXPECT_TRUE(torch::equal(back.tensors.at("row"), torch::tensor({3.0f, 4.0f, 5.0f})));
}

TEST(SafetensorsTest, SaveAndLoadAFileAtomically) {
  TempDir tmp;
  fs::path path = tmp.path() / "model.safetensors";
  TensorMap tensors = interop_tensors();
  save_safetensors(path, {{"old", torch::zeros({1})}});
  save_safetensors(path, tensors, kInteropMetadata);
  SafetensorsContents back = load_safetensors(path);
  expect_same_tensors(back.tensors, tensors);
  EXPECT_EQ(back.metadata, kInteropMetadata);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(tmp.path())) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"model.safetensors"});  // no temporary left behind
}

// ------------------------------------------------------------------ writer errors

TEST(SafetensorsTest, UnsupportedTensorsAreRefusedBeforeWriting) {
  auto expect_refused = [](const TensorMap& tensors, const std::string& fragment) {
    try {
      safetensors_serialize(tensors);
      ADD_FAILURE() << "no error; expected " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_refused({{"c", torch::zeros({2}, torch::kComplexFloat)}},
                 "cannot save tensor 'c': its dtype ComplexFloat has no safetensors equivalent kiln supports "
                 "(supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
  expect_refused({{"u", torch::Tensor()}}, "cannot save tensor 'u': it is undefined");
  expect_refused({{"s", torch::zeros({2, 2}).to_sparse()}}, "cannot save tensor 's': it is Sparse");
  expect_refused({{"__metadata__", torch::zeros({1})}}, "safetensors reserves that name");
  TempDir tmp;
  EXPECT_THROW(save_safetensors(tmp.path() / "x.safetensors", {{"u", torch::Tensor()}}), Error);
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

// ------------------------------------------------------------------ malformed files

TEST(SafetensorsTest, RefusesAFileShorterThanTheLengthField) {
  expect_invalid("abcde", "it is 5 bytes, too short for the 8-byte header length");
}

TEST(SafetensorsTest, RefusesAHeaderLengthAboveTheLimit) {
  expect_invalid(u64le(100'000'001) + "{}", "its header length 100000001 exceeds the limit of 100000000 bytes");
  expect_invalid(u64le(UINT64_MAX), "its header length 18446744073709551615 exceeds the limit");
}

TEST(SafetensorsTest, RefusesAHeaderLengthPastTheEndOfTheFile) {
  expect_invalid(u64le(100) + "{}", "its header length 100 runs past the end of the file (10 bytes)");
}

TEST(SafetensorsTest, RefusesInvalidJson) {
  expect_invalid(file_with(R"({"w":{"dtype":"F32",)"), "its header is not valid JSON: expected a string key");
  expect_invalid(file_with("{\"w\":\"\xff\"}"),
                 "its header is not valid JSON: invalid UTF-8 byte 0xff in a string (at byte 14 of the file)");
  expect_invalid(file_with("{} junk"), "after the value, found 'j'");
}

TEST(SafetensorsTest, RefusesAHeaderThatIsNotAnObject) {
  expect_invalid(file_with("[1, 2]  "), "its header must be a JSON object, found an array");
}

TEST(SafetensorsTest, RefusesADuplicateTensorName) {
  std::string entry = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  expect_invalid(file_with("{\"w\":" + entry + ",\"w\":" + entry + "}", "x"), "duplicate key \"w\"");
}

TEST(SafetensorsTest, RefusesMalformedTensorEntries) {
  expect_invalid(file_with(R"({"w":[1]})"),
                 "tensor 'w' must be an object with dtype, shape and data_offsets, found an array");
  expect_invalid(file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}})", "x"),
                 "tensor 'w' has an unexpected field 'extra' (expected dtype, shape and data_offsets)");
  expect_invalid(file_with(R"({"w":{"shape":[1],"data_offsets":[0,1]}})", "x"), "tensor 'w' has no 'dtype'");
  expect_invalid(file_with(R"({"w":{"dtype":"U8","data_offsets":[0,1]}})", "x"), "tensor 'w' has no 'shape'");
  expect_invalid(file_with(R"({"w":{"dtype":"U8","shape":[1]}})", "x"), "tensor 'w' has no 'data_offsets'");
}

TEST(SafetensorsTest, RefusesUnknownAndUnsupportedDtypes) {
  expect_invalid(
      file_with(R"({"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", std::string(16, 'x')),
      "tensor 'w' has unknown dtype \"F128\" (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
  expect_invalid(file_with(R"({"w":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}})", "xx"),
                 "tensor 'w' has dtype U16, which LibTorch has no type for");
  expect_invalid(file_with(R"({"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "x"),
                 "tensor 'w' has dtype F8_E4M3, which LibTorch has no type for");
  expect_invalid(file_with(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,1]}})", "x"),
                 "tensor 'w' has a dtype that is a number, not a string");
}

TEST(SafetensorsTest, RefusesBadShapes) {
  for (std::string shape : {"[-1]", "[2.5]", "[\"2\"]", "3", "[9223372036854775808]"}) {
    expect_invalid(file_with(R"({"w":{"dtype":"U8","shape":)" + shape + R"(,"data_offsets":[0,1]}})", "x"),
                   "tensor 'w' has shape " + shape + ", expected a list of non-negative integers");
  }
  expect_invalid(file_with(R"({"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
                 "tensor 'w' has shape [4294967296, 4294967296], whose size in bytes overflows 64 bits");
}

TEST(SafetensorsTest, RefusesBadDataOffsets) {
  for (std::string offsets : {"[1,0]", "[0]", "[0,1,2]", "[-1,0]", "\"0,1\""}) {
    expect_invalid(file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":)" + offsets + "}}", "x"),
                   "tensor 'w' has data_offsets " + offsets + ", expected [begin, end] with 0 <= begin <= end");
  }
}

TEST(SafetensorsTest, RefusesASizeThatDoesNotMatchDtypeAndShape) {
  expect_invalid(file_with(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", std::string(20, 'x')),
                 "tensor 'w' is F32 [2, 3], which takes 24 bytes, but its data_offsets [0, 20] hold 20");
}

TEST(SafetensorsTest, RefusesOverlappingTensors) {
  expect_invalid(file_with(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                           R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                           std::string(6, 'x')),
                 "tensor 'b' at [2, 6] overlaps tensor 'a' at [0, 4]");
}

TEST(SafetensorsTest, RefusesGapsAndTrailingBytes) {
  expect_invalid(file_with(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                           R"("b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
                           std::string(6, 'x')),
                 "bytes [2, 4] of the data section belong to no tensor");
  expect_invalid(file_with(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", std::string(5, 'x')),
                 "bytes [2, 5] at the end of the data section belong to no tensor");
}

TEST(SafetensorsTest, RefusesATruncatedFile) {
  std::string file = safetensors_serialize({{"w", torch::zeros({4}, torch::kFloat)}});
  expect_invalid(file.substr(0, file.size() - 3),
                 "tensor 'w' has data_offsets [0, 16], past the end of the data section (13 bytes; is the file "
                 "truncated?)");
  expect_invalid(file.substr(0, 20), "its header length");
}

TEST(SafetensorsTest, RefusesBoolBytesOtherThanZeroAndOne) {
  expect_invalid(file_with(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", bytes({1, 0, 2})),
                 "tensor 'm' is BOOL but element 2 is 0x02 (must be 0 or 1)");
}

TEST(SafetensorsTest, RefusesMetadataThatIsNotAMapOfStrings) {
  expect_invalid(file_with(R"({"__metadata__":[1]})"), "__metadata__ must be an object of strings, found an array");
  expect_invalid(file_with(R"({"__metadata__":{"epoch":3}})"),
                 "__metadata__ entry 'epoch' must be a string, found a number");
}

TEST(SafetensorsTest, ErrorsFromAFileNameThePath) {
  TempDir tmp;
  fs::path path = tmp.path() / "broken.safetensors";
  Env::Default().write_file(path, file_with("[]"));
  try {
    load_safetensors(path);
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + path.string() +
                                         "' is not a valid safetensors file: its header must be a JSON object"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_safetensors(tmp.path() / "missing.safetensors"), IoError);
}

TEST(SafetensorsTest, AcceptsForeignLayoutsWithinTheRules) {
  // Unaligned offsets, header keys not in offset order, unpadded header:
  // valid safetensors that other writers produce.
  std::string data = bytes({7}) + std::string("\x00\x00\x80\x3f", 4);
  std::string header = R"({"f":{"dtype":"F32","shape":[1],"data_offsets":[1,5]},)"
                       R"("u":{"dtype":"U8","shape":[],"data_offsets":[0,1]}, "__metadata__" : {} })";
  SafetensorsContents contents = safetensors_deserialize(file_with(header, data));
  EXPECT_EQ(contents.tensors.at("f").item<float>(), 1.0f);
  EXPECT_EQ(contents.tensors.at("u").item<std::uint8_t>(), 7);
  EXPECT_TRUE(contents.metadata.empty());
}

// ------------------------------------------------------------------ Python interop

TEST(SafetensorsTest, PythonReadsWhatKilnWrites) {
  std::string python = python_with_torch();
  if (python.empty()) GTEST_SKIP() << "/usr/bin/python3 with torch is not installed";
  TempDir tmp;
  fs::path path = tmp.path() / "kiln.safetensors";
  save_safetensors(path, interop_tensors(), kInteropMetadata);
  std::string command =
      python + " " + KILN_SOURCE_DIR + "/tests/train/safetensors_interop.py check '" + path.string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(SafetensorsTest, KilnReadsWhatPythonWrites) {
  std::string python = python_with_torch();
  if (python.empty()) GTEST_SKIP() << "/usr/bin/python3 with torch is not installed";
  TempDir tmp;
  fs::path path = tmp.path() / "python.safetensors";
  std::string command =
      python + " " + KILN_SOURCE_DIR + "/tests/train/safetensors_interop.py write '" + path.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  SafetensorsContents contents = load_safetensors(path);
  TensorMap want = interop_tensors();
  want["transposed"] = want["transposed"].contiguous();
  expect_same_tensors(contents.tensors, want);
  EXPECT_EQ(contents.metadata, kInteropMetadata);
}

}  // namespace
}  // namespace kiln::train
