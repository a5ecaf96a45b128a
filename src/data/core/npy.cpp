#include "kiln/data/npy.h"

#include <array>
#include <cctype>
#include <cstring>

#include "kiln/data/error.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

struct DtypeInfo {
  NpyDtype dtype;
  const char* descr;  // without the byte-order character
  std::size_t size;
};

constexpr std::array<DtypeInfo, 10> kDtypes{{{NpyDtype::kBool, "b1", 1},
                                             {NpyDtype::kUInt8, "u1", 1},
                                             {NpyDtype::kInt8, "i1", 1},
                                             {NpyDtype::kInt16, "i2", 2},
                                             {NpyDtype::kUInt16, "u2", 2},
                                             {NpyDtype::kInt32, "i4", 4},
                                             {NpyDtype::kUInt32, "u4", 4},
                                             {NpyDtype::kInt64, "i8", 8},
                                             {NpyDtype::kFloat32, "f4", 4},
                                             {NpyDtype::kFloat64, "f8", 8}}};

const DtypeInfo& info(NpyDtype dtype) {
  for (const DtypeInfo& d : kDtypes) {
    if (d.dtype == dtype) return d;
  }
  return kDtypes[1];
}

[[noreturn]] void bad(const std::string& what, const std::string& why) {
  throw DataFormatError("'" + what + "': not a readable .npy array: " + why);
}

// The value text after 'key': in numpy's header dict (a Python literal).
std::string_view dict_value(std::string_view header, std::string_view key, const std::string& what) {
  const std::string quoted = "'" + std::string(key) + "'";
  const std::size_t at = header.find(quoted);
  if (at == std::string_view::npos) bad(what, "its header has no " + quoted + " (header: " + std::string(header) + ")");
  std::size_t v = header.find(':', at + quoted.size());
  if (v == std::string_view::npos) bad(what, "its header has no value for " + quoted);
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  return header.substr(v);
}

}  // namespace

std::size_t npy_item_size(NpyDtype dtype) { return info(dtype).size; }

std::string npy_descr(NpyDtype dtype) {
  const DtypeInfo& d = info(dtype);
  return std::string(d.size == 1 ? "|" : "<") + d.descr;
}

std::int64_t NpyView::numel() const {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) n *= d;
  return n;
}

std::string encode_npy(NpyDtype dtype, const std::vector<std::int64_t>& shape, const void* data, std::size_t bytes) {
  std::uint64_t numel = 1;
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    numel *= static_cast<std::uint64_t>(shape[i]);
    dims += (i ? ", " : "") + std::to_string(shape[i]);
  }
  if (shape.size() == 1) dims += ",";  // Python's one-element tuple: (5,)
  if (numel * npy_item_size(dtype) != bytes)
    throw kiln::Error("encode_npy: " + std::to_string(bytes) + " bytes do not hold shape (" + dims + ") of " +
                      npy_descr(dtype));
  std::string header = "{'descr': '" + npy_descr(dtype) + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(data), bytes);
  return out;
}

NpyView parse_npy(std::string_view bytes, const std::string& what) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    bad(what, "expected the magic \\x93NUMPY at its start");
  const auto major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, at = 0;
  if (major == 1) {
    header_len =
        static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    at = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad(what, "header cut short");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    at = 12;
  } else {
    bad(what, "format version " + std::to_string(major) + ".x, expected 1.0, 2.0 or 3.0");
  }
  if (bytes.size() - at < header_len)
    bad(what, "header of " + std::to_string(header_len) + " bytes, but only " + std::to_string(bytes.size() - at) +
                  " follow");
  const std::string_view header = bytes.substr(at, header_len);
  NpyView view;

  std::string_view descr = dict_value(header, "descr", what);
  if (descr.empty() || descr[0] != '\'') bad(what, "descr is not a string");
  descr = descr.substr(1, descr.find('\'', 1) - 1);
  if (descr.size() < 2 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '='))
    bad(what, "dtype '" + std::string(descr) + "' is not little-endian (save it with .astype('<...'))");
  bool found = false;
  for (const DtypeInfo& d : kDtypes) {
    if (descr.substr(1) == d.descr) {
      view.dtype = d.dtype;
      found = true;
    }
  }
  if (!found)
    bad(what, "dtype '" + std::string(descr) +
                  "' is not supported (expected bool, (u)int8/16/32, int64, float32 or "
                  "float64)");

  if (dict_value(header, "fortran_order", what).substr(0, 5) != "False")
    bad(what, "Fortran order is not supported (save it with np.ascontiguousarray)");

  std::string_view shape = dict_value(header, "shape", what);
  if (shape.empty() || shape[0] != '(') bad(what, "shape is not a tuple");
  const std::size_t close = shape.find(')');
  if (close == std::string_view::npos) bad(what, "shape tuple is not closed");
  std::int64_t dim = -1;
  for (const char c : shape.substr(1, close - 1)) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      dim = (dim < 0 ? 0 : dim) * 10 + (c - '0');
    } else if (c == ',') {
      if (dim < 0) bad(what, "shape has an empty dimension");
      view.shape.push_back(dim);
      dim = -1;
    } else if (c != ' ') {
      bad(what, "shape has '" + std::string(1, c) + "'");
    }
  }
  if (dim >= 0) view.shape.push_back(dim);

  view.data = bytes.substr(at + header_len);
  const std::uint64_t expected = static_cast<std::uint64_t>(view.numel()) * npy_item_size(view.dtype);
  if (view.data.size() != expected)
    bad(what, "expected " + std::to_string(expected) + " bytes of " + std::string(descr) +
                  " data for its shape, found " + std::to_string(view.data.size()));
  return view;
}

const NpyView& NpyParser::parse(std::string_view bytes, std::string_view key, std::string_view ext) {
  if (!header_.empty() && bytes.starts_with(header_) && bytes.size() - header_.size() == last_.data.size()) {
    last_.data = bytes.substr(header_.size());
    return last_;
  }
  std::string what;
  what.append(key).append(".").append(ext);
  last_ = parse_npy(bytes, what);
  header_.assign(bytes.data(), static_cast<std::size_t>(last_.data.data() - bytes.data()));
  return last_;
}

}  // namespace kiln::data
