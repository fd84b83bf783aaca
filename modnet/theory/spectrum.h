#pragma once
// The feature spectrum of the linear random-feature model of PAPER.md §2 (docs/theory.md §1).
//
// The target is y(x) = φ(x)·θ* over infinitely many Gaussian random features φ_i(x) ~ N(0, λ_i),
// independent, with the eigenvalues
//
//     λ_i = c·[i^(−α) − (i+1)^(−α)],   i = 1, 2, …,   α = Ω^(−m)            (PAPER.md §2 [P/D])
//
// so that the series telescopes: Tr Λ = Σ_{i≥1} λ_i = c, and the part a model that keeps the
// first p features cannot see is Tr Λ₂(p) = Σ_{i>p} λ_i = c·(p+1)^(−α). A larger intrinsic
// dimension m makes α smaller, so the spectrum decays more slowly and more of its mass lies in
// the tail: that is the whole mechanism of the paper's exponential sample complexity in m.
#include <cstdint>

#include <torch/torch.h>

namespace modnet::theory {

struct Spectrum {
  double c = 1.16;      // Tr Λ, the target's total variance per output (PAPER.md §2: c ≈ 1.16 [F/D])
  double omega = 1.56;  // Ω, the base of the exponent (PAPER.md §2: Ω ≈ 1.56 [F/D])
  double m = 2;         // intrinsic dimension of the task (for a module: its bottleneck dimension b)

  /// α = Ω^(−m) (PAPER.md §2).
  double alpha() const;
  /// λ_i = c·[i^(−α) − (i+1)^(−α)] for i ≥ 1 (PAPER.md §2), evaluated without cancellation as
  /// c·i^(−α)·(−expm1(−α·log1p(1/i))). modnet::Error for i < 1.
  double eigenvalue(int64_t i) const;
  /// Tr Λ = Σ_{i≥1} λ_i = c (the sum telescopes; PAPER.md §2).
  double trace() const { return c; }
  /// Tr Λ₂(p) = Σ_{i>p} λ_i = c·(p+1)^(−α) (telescoping; PAPER.md §2). For a non-integer p this
  /// is the continuous extension the closed forms use. modnet::Error for p < 0.
  double tail(double p) const;
  /// Tr Λ₁(p) = Σ_{i≤p} λ_i = c − Tr Λ₂(p).
  double head(double p) const { return c - tail(p); }
  /// λ_1 … λ_count as a float64 tensor of shape [count] (count ≥ 0).
  torch::Tensor eigenvalues(int64_t count) const;

  /// The same c and Ω with another m — e.g. a module's spectrum with its bottleneck dimension b
  /// in place of the task's m (PAPER.md §2, last bullet; see predict_modular in losses.h).
  Spectrum with_m(double new_m) const {
    Spectrum s = *this;
    s.m = new_m;
    return s;
  }
  /// modnet::Error naming the field unless c > 0, Ω > 0 and m is finite (α = Ω^(−m) > 0 finite).
  void validate() const;
};

}  // namespace modnet::theory
