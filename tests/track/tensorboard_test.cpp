// TensorBoard event files: CRC-32C, TFRecord framing, Event encoding, and
// the logger's file read back with every CRC checked.
#include "kiln/track/tensorboard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "kiln/error.h"
#include "kiln/track/crc32c.h"
#include "kiln/track/tfrecord.h"

namespace kiln::track {
namespace {
namespace fs = std::filesystem;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(Crc32c, MatchesTheStandardCheckValues) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // RFC 3720 / iSCSI check value
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ContinuesAcrossChunks) {
  std::uint32_t first = crc32c("12345", 5);
  EXPECT_EQ(crc32c("6789", 4, first), 0xE3069283u);
}

TEST(Crc32c, MaskRoundTrips) {
  for (std::uint32_t crc : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu}) EXPECT_EQ(unmask_crc(mask_crc(crc)), crc);
  EXPECT_EQ(mask_crc(0), 0xa282ead8u);
}

TEST(TfRecord, FramesLengthDataAndBothCrcs) {
  std::string record = frame_tfrecord("abc");
  ASSERT_EQ(record.size(), 8u + 4 + 3 + 4);
  EXPECT_EQ(record.substr(0, 8), bytes({3, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(record.substr(12, 3), "abc");
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(record[at + i])) << (8 * i);
    return v;
  };
  EXPECT_EQ(u32(8), mask_crc(crc32c(record.data(), 8)));
  EXPECT_EQ(u32(15), mask_crc(crc32c("abc")));
  EXPECT_EQ(read_tfrecords(record + frame_tfrecord(""), "x"), (std::vector<std::string>{"abc", ""}));
}

TEST(TfRecord, AFlippedBitIsADataCrcMismatch) {
  std::string file = frame_tfrecord("first") + frame_tfrecord("second");
  file[file.size() - 6] ^= 0x01;
  try {
    read_tfrecords(file, "events.x");
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("events.x: record 1 at offset 21: data CRC mismatch"), std::string::npos)
        << e.what();
  }
}

TEST(TfRecord, ATruncatedRecordIsRefused) {
  std::string file = frame_tfrecord("abcdef");
  EXPECT_THROW(read_tfrecords(file.substr(0, file.size() - 2), "x"), IoError);
  EXPECT_THROW(read_tfrecords(file.substr(0, 5), "x"), IoError);
}

TEST(EventEncoding, AScalarEventHasEventAndSummaryFieldNumbers) {
  // Event{wall_time: 1.5 (field 1, fixed64), step: 3 (field 2), summary (field 5):
  //   Summary{value (field 1): Value{tag: "a" (field 1), simple_value: 2.0f (field 2, fixed32)}}}
  std::string expected = bytes({0x09, 0,    0,    0,    0,    0,   0,    0xF8, 0x3F, 0x10, 0x03, 0x2A,
                                0x0A, 0x0A, 0x08, 0x0A, 0x01, 'a', 0x15, 0x00, 0x00, 0x00, 0x40});
  EXPECT_EQ(encode_scalar_event(1.5, 3, "a", 2.0f), expected);
}

TEST(EventEncoding, EventsDecodeBack) {
  Event version = decode_event(encode_file_version_event(100.25));
  EXPECT_EQ(version.file_version, "brain.Event:2");
  EXPECT_EQ(version.wall_time, 100.25);
  Event scalar = decode_event(encode_scalar_event(7, 123456789012, "val/acc", 0.875f));
  EXPECT_EQ(scalar.step, 123456789012);
  ASSERT_EQ(scalar.values.size(), 1u);
  EXPECT_EQ(scalar.values[0].tag, "val/acc");
  EXPECT_EQ(scalar.values[0].simple_value, 0.875f);
  Event text = decode_event(encode_text_event(7, 0, "config", "seed: 42"));
  ASSERT_EQ(text.values.size(), 1u);
  EXPECT_EQ(text.values[0].plugin_name, "text");
  EXPECT_EQ(text.values[0].string_values, std::vector<std::string>{"seed: 42"});
  EXPECT_FALSE(text.values[0].simple_value.has_value());
}

TEST(Histograms, EqualWidthBucketsFromMinToMaxWithoutNonFiniteValues) {
  Histogram h = make_histogram({0.0f, 1.0f, 1.0f, 2.0f, 4.0f, NAN, INFINITY}, 4);
  EXPECT_EQ(h.min, 0.0);
  EXPECT_EQ(h.max, 4.0);
  EXPECT_EQ(h.num, 5.0);
  EXPECT_EQ(h.sum, 8.0);
  EXPECT_EQ(h.sum_squares, 22.0);
  EXPECT_EQ(h.bucket_limit, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(h.bucket, (std::vector<double>{1, 2, 1, 1}));  // [0,1): 0; [1,2): 1, 1; [2,3): 2; max in the last
  Histogram flat = make_histogram({3.0f, 3.0f}, 30);
  EXPECT_EQ(flat.bucket, std::vector<double>{2});
  EXPECT_EQ(flat.bucket_limit, std::vector<double>{3});
  EXPECT_EQ(make_histogram({}).num, 0.0);
}

TEST(Histograms, EncodeAsValueHistoAndDecodeBack) {
  Histogram h = make_histogram({-1.5f, 0.25f, 2.0f}, 3);
  std::string event = encode_histogram_event(9, 40, "weights/fc.weight", h);
  // Value{tag (field 1), histo (field 5, length-delimited: 0x2A)} right after the tag.
  std::string tag_then_histo = std::string("\x0A\x11weights/fc.weight\x2A", 20);
  EXPECT_NE(event.find(tag_then_histo), std::string::npos);
  Event decoded = decode_event(event);
  EXPECT_EQ(decoded.step, 40);
  ASSERT_EQ(decoded.values.size(), 1u);
  ASSERT_TRUE(decoded.values[0].histogram.has_value());
  const Histogram& back = *decoded.values[0].histogram;
  EXPECT_EQ(back.min, -1.5);
  EXPECT_EQ(back.max, 2.0);
  EXPECT_EQ(back.num, 3.0);
  EXPECT_EQ(back.sum, 0.75);
  EXPECT_EQ(back.sum_squares, 2.25 + 0.0625 + 4.0);
  EXPECT_EQ(back.bucket_limit, h.bucket_limit);
  EXPECT_EQ(back.bucket, (std::vector<double>{1, 1, 1}));
}

TEST(EventEncoding, MalformedBytesAreAnError) {
  std::string event = encode_scalar_event(1, 2, "loss", 1.0f);
  EXPECT_THROW(decode_event(event.substr(0, event.size() - 3)), IoError);
  EXPECT_THROW(decode_event(bytes({0x80, 0x80})), IoError);
}

class TensorBoardFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln_tb_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TensorBoardFiles, TheLoggerWritesAFileTensorBoardReads) {
  fs::path file;
  {
    TensorBoardLogger logger(dir_ / "tb");
    file = logger.file();
    logger.add_text("config", "seed: 42\n");
    logger.log_metrics({{"train/loss", 0.5}, {"train/lr", 1e-3}}, 10);
    logger.log_metrics({{"val/acc", 0.9136}}, 20);
    logger.log_histogram("weights/w", {1.0f, 2.0f}, 20);
    logger.finalize("FINISHED");
  }
  EXPECT_TRUE(file.filename().string().starts_with("events.out.tfevents.")) << file;
  std::vector<Event> events = read_event_file(file);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[5].values.at(0).histogram->num, 2.0);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[1].values.at(0).plugin_name, "text");
  EXPECT_EQ(events[2].step, 10);
  EXPECT_EQ(events[2].values.at(0).tag, "train/loss");
  EXPECT_EQ(events[2].values.at(0).simple_value, 0.5f);
  EXPECT_EQ(events[3].values.at(0).tag, "train/lr");
  EXPECT_EQ(events[3].values.at(0).simple_value, 1e-3f);
  EXPECT_EQ(events[4].step, 20);
  EXPECT_EQ(events[4].values.at(0).simple_value, 0.9136f);
  EXPECT_GT(events[4].wall_time, 1.7e9);
}

TEST_F(TensorBoardFiles, TwoLoggersInOneSecondWriteTwoFiles) {
  TensorBoardLogger a(dir_);
  TensorBoardLogger b(dir_);
  EXPECT_NE(a.file(), b.file());
}

}  // namespace
}  // namespace kiln::track
