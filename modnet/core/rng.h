#pragma once
// Seeding. One `seed` determines every random stream; each stream gets its own seed derived from
// the run seed and the stream's name, so adding a stream never shifts another.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace modnet {

/// splitmix64-mixed combination of a seed and a stream name (stable across platforms).
uint64_t derive_seed(uint64_t seed, const std::string& stream);
/// A CPU torch generator seeded from `seed`.
torch::Generator make_generator(uint64_t seed);
/// Seeds torch's global generators (CPU and CUDA) - used for module initialisation.
void seed_global(uint64_t seed);

/// Small, fully specified PRNG (splitmix64) for index streams; its state is one integer, so it
/// serialises trivially and behaves identically everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  /// Uniform integer in [0, n) without modulo bias.
  uint64_t below(uint64_t n);
  double uniform();  // [0, 1)
  uint64_t state() const { return state_; }
  void set_state(uint64_t s) { state_ = s; }

 private:
  uint64_t state_;
};

/// A permutation of 0..n-1 (Fisher-Yates driven by Rng) as an int64 tensor.
torch::Tensor permutation(int64_t n, Rng& rng);
/// `k` distinct values of 0..n-1, uniformly at random (the last k positions of permutation()'s
/// Fisher-Yates, run for k swaps only: O(k) time and memory however large n is).
torch::Tensor sample_without_replacement(int64_t n, int64_t k, Rng& rng);

}  // namespace modnet
