#pragma once
// Device selection and thread settings.
#include <string>

#include <torch/torch.h>

namespace modnet {

/// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N". Asking for CUDA on a machine
/// without it is a ConfigError naming the request.
torch::Device resolve_device(const std::string& request);
/// Human-readable description for logs: "cpu (2 threads, BLAS: openblas-pthread)" or the GPU name.
std::string describe_device(const torch::Device& device);
/// Sets torch's intra-op threads (0 keeps the current setting).
void set_threads(int64_t threads);
/// The measured default (docs/performance.md): torch intra-op threads = `torch_threads`, or 1 when
/// 0; OpenBLAS threads = `blas_threads`, or OpenBLAS's own default (all cores, or
/// OPENBLAS_NUM_THREADS) when 0. On the 2-core machine torch 1 + OpenBLAS 2 trains the CIFAR
/// workloads 1.4x faster than 2 + 1 and 1 + 1, and 2 + 2 (both pools on every core) is up to 4x
/// slower than any; sweeps running N jobs set OPENBLAS_NUM_THREADS = cores / N for each.
/// Counts above the number of cores are capped to it, with a warning (cap_threads).
/// Returns false when blas_threads > 0 but the BLAS is not OpenBLAS (nothing set for it).
bool apply_thread_policy(int64_t torch_threads, int64_t blas_threads);
/// Flushes denormal floats to zero (FTZ/DAZ) in this thread and the threads it starts from now on.
/// Adam's moments of units that stop receiving gradient decay through the denormal range, where
/// every arithmetic operation on x86 is ~100x slower: a 1M-tuple CIFAR run slowed from 28 to 15
/// steps/s over its course without it. Every run applies it (as PyTorch's torch.set_flush_denormal).
/// Returns false where the CPU does not support it.
bool flush_denormals();
/// `wanted`, or the machine's core count when it is larger (a warning naming `key` says so).
int64_t cap_threads(const char* key, int64_t wanted);
/// Sets OpenBLAS's thread count (openblas_set_num_threads, looked up at run time). Returns false,
/// changing nothing, when the BLAS in use is not OpenBLAS or n < 1. torch's intra-op threads
/// (set_threads) do not reach OpenBLAS's own thread pool.
bool set_blas_threads(int n);
/// OpenBLAS's thread count (openblas_get_num_threads), or -1 when the BLAS is not OpenBLAS.
int blas_threads();
/// The BLAS shared library torch resolved at run time (from /proc/self/maps), or "unknown".
std::string blas_library();

}  // namespace modnet
