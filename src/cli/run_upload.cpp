// run.upload_to: parse the target, walk the run directory, PUT each file.
#include "run_upload.h"

#include <algorithm>
#include <vector>

#include "kiln/config/error.h"
#include "kiln/error.h"
#include "kiln/track/env.h"

namespace kiln::cli {
namespace fs = std::filesystem;

std::optional<data::S3Location> upload_target(const config::Node& resolved) {
  const config::Node* run = resolved.find("run");
  const config::Node* upload = run && run->is_map() ? run->find("upload_to") : nullptr;
  if (upload == nullptr || upload->is_null()) return std::nullopt;
  const std::string url = upload->as_string();
  if (url.empty()) return std::nullopt;
  try {
    return data::parse_s3_url(url);
  } catch (const kiln::Error& e) {
    throw config::ConfigError(config::Diagnostic{"run.upload_to", upload->source(),
                                                 "expected s3://bucket/prefix, found '" + url + "' (" + e.what() + ")",
                                                 "leave it empty to keep runs local only"});
  }
}

UploadSummary upload_run(const fs::path& run_dir, const data::S3Location& target, const std::string& experiment) {
  std::string prefix = target.key;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  const std::string run_key = (prefix.empty() ? "" : prefix + "/") + experiment + "/" + run_dir.filename().string();
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(run_dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  const data::S3Config s3 = data::s3_config_from_environment("", "");
  Env& env = Env::Default();
  UploadSummary summary{"s3://" + target.bucket + "/" + run_key, 0, 0};
  for (const fs::path& file : files) {
    const std::string relative = fs::relative(file, run_dir).generic_string();
    const std::string body = env.read_file(file);
    try {
      data::s3_put_object(s3, data::S3Location{target.bucket, run_key + "/" + relative}, body);
    } catch (const kiln::Error& e) {
      throw IoError("run.upload_to: uploading " + file.string() + " to " + summary.url + "/" + relative +
                    " failed after " + std::to_string(summary.files) + " of " + std::to_string(files.size()) +
                    " files: " + e.what());
    }
    ++summary.files;
    summary.bytes += body.size();
  }
  return summary;
}

}  // namespace kiln::cli
