#include "kiln/ui/artifact_path.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace kiln::ui {
namespace {

namespace fs = std::filesystem;

class ArtifactPath : public ::testing::Test {
 protected:
  void SetUp() override {
    run = tmp.path() / "runs" / "a";
    fs::create_directories(run / "ckpt");
    fs::create_directories(tmp.path() / "runs" / "ab");
    std::ofstream(run / "ckpt" / "model.safetensors") << "weights";
    std::ofstream(tmp.path() / "runs" / "ab" / "secret") << "other run";
    std::ofstream(tmp.path() / "outside") << "not a run file";
  }
  testing::TempDir tmp{"kiln_artifact_path"};
  fs::path run;
};

TEST_F(ArtifactPath, ServesFilesInsideTheRun) {
  auto found = resolve_artifact_path(run, "ckpt/model.safetensors");
  ASSERT_TRUE(std::holds_alternative<fs::path>(found));
  EXPECT_EQ(std::get<fs::path>(found), fs::canonical(run / "ckpt" / "model.safetensors"));
}

TEST_F(ArtifactPath, RefusesEscapes) {
  for (const char* path : {"../ab/secret", "ckpt/../../ab/secret", "..", "/etc/passwd", "ckpt/../model"})
    EXPECT_EQ(std::get<ArtifactPathError>(resolve_artifact_path(run, path)), ArtifactPathError::kOutsideRunDir) << path;
}

TEST_F(ArtifactPath, RefusesSymlinksThatLeadOutside) {
  fs::create_symlink(tmp.path() / "outside", run / "link");
  fs::create_directory_symlink(tmp.path() / "runs" / "ab", run / "sibling");
  EXPECT_EQ(std::get<ArtifactPathError>(resolve_artifact_path(run, "link")), ArtifactPathError::kOutsideRunDir);
  EXPECT_EQ(std::get<ArtifactPathError>(resolve_artifact_path(run, "sibling/secret")),
            ArtifactPathError::kOutsideRunDir);
  // A symlink that stays inside the run is fine.
  fs::create_symlink(run / "ckpt" / "model.safetensors", run / "latest");
  EXPECT_TRUE(std::holds_alternative<fs::path>(resolve_artifact_path(run, "latest")));
}

TEST_F(ArtifactPath, MissingFilesAndDirectoriesAreNotFound) {
  EXPECT_EQ(std::get<ArtifactPathError>(resolve_artifact_path(run, "nope")), ArtifactPathError::kNotFound);
  EXPECT_EQ(std::get<ArtifactPathError>(resolve_artifact_path(run, "ckpt")), ArtifactPathError::kNotFound);
  EXPECT_EQ(std::get<ArtifactPathError>(resolve_artifact_path(run, "")), ArtifactPathError::kOutsideRunDir);
  EXPECT_EQ(std::get<ArtifactPathError>(resolve_artifact_path(run, ".")), ArtifactPathError::kOutsideRunDir);
}

}  // namespace
}  // namespace kiln::ui
