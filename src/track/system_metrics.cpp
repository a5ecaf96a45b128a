#include "kiln/track/system_metrics.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace kiln::track {
namespace {

// utime + stime of this process in seconds (/proc/self/stat fields 14, 15;
// the command name in field 2 may hold spaces, so count from its ')').
double process_cpu_seconds() {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Field 3 (state) is the first after ')'; utime is field 14.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A "Key:   12345 kB" line of a /proc file, in kB; -1 when absent.
double proc_kb(const char* file, const char* key) {
  std::ifstream in(file);
  std::string line;
  std::size_t key_length = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, key_length, key) == 0 && line.size() > key_length && line[key_length] == ':')
      return std::stod(line.substr(key_length + 1));
  }
  return -1;
}

}  // namespace

// NVML's C API, declared here so the CPU build needs neither CUDA headers
// nor the driver: the library is loaded at run time when it exists.
struct SystemSampler::Nvml {
  using Device = void*;
  struct Utilization {
    unsigned int gpu, memory;
  };
  struct Memory {
    unsigned long long total, free, used;
  };
  void* library = nullptr;
  int (*shutdown)() = nullptr;
  int (*get_utilization)(Device, Utilization*) = nullptr;
  int (*get_memory)(Device, Memory*) = nullptr;
  std::vector<Device> devices;

  static std::unique_ptr<Nvml> load() {
    void* library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) return nullptr;
    auto nvml = std::make_unique<Nvml>();
    nvml->library = library;
    auto init = reinterpret_cast<int (*)()>(dlsym(library, "nvmlInit_v2"));
    auto count = reinterpret_cast<int (*)(unsigned int*)>(dlsym(library, "nvmlDeviceGetCount_v2"));
    auto handle = reinterpret_cast<int (*)(unsigned int, Device*)>(dlsym(library, "nvmlDeviceGetHandleByIndex_v2"));
    nvml->shutdown = reinterpret_cast<int (*)()>(dlsym(library, "nvmlShutdown"));
    nvml->get_utilization =
        reinterpret_cast<int (*)(Device, Utilization*)>(dlsym(library, "nvmlDeviceGetUtilizationRates"));
    nvml->get_memory = reinterpret_cast<int (*)(Device, Memory*)>(dlsym(library, "nvmlDeviceGetMemoryInfo"));
    unsigned int n = 0;
    if (!init || !count || !handle || !nvml->get_utilization || !nvml->get_memory || init() != 0 || count(&n) != 0)
      return nullptr;  // the destructor closes the library
    for (unsigned int i = 0; i < n; ++i) {
      Device device = nullptr;
      if (handle(i, &device) == 0) nvml->devices.push_back(device);
    }
    return nvml;
  }

  ~Nvml() {
    if (shutdown && !devices.empty()) shutdown();
    if (library) dlclose(library);
  }
};

SystemSampler::SystemSampler() : nvml_(Nvml::load()) {}
SystemSampler::~SystemSampler() = default;

int SystemSampler::gpu_count() const { return nvml_ ? static_cast<int>(nvml_->devices.size()) : 0; }

std::vector<MetricRow> SystemSampler::sample(double now) {
  std::vector<MetricRow> rows;
  auto add = [&](std::string key, double value) { rows.push_back({std::move(key), {0, now, value}}); };
  double cpu = process_cpu_seconds();
  if (cpu >= 0 && last_cpu_seconds_ >= 0 && now > last_time_)
    add("system/cpu_percent", 100.0 * (cpu - last_cpu_seconds_) / (now - last_time_));
  last_cpu_seconds_ = cpu;
  last_time_ = now;
  if (double rss_kb = proc_kb("/proc/self/status", "VmRSS"); rss_kb >= 0) add("system/rss_mb", rss_kb / 1024.0);
  double total = proc_kb("/proc/meminfo", "MemTotal"), available = proc_kb("/proc/meminfo", "MemAvailable");
  if (total > 0 && available >= 0) add("system/memory_percent", 100.0 * (total - available) / total);
  if (nvml_) {
    for (std::size_t i = 0; i < nvml_->devices.size(); ++i) {
      std::string prefix = "system/gpu" + std::to_string(i) + "/";
      Nvml::Utilization utilization{};
      if (nvml_->get_utilization(nvml_->devices[i], &utilization) == 0) add(prefix + "utilization", utilization.gpu);
      Nvml::Memory memory{};
      if (nvml_->get_memory(nvml_->devices[i], &memory) == 0)
        add(prefix + "memory_mb", static_cast<double>(memory.used) / (1024.0 * 1024.0));
    }
  }
  return rows;
}

}  // namespace kiln::track
