#pragma once
// Alignment between learned module projections Û_j and the task's true ones U_i (PAPER.md §5):
// the subspace similarity score beside its chance level, ridge coverage beside its chance level,
// and, for image tasks, the share of each module's projected energy that falls on each slot.
//
// All results are computed in float64 on the CPU; inputs may be any float dtype, any device, and
// may require grad (they are detached). Learned projections need not be orthonormal nor of any
// particular scale: only their column spans matter (except in module_slot_energy, see there).
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace modnet::analysis {

/// Orthonormal basis of the column span of u: [D, b] or batched [K, D, b] -> same shape, float64,
/// by reduced QR (torch::linalg_qr). Needs b <= D.
torch::Tensor orthonormal_basis(const torch::Tensor& u);

/// Subspace overlaps between K learned projections (learned [K, D, b], or [D, b] as K = 1) and k
/// true ones (truth: k tensors [D, m_i]) -> [K, k] float64 with
///   overlap(j, i) = ‖Q̂_jᵀ Q_i‖²_F / min(b, m_i)  ∈ [0, 1].
/// Q̂_j, Q_i are orthonormal bases of the spans. The paper's definition (PAPER.md §5) divides by
/// b, which agrees when b <= m_i; dividing by min(b, m_i) instead keeps the score a fraction when
/// b > m_i too, so the true projection itself (or any span containing it) scores 1 whatever b is.
torch::Tensor subspace_overlaps(const torch::Tensor& learned, const std::vector<torch::Tensor>& truth);

/// Similarity score (PAPER.md §5): mean over learned modules j of max_i overlap(j, i).
double similarity_score(const torch::Tensor& learned, const std::vector<torch::Tensor>& truth);

/// E[overlap] of one Haar-random b-dim subspace of R^D with a fixed m-dim one, in closed form:
/// E[Q̂Q̂ᵀ] = (b/D)·I, so E‖Q̂ᵀQ‖²_F = tr(Qᵀ E[Q̂Q̂ᵀ] Q) = b·m/D, divided by min(b, m).
double expected_random_overlap(int64_t D, int64_t b, int64_t m);

/// Chance level of similarity_score: Monte Carlo mean of the score of K Haar-random [D, b]
/// projections (orthonormal bases of Gaussian matrices, from a CPU generator seeded with `seed`)
/// over `samples` independent draws. The max over true modules puts it above
/// expected_random_overlap. (Its expectation does not depend on K; K only sets how many modules
/// are averaged per draw.)
double chance_similarity(const std::vector<torch::Tensor>& truth, int64_t K, int64_t b, int64_t samples,
                         uint64_t seed);

/// Ridge coverage (PAPER.md §5 caveat): directions [D, R] are the task's true ridge directions
/// (normalised here); = mean over r of max_j ‖Q̂_jᵀ w_r‖² ∈ [0, 1], i.e. 1 when every true ridge
/// direction lies in some learned module's span. A single random module scores b/D on average.
double ridge_coverage(const torch::Tensor& learned, const torch::Tensor& directions);

/// Chance level of ridge_coverage for K Haar-random [D, b] projections, by Monte Carlo over
/// `samples` draws (same generator scheme as chance_similarity). Unlike the similarity chance,
/// this one grows with K (the max runs over the learned modules).
double expected_random_coverage(const torch::Tensor& directions, int64_t K, int64_t b, int64_t samples,
                                uint64_t seed);

struct SimilarityReport {
  double score = 0.0;           // similarity_score of the learned projections
  double chance = 0.0;          // chance_similarity for the same K, b
  double ridge_coverage = 0.0;  // NaN when the task has no ridge directions
  double ridge_chance = 0.0;    // NaN when the task has no ridge directions
};

/// Measures learned projections against a task's truth during training; the chance levels,
/// which depend only on the truth, K and b, are computed once in the constructor.
/// An empty `truth` is allowed (score and chance are then NaN), as is an undefined `directions`
/// (ridge_coverage and ridge_chance are then NaN). The chance levels are
/// chance_similarity(truth, K, b, samples, seed) and
/// expected_random_coverage(directions, K, b, samples, seed + 1).
class SimilarityTracker {
 public:
  SimilarityTracker(std::vector<torch::Tensor> truth, torch::Tensor directions, int64_t K, int64_t b,
                    int64_t samples = 256, uint64_t seed = 0);
  /// learned: [K, D, b] with the K, b given at construction.
  SimilarityReport measure(const torch::Tensor& learned) const;

  double chance() const { return chance_; }
  double ridge_chance() const { return ridge_chance_; }

 private:
  std::vector<torch::Tensor> truth_;  // orthonormal bases, float64 CPU
  torch::Tensor directions_;          // unit columns, float64 CPU, or undefined
  int64_t K_, b_, D_;
  double chance_, ridge_chance_;
};

/// Share of each learned module's energy per input slot (image tasks, PAPER.md §4 open question):
/// learned [K, D, b]; slot s covers input coordinates [begin, end) (disjoint ranges inside [0, D))
/// -> [K, S] float64 with share(j, s) = ‖Û_j[begin_s:end_s, :]‖²_F / ‖Û_j‖²_F. For white inputs this
/// is the share of E‖Û_jᵀx‖² that comes from slot s. Rows sum to 1 when the slots cover every
/// input coordinate (less otherwise); an all-zero module has all shares 0. Uses Û_j as it is (the
/// raw weights, not an orthonormal basis), since the energy depends on its scale per row.
torch::Tensor module_slot_energy(const torch::Tensor& learned,
                                 const std::vector<std::pair<int64_t, int64_t>>& slot_ranges);

/// The same for slots that are not contiguous ranges: `slot_of_input` int64 [D] gives the slot of
/// every input coordinate (-1 for none), as data::Task::input_slots() -> [K, S], S = max slot + 1.
torch::Tensor module_slot_energy(const torch::Tensor& learned, const torch::Tensor& slot_of_input);

/// Mean over modules j of max_s share(j, s): 1 when every module sees a single slot, 1/S when
/// every module spreads its energy evenly.
double mean_max_slot_share(const torch::Tensor& energy);

}  // namespace modnet::analysis
