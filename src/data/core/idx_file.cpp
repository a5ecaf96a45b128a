#include "kiln/data/idx_file.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kiln/data/error.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

struct IdxType {
  std::uint8_t code;
  const char* name;
  std::size_t bytes;
};

constexpr std::array<IdxType, 6> kTypes{{
    {0x08, "unsigned byte", 1},
    {0x09, "signed byte", 1},
    {0x0B, "int16", 2},
    {0x0C, "int32", 4},
    {0x0D, "float32", 4},
    {0x0E, "float64", 8},
}};

const IdxType* find_type(std::uint8_t code) {
  for (const IdxType& t : kTypes) {
    if (t.code == code) return &t;
  }
  return nullptr;
}

std::string hex_bytes(const unsigned char* bytes, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

std::string shape_text(const std::vector<std::int64_t>& dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + "]";
}

std::string plural(std::uint64_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// A file opened through zlib, which reads gzip streams and passes raw files
// through unchanged.
class IdxFile {
 public:
  explicit IdxFile(const std::string& path) : path_(path) {
    errno = 0;
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) {
      const int err = errno;
      throw kiln::IoError("cannot open IDX file '" + path + "': " + (err ? std::strerror(err) : "out of memory"));
    }
  }

  // Reads up to `n` bytes into `out`; fewer only at the end of the data.
  std::size_t read(void* out, std::size_t n) {
    auto* dst = static_cast<unsigned char*>(out);
    std::size_t got = 0;
    while (got < n) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 20));
      errno = 0;
      const int r = gzread(file_.get(), dst + got, want);
      if (r < 0) fail();
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    // zlib reports a gzip stream cut short only through gzerror.
    int code = Z_OK;
    gzerror(file_.get(), &code);
    if (code != Z_OK) fail();
    return got;
  }

  [[noreturn]] void fail() {
    const int err = errno;
    int code = Z_OK;
    const char* raw = gzerror(file_.get(), &code);
    // zlib prefixes its messages with the path, which ours already name.
    std::string message = raw ? raw : "unknown zlib error";
    if (message.rfind(path_ + ": ", 0) == 0) message.erase(0, path_.size() + 2);
    if (code == Z_ERRNO) throw kiln::IoError("cannot read IDX file '" + path_ + "': " + std::strerror(err));
    if (code == Z_BUF_ERROR) {
      throw DataFormatError("'" + path_ + "': truncated gzip stream (" + message +
                            "): expected a complete gzip-compressed IDX file");
    }
    throw DataFormatError("'" + path_ + "': corrupt gzip stream: " + message +
                          " (expected a complete gzip-compressed or raw IDX file)");
  }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
};

std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// IDX stores multi-byte elements big-endian; tensors hold them in host order.
void to_host_order(unsigned char* data, std::size_t count, std::size_t bytes) {
  if constexpr (std::endian::native == std::endian::big) return;
  for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * bytes, data + (i + 1) * bytes);
}

}  // namespace

IdxArray read_idx_file(const std::string& path) {
  IdxFile file(path);
  const std::string where = "'" + path + "': ";

  unsigned char magic[4];
  const std::size_t got_magic = file.read(magic, 4);
  if (got_magic < 4) {
    throw DataFormatError(where + "truncated IDX header: expected a 4-byte magic number, found " +
                          plural(got_magic, "byte"));
  }
  const IdxType* type = find_type(magic[2]);
  if (magic[0] != 0 || magic[1] != 0 || type == nullptr || magic[3] == 0) {
    std::string expected =
        "expected the magic number 00 00 TT NN (TT a type code: 08, 09, 0b, 0c, 0d or 0e; NN >= 1 "
        "dimensions), found " +
        hex_bytes(magic, 4);
    if (magic[0] == 0 && magic[1] == 0 && type != nullptr)
      expected += " (no dimensions)";
    else if (magic[0] == 0 && magic[1] == 0)
      expected += " (unknown type code " + hex_bytes(magic + 2, 1) + ")";
    throw DataFormatError(where + "not an IDX file: " + expected);
  }

  const std::size_t ndims = magic[3];
  std::vector<unsigned char> header(4 * ndims);
  const std::size_t got_dims = file.read(header.data(), header.size());
  if (got_dims < header.size()) {
    throw DataFormatError(where + "truncated IDX header: expected " + plural(ndims, "dimension") + " (" +
                          plural(header.size(), "byte") + ") after the magic number, found " +
                          plural(got_dims, "byte"));
  }
  std::vector<std::int64_t> dims(ndims);
  std::uint64_t count = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < ndims; ++i) {
    dims[i] = big_endian_u32(header.data() + 4 * i);
    overflow |= __builtin_mul_overflow(count, static_cast<std::uint64_t>(dims[i]), &count);
  }
  std::uint64_t expected = 0;
  overflow |= __builtin_mul_overflow(count, static_cast<std::uint64_t>(type->bytes), &expected);
  const std::string declared = "shape " + shape_text(dims) + " of " + type->name;
  if (overflow || expected > static_cast<std::uint64_t>(PTRDIFF_MAX)) {
    throw DataFormatError(where + "IDX header declares " + declared + ", too large to load");
  }

  // Read before allocating the tensor: a header that declares far more than
  // the file holds must not allocate it.
  std::vector<unsigned char> data;
  std::size_t got = 0;
  while (got < expected) {
    const std::size_t want = std::min<std::size_t>(expected - got, std::size_t{16} << 20);
    data.resize(got + want);
    const std::size_t n = file.read(data.data() + got, want);
    got += n;
    if (n < want) break;
  }
  if (got < expected) {
    throw DataFormatError(where + "truncated IDX payload: expected " + plural(expected, "byte") + " for " + declared +
                          ", found " + plural(got, "byte"));
  }
  unsigned char extra;
  if (file.read(&extra, 1) != 0) {
    throw DataFormatError(where + "IDX payload longer than its header declares: expected " + plural(expected, "byte") +
                          " for " + declared + ", found more");
  }

  to_host_order(data.data(), count, type->bytes);
  data.resize(expected);
  return IdxArray{type->code, type->bytes, std::move(dims), std::move(data)};
}

}  // namespace kiln::data
