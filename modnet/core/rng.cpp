#include "modnet/core/rng.h"

#include <unordered_map>

#include "modnet/core/hash.h"

namespace modnet {

uint64_t derive_seed(uint64_t seed, const std::string& stream) {
  // Keep it positive as int64 for APIs that take signed seeds.
  return hash::mix64(hash::splitmix64(seed) ^ hash::fnv1a(stream)) & 0x7fffffffffffffffULL;
}

torch::Generator make_generator(uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return gen;
}

void seed_global(uint64_t seed) { torch::manual_seed(seed); }

uint64_t Rng::next() {
  state_ += hash::kGolden;
  return hash::mix64(state_);
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

torch::Tensor sample_without_replacement(int64_t n, int64_t k, Rng& rng) {
  TORCH_CHECK(k >= 0 && k <= n, "sample_without_replacement: k must be in [0, n], got k = ", k, ", n = ", n);
  auto out = torch::empty({k}, torch::kLong);
  auto* o = out.data_ptr<int64_t>();
  std::unordered_map<int64_t, int64_t> moved;  // positions whose value a swap has changed
  auto at = [&](int64_t i) {
    auto it = moved.find(i);
    return it == moved.end() ? i : it->second;
  };
  for (int64_t t = 0; t < k; ++t) {
    const int64_t i = n - 1 - t;
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(i) + 1));
    const int64_t vi = at(i), vj = at(j);
    moved[j] = vi;
    o[t] = vj;  // position i now holds vj, and is never touched again
  }
  return out;
}

}  // namespace modnet
