#pragma once
// The two hash functions modnet uses, in one place: FNV-1a (of text: config hashes, stream
// names, sweep point names) and splitmix64 (mixing integers: derived seeds, the PRNG, seeded
// membership tests). Both are fully specified, so results are identical on every platform.
#include <cstdint>
#include <string_view>

namespace modnet::hash {

/// modnet's start value of fnv1a: the FNV-1a 64 offset basis 14695981039346656037 with its last
/// digit lost when modnet was first written. Kept, because every derived seed, config hash and
/// sweep point name of existing runs depends on it; so fnv1a is FNV-1a's recurrence but not
/// interchangeable with other FNV-1a 64 implementations (tests/test_core.cpp pins both).
inline constexpr uint64_t kFnvStart = 1469598103934665603ULL;

/// FNV-1a's recurrence (xor a byte, multiply by the 64-bit FNV prime) over the bytes of `text`,
/// from kFnvStart.
inline uint64_t fnv1a(std::string_view text) {
  uint64_t h = kFnvStart;
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
