#include "modnet/core/rng.h"

namespace modnet {

namespace {
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t derive_seed(uint64_t seed, const std::string& stream) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : stream) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // Keep it positive as int64 for APIs that take signed seeds.
  return mix(mix(seed + 0x9e3779b97f4a7c15ULL) ^ h) & 0x7fffffffffffffffULL;
}

torch::Generator make_generator(uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return gen;
}

void seed_global(uint64_t seed) { torch::manual_seed(seed); }

uint64_t Rng::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return mix(state_);
}

uint64_t Rng::below(uint64_t n) {
  if (n <= 1) return 0;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do r = next(); while (r >= limit);
  return r % n;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

torch::Tensor permutation(int64_t n, Rng& rng) {
  auto out = torch::arange(n, torch::kLong);
  auto* p = out.data_ptr<int64_t>();
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.below(static_cast<uint64_t>(i) + 1)]);
  return out;
}

}  // namespace modnet
