#include "modnet/core/device.h"

#include <dlfcn.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "modnet/core/error.h"
#include "modnet/core/log.h"

namespace modnet {

torch::Device resolve_device(const std::string& request) {
  if (request == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (request == "cpu") return torch::Device(torch::kCPU);
  if (request == "cuda" || request.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw ConfigError(fmt::format("device '{}': CUDA was requested but this build or machine has no CUDA device "
                                    "(use device: cpu or device: auto)", request));
    int index = 0;
    if (request.size() > 5) {
      try {
        size_t used = 0;
        index = std::stoi(request.substr(5), &used);
        if (used != request.size() - 5 || index < 0) throw std::invalid_argument("index");
      } catch (const std::exception&) {
        throw ConfigError(fmt::format("device '{}': expected cuda:N with N a device index", request));
      }
    }
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (index >= count)
      throw ConfigError(fmt::format("device '{}': only {} CUDA device(s) present", request, count));
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw ConfigError(fmt::format("device '{}': expected auto, cpu, cuda or cuda:N", request));
}

std::string blas_library() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("libblas") != std::string::npos || path.find("libopenblas") != std::string::npos ||
        path.find("libmkl") != std::string::npos)
      return path;
  }
  return "unknown";
}

bool set_blas_threads(int n) {
  // Looked up (once) in the symbols already loaded (torch's BLAS), so no link-time dependency on
  // OpenBLAS.
  using SetFn = void (*)(int);
  static auto* set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!set || n < 1) return false;
  set(n);
  return true;
}

int blas_threads() {
  using GetFn = int (*)();
  static auto* get = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : -1;
}

std::string describe_device(const torch::Device& device) {
  if (device.is_cuda()) return fmt::format("{} (CUDA)", device.str());
  return fmt::format("cpu ({} threads, BLAS {})", torch::get_num_threads(), blas_library());
}

int64_t cap_threads(const char* key, int64_t wanted) {
  const int64_t cores = std::max<int64_t>(1, int64_t(std::thread::hardware_concurrency()));
  if (wanted <= cores) return wanted;
  // More threads than cores only adds contention (a 3-second run took minutes with 1000).
  log::warn("{} = {} exceeds this machine's {} cores; using {}", key, wanted, cores, cores);
  return cores;
}

bool flush_denormals() { return at::globalContext().setFlushDenormal(true); }

bool apply_thread_policy(int64_t torch_threads, int64_t blas_threads_wanted) {
  torch::set_num_threads(static_cast<int>(torch_threads > 0 ? cap_threads("threads", torch_threads) : 1));
  return blas_threads_wanted <= 0 || set_blas_threads(static_cast<int>(cap_threads("blas_threads", blas_threads_wanted)));
}

void set_threads(int64_t threads) {
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
}

}  // namespace modnet
