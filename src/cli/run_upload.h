// `run.upload_to: s3://bucket/prefix`: a FINISHED run's directory, copied to
// an S3 or S3-compatible store (docs/runs.md, Uploading runs), where the
// team's other machines can find it. Rank 0 uploads, after the manifest and
// the run store say FINISHED.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "kiln/config/node.h"
#include "kiln/data/s3.h"

namespace kiln::cli {

// run.upload_to of the resolved config, parsed; nullopt when empty or
// absent. Throws config::ConfigError at the key and its source when it is
// not an s3://bucket[/prefix] URL. Called with the job's other checks
// (train_command.cpp, check_and_bind), before any run directory exists.
std::optional<data::S3Location> upload_target(const config::Node& resolved);

struct UploadSummary {
  std::string url;  // s3://bucket/<prefix>/<experiment>/<run directory name>
  std::size_t files = 0;
  std::uintmax_t bytes = 0;
};

// PUTs every regular file under `run_dir` to <target>/<experiment>/<run dir
// name>/<relative path>, in path order, with the S3 settings of the
// environment (kiln/data/s3.h: AWS_* variables, endpoint, credentials).
// Throws kiln::IoError naming the file and S3's answer when a PUT fails.
UploadSummary upload_run(const std::filesystem::path& run_dir, const data::S3Location& target,
                         const std::string& experiment);

}  // namespace kiln::cli
