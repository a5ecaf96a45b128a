// A fresh directory under $TMPDIR for one test, removed with everything in it
// when the test ends. Header-only: every test binary may include it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace kiln::testing {

class TempDir {
 public:
  // The directory is <tmp>/<prefix>.XXXXXX (mkdtemp: unique, mode 0700).
  explicit TempDir(const std::string& prefix = "kiln_test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + ".XXXXXX")).string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    // A test may have made it unwritable (to provoke errors); take it back.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace kiln::testing
