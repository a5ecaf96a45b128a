#include "kiln/train/rng_state.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "kiln/error.h"

namespace kiln::train {
namespace {

// A mix of draws that exercises the generator's whole state: 32- and 64-bit
// words, the cached normal sample (odd-sized randn) and integer ranges.
torch::Tensor draw() {
  return torch::cat({torch::randn({7}).to(torch::kDouble), torch::rand({5}).to(torch::kDouble),
                     torch::randint(0, 1000, {4}).to(torch::kDouble), torch::randn({1}, torch::kDouble),
                     torch::bernoulli(torch::full({6}, 0.5)).to(torch::kDouble)});
}

template <typename Body>
std::string error_of(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

#define EXPECT_CONTAINS(text, fragment) \
  EXPECT_NE(std::string(text).find(fragment), std::string::npos) << (text) << "\nlacks: " << (fragment)

TEST(RngStateTest, RestoreRepeatsTheSameDrawsBitwise) {
  torch::manual_seed(17);
  draw();  // a state mid-stream, not just after seeding
  RngState state = capture_rng_state();
  torch::Tensor first = draw();
  torch::Tensor unrelated = draw();
  restore_rng_state(state);
  torch::Tensor again = draw();
  EXPECT_TRUE(torch::equal(first, again));
  EXPECT_FALSE(torch::equal(first, unrelated));
}

TEST(RngStateTest, RoundTripsThroughASafetensorsPart) {
  torch::manual_seed(3);
  torch::randn({3});  // leaves a cached normal sample in the state
  TensorMap part = rng_state_to_tensors(capture_rng_state({{"sampler.epoch", 4}}));
  torch::Tensor expected = draw();

  torch::manual_seed(999);  // a fresh process would start elsewhere
  SafetensorsContents loaded = safetensors_deserialize(safetensors_serialize(part));
  RngState state = rng_state_from_tensors(loaded.tensors);
  restore_rng_state(state);
  EXPECT_TRUE(torch::equal(draw(), expected));
  EXPECT_EQ(state.named.at("sampler.epoch"), 4u);
}

TEST(RngStateTest, TensorFormNamesAndDtypes) {
  RngState state = capture_rng_state({{"loader", 1}});
  TensorMap tensors = rng_state_to_tensors(state);
  ASSERT_TRUE(tensors.count("torch.cpu"));
  EXPECT_EQ(tensors.at("torch.cpu").scalar_type(), torch::kByte);
  EXPECT_EQ(tensors.at("torch.cpu").dim(), 1);
  EXPECT_EQ(tensors.at("named.loader").scalar_type(), torch::kLong);
  EXPECT_EQ(tensors.at("named.loader").dim(), 0);
  EXPECT_EQ(tensors.size(), 2u + state.cuda.size());
}

TEST(RngStateTest, NamedStatesKeepAllSixtyFourBits) {
  std::map<std::string, std::uint64_t> named{{"a", 0}, {"b", UINT64_MAX}, {"c", 0x8000000000000001ull}};
  RngState back = rng_state_from_tensors(rng_state_to_tensors(capture_rng_state(named)));
  EXPECT_EQ(back.named, named);
}

TEST(RngStateTest, TheCapturedTensorsDoNotFollowLaterDraws) {
  RngState state = capture_rng_state();
  TensorMap tensors = rng_state_to_tensors(state);
  torch::Tensor copy = tensors.at("torch.cpu").clone();
  draw();
  EXPECT_TRUE(torch::equal(tensors.at("torch.cpu"), copy));
  EXPECT_TRUE(torch::equal(state.cpu, copy));
}

TEST(RngStateTest, MalformedTensorFormsAreRefused) {
  TensorMap good = rng_state_to_tensors(capture_rng_state());
  EXPECT_CONTAINS(error_of([] { rng_state_from_tensors({}, "rng part"); }),
                  "rng part is not valid: it has no 'torch.cpu' tensor");
  TensorMap wrong_dtype = good;
  wrong_dtype["torch.cpu"] = wrong_dtype["torch.cpu"].to(torch::kInt);
  EXPECT_CONTAINS(error_of([&] { rng_state_from_tensors(wrong_dtype); }),
                  "tensor 'torch.cpu' must be U8 with one dimension, found Int with 1");
  TensorMap bad_named = good;
  bad_named["named.x"] = torch::zeros({2}, torch::kLong);
  EXPECT_CONTAINS(error_of([&] { rng_state_from_tensors(bad_named); }), "tensor 'named.x' must be an I64 scalar");
  TensorMap unknown = good;
  unknown["python.random"] = torch::zeros({1});
  EXPECT_CONTAINS(error_of([&] { rng_state_from_tensors(unknown); }), "unexpected tensor 'python.random'");
  TensorMap gap = good;
  gap["torch.cuda.1"] = good.at("torch.cpu");
  EXPECT_CONTAINS(error_of([&] { rng_state_from_tensors(gap); }), "torch.cuda.0 is missing");
  TensorMap bad_index = good;
  bad_index["torch.cuda.01"] = good.at("torch.cpu");
  EXPECT_CONTAINS(error_of([&] { rng_state_from_tensors(bad_index); }),
                  "tensor 'torch.cuda.01' should be named torch.cuda.<device index>");
}

TEST(RngStateTest, AStateLibTorchRejectsIsAKilnError) {
  RngState state;
  state.cpu = torch::zeros({3}, torch::kByte);
  EXPECT_CONTAINS(error_of([&] { restore_rng_state(state); }),
                  "cannot restore the RNG state of cpu: LibTorch refused it");
}

TEST(RngStateTest, CudaStatesWithoutThoseDevicesNeedConsent) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "needs a machine without CUDA devices";
  RngState state = capture_rng_state();
  state.cuda.push_back(state.cpu.clone());
  EXPECT_CONTAINS(error_of([&] { restore_rng_state(state); }),
                  "it holds CUDA generator states for 1 device(s), but this process sees 0");
  torch::Tensor expected = draw();
  restore_rng_state(state, {.allow_missing_cuda = true});
  EXPECT_TRUE(torch::equal(draw(), expected));
}

TEST(RngStateTest, GPU_CudaGeneratorsAreCapturedAndRestored) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  RngState state = capture_rng_state();
  ASSERT_EQ(state.cuda.size(), torch::cuda::device_count());
  torch::Tensor first = torch::randn({1000}, torch::kCUDA).cpu();
  restore_rng_state(rng_state_from_tensors(rng_state_to_tensors(state)));
  EXPECT_TRUE(torch::equal(torch::randn({1000}, torch::kCUDA).cpu(), first));
}

}  // namespace
}  // namespace kiln::train
