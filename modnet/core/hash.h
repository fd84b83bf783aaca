#pragma once
// The two hash functions modnet uses, in one place: FNV-1a 64 (of text: config hashes, stream
// names, sweep point names) and splitmix64 (mixing integers: derived seeds, the PRNG, seeded
// membership tests). Both are fully specified, so results are identical on every platform.
#include <cstdint>
#include <string_view>

namespace modnet::hash {

/// FNV-1a 64 of the bytes of `text`.
inline uint64_t fnv1a(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

/// The splitmix64 weyl increment (the golden ratio in 64 bits).
inline constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

/// splitmix64's finaliser: a bijective mix of the 64 bits.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// One splitmix64 step from state `z`: mix64(z + golden).
inline uint64_t splitmix64(uint64_t z) { return mix64(z + kGolden); }

}  // namespace modnet::hash
