#include "kiln/train/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

#include "kiln/error.h"
#include "kiln/track/json.h"

namespace kiln::train {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; kiln copies it without swapping bytes");

using track::JsonValue;

struct Dtype {
  const char* name;
  torch::ScalarType type;
  std::uint64_t size;
  // Position in the reference implementation's Dtype enum (increasing
  // alignment); files are laid out by descending rank, then by name.
  int rank;
};

constexpr Dtype kDtypes[] = {
    {"BOOL", torch::kBool, 1, 0}, {"U8", torch::kByte, 1, 1},    {"I8", torch::kChar, 1, 2},
    {"I16", torch::kShort, 2, 5}, {"F16", torch::kHalf, 2, 7},   {"BF16", torch::kBFloat16, 2, 8},
    {"I32", torch::kInt, 4, 9},   {"F32", torch::kFloat, 4, 11}, {"F64", torch::kDouble, 8, 12},
    {"I64", torch::kLong, 8, 13},
};
// Valid safetensors dtypes that LibTorch 1.13 has no type for.
constexpr std::string_view kUnsupportedDtypes[] = {"U16",     "U32",     "U64",     "F8_E5M2", "F8_E4M3",
                                                   "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",      "C64"};
constexpr const char* kSupportedList = "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL";

const Dtype* find_dtype(torch::ScalarType type) {
  for (const Dtype& dtype : kDtypes) {
    if (dtype.type == type) return &dtype;
  }
  return nullptr;
}

const Dtype* find_dtype(std::string_view name) {
  for (const Dtype& dtype : kDtypes) {
    if (name == dtype.name) return &dtype;
  }
  return nullptr;
}

std::string format_list(const std::vector<std::int64_t>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

std::string format_range(std::uint64_t begin, std::uint64_t end) {
  // Appends rather than operator+: GCC 12 warns falsely (-Wstringop-overflow)
  // about "[" + std::to_string(...).
  std::string out = "[";
  out += std::to_string(begin);
  out += ", ";
  out += std::to_string(end);
  out += "]";
  return out;
}

// ------------------------------------------------------------------ writing

struct Planned {
  const std::string* name;
  const torch::Tensor* tensor;
  const Dtype* dtype;
  std::uint64_t nbytes;
};

std::vector<Planned> plan(const TensorMap& tensors) {
  std::vector<Planned> planned;
  planned.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") {
      throw Error("cannot save a tensor named '__metadata__': safetensors reserves that name for the metadata");
    }
    if (!tensor.defined())
      throw Error("cannot save tensor '" + name + "': it is undefined (a default-constructed Tensor)");
    if (tensor.layout() != torch::kStrided) {
      throw Error("cannot save tensor '" + name + "': it is " + c10::str(tensor.layout()) +
                  ", but safetensors stores dense tensors only (call .to_dense() first)");
    }
    const Dtype* dtype = find_dtype(tensor.scalar_type());
    if (!dtype) {
      throw Error("cannot save tensor '" + name + "': its dtype " + std::string(c10::toString(tensor.scalar_type())) +
                  " has no safetensors equivalent kiln supports (supported: " + kSupportedList + ")");
    }
    planned.push_back({&name, &tensor, dtype, static_cast<std::uint64_t>(tensor.numel()) * dtype->size});
  }
  // The reference implementation's order: the data of large-alignment types
  // first, so every tensor starts at a multiple of its element size.
  std::stable_sort(planned.begin(), planned.end(),
                   [](const Planned& a, const Planned& b) { return a.dtype->rank > b.dtype->rank; });
  return planned;
}

// The 8-byte length and the padded JSON header.
std::string header_bytes(const std::vector<Planned>& planned, const SafetensorsMetadata& metadata) {
  JsonValue header = JsonValue::object();
  if (!metadata.empty()) {
    JsonValue meta = JsonValue::object();
    for (const auto& [key, value] : metadata) meta.set(key, JsonValue::string(value));
    header.set("__metadata__", std::move(meta));
  }
  std::uint64_t offset = 0;
  for (const Planned& p : planned) {
    JsonValue shape = JsonValue::array();
    for (std::int64_t dim : p.tensor->sizes()) shape.push_back(JsonValue::number(dim));
    JsonValue entry = JsonValue::object();
    entry.set("dtype", JsonValue::string(p.dtype->name));
    entry.set("shape", std::move(shape));
    entry.set("data_offsets", JsonValue::array({JsonValue::number(offset), JsonValue::number(offset + p.nbytes)}));
    header.set(*p.name, std::move(entry));
    offset += p.nbytes;
  }
  std::string json = track::to_json(header);
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  std::uint64_t length = json.size();
  std::memcpy(out.data(), &length, 8);
  return out + json;
}

class StringWritableFile final : public WritableFile {
 public:
  explicit StringWritableFile(std::string& out) : out_(out) {}
  void append(std::string_view data) override { out_.append(data); }
  void sync() override {}
  void close() override {}
  const std::filesystem::path& path() const override { return path_; }

 private:
  std::string& out_;
  std::filesystem::path path_ = "<memory>";
};

// ------------------------------------------------------------------ reading

class Source {
 public:
  virtual ~Source() = default;
  virtual std::uint64_t size() const = 0;
  // Exactly `n` bytes, or an IoError.
  virtual void read(char* out, std::size_t n) = 0;
};

class MemorySource final : public Source {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  void read(char* out, std::size_t n) override {
    std::memcpy(out, bytes_.data() + pos_, n);  // bounds were validated against size()
    pos_ += n;
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

class FileSource final : public Source {
 public:
  FileSource(const std::filesystem::path& path, Env& env)
      : path_(path), file_(env.new_sequential_file(path)), size_(env.file_size(path)) {}
  std::uint64_t size() const override { return size_; }
  void read(char* out, std::size_t n) override {
    while (n > 0) {
      std::size_t got = file_->read(out, n);
      if (got == 0) {
        throw IoError("cannot read '" + path_.string() + "': it ended after " + std::to_string(pos_) +
                      " bytes although it was " + std::to_string(size_) + " bytes when opened (changed while read?)");
      }
      out += got;
      n -= got;
      pos_ += got;
    }
  }

 private:
  std::filesystem::path path_;
  std::unique_ptr<SequentialFile> file_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
};

struct Entry {
  std::string name;
  const Dtype* dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin, end;
};

class Parser {
 public:
  Parser(Source& source, std::string name) : source_(source), name_(std::move(name)) {}

  SafetensorsContents parse() {
    const std::uint64_t size = source_.size();
    if (size < 8) invalid("it is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
    std::uint64_t length = 0;
    source_.read(reinterpret_cast<char*>(&length), 8);
    if (length > kSafetensorsMaxHeaderSize) {
      invalid("its header length " + std::to_string(length) + " exceeds the limit of " +
              std::to_string(kSafetensorsMaxHeaderSize) + " bytes");
    }
    if (length > size - 8) {
      invalid("its header length " + std::to_string(length) + " runs past the end of the file (" +
              std::to_string(size) + " bytes)");
    }
    std::string header(length, '\0');
    source_.read(header.data(), length);
    JsonValue root;
    try {
      root = track::parse_json(header);
    } catch (const track::JsonError& e) {
      invalid("its header is not valid JSON: " + std::string(e.what()) + " (at byte " + std::to_string(e.offset() + 8) +
              " of the file)");
    }
    if (!root.is_object()) invalid("its header must be a JSON object, found " + std::string(root.kind_name()));

    SafetensorsContents contents;
    std::vector<Entry> entries;
    for (const auto& [key, value] : root.members()) {
      if (key == "__metadata__") {
        contents.metadata = parse_metadata(value);
      } else {
        entries.push_back(parse_entry(key, value));
      }
    }
    check_layout(entries, size - 8 - length);
    for (const Entry& entry : entries) contents.tensors.emplace(entry.name, read_tensor(entry));
    return contents;
  }

 private:
  [[noreturn]] void invalid(const std::string& problem) const {
    throw IoError("'" + name_ + "' is not a valid safetensors file: " + problem);
  }

  SafetensorsMetadata parse_metadata(const JsonValue& value) const {
    if (!value.is_object()) {
      invalid("__metadata__ must be an object of strings, found " + std::string(value.kind_name()));
    }
    SafetensorsMetadata metadata;
    for (const auto& [key, item] : value.members()) {
      if (!item.is_string()) {
        invalid("__metadata__ entry '" + key + "' must be a string, found " + std::string(item.kind_name()));
      }
      metadata[key] = item.text();
    }
    return metadata;
  }

  Entry parse_entry(const std::string& name, const JsonValue& value) const {
    const std::string what = "tensor '" + name + "'";
    if (!value.is_object()) {
      invalid(what + " must be an object with dtype, shape and data_offsets, found " + value.kind_name());
    }
    for (const auto& [key, item] : value.members()) {
      if (key != "dtype" && key != "shape" && key != "data_offsets") {
        invalid(what + " has an unexpected field '" + key + "' (expected dtype, shape and data_offsets)");
      }
    }
    const JsonValue* dtype_value = value.find("dtype");
    const JsonValue* shape_value = value.find("shape");
    const JsonValue* offsets_value = value.find("data_offsets");
    if (!dtype_value) invalid(what + " has no 'dtype'");
    if (!shape_value) invalid(what + " has no 'shape'");
    if (!offsets_value) invalid(what + " has no 'data_offsets'");

    Entry entry{name, nullptr, {}, 0, 0};
    if (!dtype_value->is_string())
      invalid(what + " has a dtype that is " + dtype_value->kind_name() + ", not a string");
    entry.dtype = find_dtype(dtype_value->text());
    if (!entry.dtype) {
      const std::string& dtype = dtype_value->text();
      bool known = std::find(std::begin(kUnsupportedDtypes), std::end(kUnsupportedDtypes), dtype) !=
                   std::end(kUnsupportedDtypes);
      if (known) {
        invalid(what + " has dtype " + dtype + ", which LibTorch has no type for (kiln supports " + kSupportedList +
                ")");
      }
      invalid(what + " has unknown dtype " + track::json_quote(dtype) + " (expected one of " + kSupportedList + ")");
    }

    bool shape_ok = shape_value->is_array();
    std::uint64_t numel = 1;
    bool overflow = false;
    for (const JsonValue& dim : shape_value->items()) {
      auto n = dim.as_uint64();
      if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        shape_ok = false;
        break;
      }
      entry.shape.push_back(static_cast<std::int64_t>(*n));
      // Zero-sized dimensions are skipped so that [0, huge] still overflows:
      // LibTorch could not describe such a tensor either.
      if (*n != 0 && numel > std::numeric_limits<std::uint64_t>::max() / *n) overflow = true;
      if (*n != 0) numel *= *n;
    }
    if (!shape_ok) {
      invalid(what + " has shape " + track::to_json(*shape_value) + ", expected a list of non-negative integers");
    }
    if (overflow || numel > std::numeric_limits<std::uint64_t>::max() / entry.dtype->size) {
      invalid(what + " has shape " + format_list(entry.shape) + ", whose size in bytes overflows 64 bits");
    }
    for (std::int64_t dim : entry.shape) {
      if (dim == 0) numel = 0;
    }

    const auto& offsets = offsets_value->items();
    std::optional<std::uint64_t> begin, end;
    if (offsets_value->is_array() && offsets.size() == 2) {
      begin = offsets[0].as_uint64();
      end = offsets[1].as_uint64();
    }
    if (!begin || !end || *begin > *end) {
      invalid(what + " has data_offsets " + track::to_json(*offsets_value) +
              ", expected [begin, end] with 0 <= begin <= end");
    }
    entry.begin = *begin;
    entry.end = *end;
    const std::uint64_t nbytes = numel * entry.dtype->size;
    if (entry.end - entry.begin != nbytes) {
      invalid(what + " is " + entry.dtype->name + " " + format_list(entry.shape) + ", which takes " +
              std::to_string(nbytes) + " bytes, but its data_offsets " + format_range(entry.begin, entry.end) +
              " hold " + std::to_string(entry.end - entry.begin));
    }
    return entry;
  }

  // The tensors must tile the data section exactly: no overlap, no gap, no
  // trailing bytes (as the reference implementation requires).
  void check_layout(std::vector<Entry>& entries, std::uint64_t data_size) const {
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    std::uint64_t next = 0;
    const Entry* previous = nullptr;
    for (const Entry& entry : entries) {
      if (entry.end > data_size) {
        invalid("tensor '" + entry.name + "' has data_offsets " + format_range(entry.begin, entry.end) +
                ", past the end of the data section (" + std::to_string(data_size) + " bytes; is the file truncated?)");
      }
      if (entry.begin < next) {
        invalid("tensor '" + entry.name + "' at " + format_range(entry.begin, entry.end) + " overlaps tensor '" +
                previous->name + "' at " + format_range(previous->begin, previous->end));
      }
      if (entry.begin > next) {
        invalid("bytes " + format_range(next, entry.begin) + " of the data section belong to no tensor");
      }
      next = entry.end;
      previous = &entry;
    }
    if (next != data_size) {
      invalid("bytes " + format_range(next, data_size) + " at the end of the data section belong to no tensor");
    }
  }

  torch::Tensor read_tensor(const Entry& entry) {
    torch::Tensor tensor;
    try {
      tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(entry.dtype->type));
    } catch (const std::exception& e) {  // c10::Error, std::bad_alloc
      throw IoError("cannot load tensor '" + entry.name + "' " + format_list(entry.shape) + " from '" + name_ +
                    "': " + e.what());
    }
    const std::uint64_t nbytes = entry.end - entry.begin;
    if (nbytes > 0) source_.read(static_cast<char*>(tensor.data_ptr()), nbytes);
    if (entry.dtype->type == torch::kBool) {
      const auto* bytes = static_cast<const unsigned char*>(tensor.data_ptr());
      for (std::uint64_t i = 0; i < nbytes; ++i) {
        if (bytes[i] > 1) {
          char byte[8];
          std::snprintf(byte, sizeof byte, "0x%02x", bytes[i]);
          invalid("tensor '" + entry.name + "' is BOOL but element " + std::to_string(i) + " is " + byte +
                  " (must be 0 or 1)");
        }
      }
    }
    return tensor;
  }

  Source& source_;
  std::string name_;
};

}  // namespace

std::string safetensors_dtype(torch::ScalarType dtype) {
  const Dtype* found = find_dtype(dtype);
  if (!found) {
    throw Error("dtype " + std::string(c10::toString(dtype)) +
                " has no safetensors equivalent kiln supports (supported: " + kSupportedList + ")");
  }
  return found->name;
}

void write_safetensors(WritableFile& out, const TensorMap& tensors, const SafetensorsMetadata& metadata) {
  std::vector<Planned> planned = plan(tensors);
  out.append(header_bytes(planned, metadata));
  for (const Planned& p : planned) {
    if (p.nbytes == 0) continue;
    // One contiguous CPU copy at a time (none for a contiguous CPU tensor).
    torch::Tensor data = p.tensor->detach().to(torch::kCPU).contiguous();
    out.append(std::string_view(static_cast<const char*>(data.data_ptr()), p.nbytes));
  }
}

std::string safetensors_serialize(const TensorMap& tensors, const SafetensorsMetadata& metadata) {
  std::string bytes;
  StringWritableFile out(bytes);
  write_safetensors(out, tensors, metadata);
  return bytes;
}

SafetensorsContents safetensors_deserialize(std::string_view bytes, const std::string& source) {
  MemorySource memory(bytes);
  return Parser(memory, source).parse();
}

void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors, const SafetensorsMetadata& metadata,
                      Env& env) {
  // Validate before touching the disk.
  plan(tensors);
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%08x", env.random32());
  std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::filesystem::path temp = dir / (".tmp-" + path.filename().string() + suffix);
  try {
    auto file = env.new_writable_file(temp);
    write_safetensors(*file, tensors, metadata);
    file->sync();
    file->close();
    env.rename(temp, path);
  } catch (const Error&) {
    try {
      if (env.exists(temp)) env.remove_file(temp);
    } catch (const Error&) {
      // Report the first failure, not the cleanup's.
    }
    throw;
  }
  env.sync_dir(dir);
}

SafetensorsContents load_safetensors(const std::filesystem::path& path, Env& env) {
  FileSource file(path, env);
  return Parser(file, path.string()).parse();
}

}  // namespace kiln::train
