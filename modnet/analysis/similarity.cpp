// Module alignment metrics (PAPER.md §5): subspace overlaps, similarity score, ridge coverage and
// their chance levels, and per-slot energy shares. Everything is batched over modules (and over
// Monte Carlo samples); the only C++ loops run over the k true modules or the S slots.
#include "modnet/analysis/similarity.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace modnet::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Monte Carlo draws are generated in chunks of at most this many float64 elements (128 MiB), so
// that large inputs (image tasks: D in the tens of thousands) do not exhaust memory. Small cases
// (the sine task) are a single [samples*K, D, b] draw.
constexpr int64_t kDrawBudget = int64_t{1} << 24;

torch::Tensor cpu_double(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat64); }

// learned as [K, D, b] (a [D, b] matrix is one module), orthonormalised.
torch::Tensor learned_bases(const torch::Tensor& learned, const char* where) {
  TORCH_CHECK(learned.defined(), where, ": learned projections are undefined");
  TORCH_CHECK(learned.dim() == 2 || learned.dim() == 3, where,
              ": learned projections must be [K, D, b] (or [D, b]), got shape ", learned.sizes());
  const auto u = learned.dim() == 2 ? learned.unsqueeze(0) : learned;
  TORCH_CHECK(u.size(0) >= 1, where, ": need at least one learned module, got shape ", learned.sizes());
  return orthonormal_basis(u);
}

// The true modules, orthonormalised and concatenated column-wise, so that every overlap is one
// batched matmul followed by a segment sum.
struct PreparedTruth {
  torch::Tensor bases;    // [D, M] float64, M = Σ m_i
  torch::Tensor segment;  // [M] int64: the true module of each column
  std::vector<int64_t> dims;
  int64_t D = 0;
};

PreparedTruth prepare_truth(const std::vector<torch::Tensor>& truth, const char* where) {
  TORCH_CHECK(!truth.empty(), where, ": need at least one true projection, got none");
  PreparedTruth p;
  std::vector<torch::Tensor> bases, segments;
  for (size_t i = 0; i < truth.size(); ++i) {
    const auto& t = truth[i];
    TORCH_CHECK(t.defined() && t.dim() == 2, where, ": true projection ", i, " must be a [D, m] matrix, got ",
                t.defined() ? t.sizes() : torch::IntArrayRef{});
    if (i == 0) p.D = t.size(0);
    TORCH_CHECK(t.size(0) == p.D, where, ": true projection ", i, " has D = ", t.size(0),
                ", expected ", p.D, " like true projection 0");
    bases.push_back(orthonormal_basis(t));
    p.dims.push_back(t.size(1));
    segments.push_back(torch::full({t.size(1)}, static_cast<int64_t>(i), torch::kLong));
  }
  p.bases = torch::cat(bases, 1);
  p.segment = torch::cat(segments);
  return p;
}

// [N, k] overlaps of orthonormal bases q [N, D, b] with prepared truth:
// ‖Q̂ᵀQ_i‖²_F = Σ over the columns c of Q_i of ‖Q̂ᵀ q_c‖², then / min(b, m_i).
torch::Tensor overlaps_of_bases(const torch::Tensor& q, const PreparedTruth& truth, const char* where) {
  TORCH_CHECK(q.size(1) == truth.D, where, ": learned projections have D = ", q.size(1),
              ", the true ones D = ", truth.D);
  const int64_t b = q.size(2);
  const auto col = torch::matmul(q.transpose(1, 2), truth.bases).pow(2).sum(1);  // [N, M]
  auto sums = torch::zeros({q.size(0), static_cast<int64_t>(truth.dims.size())}, col.options());
  sums.index_add_(1, truth.segment, col);
  std::vector<double> denom;
  for (const int64_t m : truth.dims) denom.push_back(static_cast<double>(std::min(b, m)));
  return sums / torch::tensor(denom, torch::kFloat64);
}

torch::Tensor prepare_directions(const torch::Tensor& directions, const char* where) {
  TORCH_CHECK(directions.defined() && directions.dim() == 2 && directions.size(1) >= 1, where,
              ": ridge directions must be a [D, R] matrix with R >= 1, got ",
              directions.defined() ? directions.sizes() : torch::IntArrayRef{});
  const auto w = cpu_double(directions);
  TORCH_CHECK(torch::isfinite(w).all().item<bool>(), where, ": ridge directions contain NaN or inf");
  const auto norms = w.norm(2, 0, /*keepdim=*/true);
  TORCH_CHECK(norms.min().item<double>() > 0, where, ": ridge directions must be non-zero columns");
  return w / norms;
}

// [N, R] energies ‖Q̂_jᵀ w_r‖² of unit directions w [D, R] in orthonormal bases q [N, D, b].
torch::Tensor direction_energy(const torch::Tensor& q, const torch::Tensor& w, const char* where) {
  TORCH_CHECK(q.size(1) == w.size(0), where, ": learned projections have D = ", q.size(1),
              ", the ridge directions D = ", w.size(0));
  return torch::matmul(q.transpose(1, 2), w).pow(2).sum(1);
}

void check_chance_args(int64_t D, int64_t K, int64_t b, int64_t samples, const char* where) {
  TORCH_CHECK(K >= 1, where, ": K (learned modules) must be >= 1, got ", K);
  TORCH_CHECK(b >= 1 && b <= D, where, ": b must be in [1, D = ", D, "], got ", b);
  TORCH_CHECK(samples >= 1, where, ": samples must be >= 1, got ", samples);
}

// Calls fn(q) on orthonormal bases q [n*K, D, b] of Haar-random subspaces (the span of a Gaussian
// matrix is uniformly distributed on the Grassmannian), n summing to `samples` over the calls.
template <class Fn>
void for_random_bases(int64_t D, int64_t K, int64_t b, int64_t samples, uint64_t seed, Fn&& fn) {
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t per_sample = K * D * b;
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(samples, kDrawBudget / per_sample));
  for (int64_t done = 0; done < samples; done += chunk) {
    const int64_t n = std::min(chunk, samples - done);
    const auto g = torch::randn({n * K, D, b}, gen, torch::TensorOptions().dtype(torch::kFloat64));
    fn(orthonormal_basis(g), n);
  }
}

}  // namespace

torch::Tensor orthonormal_basis(const torch::Tensor& u) {
  TORCH_CHECK(u.defined(), "orthonormal_basis: input is undefined");
  TORCH_CHECK(u.dim() == 2 || u.dim() == 3, "orthonormal_basis: expected [D, b] or [K, D, b], got shape ",
              u.sizes());
  const int64_t D = u.size(-2), b = u.size(-1);
  TORCH_CHECK(b >= 1 && b <= D, "orthonormal_basis: need 1 <= b <= D for a b-dimensional span, got D = ", D,
              ", b = ", b);
  const auto x = cpu_double(u);
  TORCH_CHECK(torch::isfinite(x).all().item<bool>(), "orthonormal_basis: input contains NaN or inf");
  // Reduced QR: Q [.., D, b] has orthonormal columns spanning the columns of u (when u has full
  // column rank; otherwise Q still has orthonormal columns and contains the span).
  return std::get<0>(torch::linalg_qr(x, "reduced"));
}

torch::Tensor subspace_overlaps(const torch::Tensor& learned, const std::vector<torch::Tensor>& truth) {
  const auto truth_p = prepare_truth(truth, "subspace_overlaps");
  return overlaps_of_bases(learned_bases(learned, "subspace_overlaps"), truth_p, "subspace_overlaps");
}

double similarity_score(const torch::Tensor& learned, const std::vector<torch::Tensor>& truth) {
  return std::get<0>(subspace_overlaps(learned, truth).max(1)).mean().item<double>();
}

double expected_random_overlap(int64_t D, int64_t b, int64_t m) {
  TORCH_CHECK(D >= 1 && b >= 1 && b <= D && m >= 1 && m <= D,
              "expected_random_overlap: need 1 <= b, m <= D, got D = ", D, ", b = ", b, ", m = ", m);
  // E‖Q̂ᵀQ‖²_F = b·m/D (see header), normalised like subspace_overlaps.
  return static_cast<double>(b) * static_cast<double>(m) / (static_cast<double>(D) * std::min(b, m));
}

double chance_similarity(const std::vector<torch::Tensor>& truth, int64_t K, int64_t b, int64_t samples,
                         uint64_t seed) {
  const auto truth_p = prepare_truth(truth, "chance_similarity");
  check_chance_args(truth_p.D, K, b, samples, "chance_similarity");
  double total = 0.0;  // Σ over draws and modules of max_i overlap
  for_random_bases(truth_p.D, K, b, samples, seed, [&](const torch::Tensor& q, int64_t) {
    const auto ov = overlaps_of_bases(q, truth_p, "chance_similarity");
    total += std::get<0>(ov.max(1)).sum().item<double>();
  });
  // Mean over draws of (mean over the K modules of the draw) = mean over all samples*K modules.
  return total / static_cast<double>(samples * K);
}

double ridge_coverage(const torch::Tensor& learned, const torch::Tensor& directions) {
  const auto w = prepare_directions(directions, "ridge_coverage");
  const auto e = direction_energy(learned_bases(learned, "ridge_coverage"), w, "ridge_coverage");  // [K, R]
  return std::get<0>(e.max(0)).mean().item<double>();
}

double expected_random_coverage(const torch::Tensor& directions, int64_t K, int64_t b, int64_t samples,
                                uint64_t seed) {
  const auto w = prepare_directions(directions, "expected_random_coverage");
  const int64_t D = w.size(0);
  check_chance_args(D, K, b, samples, "expected_random_coverage");
  double total = 0.0;  // Σ over draws of (mean over r of max over the draw's K modules)
  for_random_bases(D, K, b, samples, seed, [&](const torch::Tensor& q, int64_t n) {
    const auto e = direction_energy(q, w, "expected_random_coverage").view({n, K, w.size(1)});
    total += std::get<0>(e.max(1)).mean(1).sum().item<double>();
  });
  return total / static_cast<double>(samples);
}

SimilarityTracker::SimilarityTracker(std::vector<torch::Tensor> truth, torch::Tensor directions, int64_t K,
                                     int64_t b, int64_t samples, uint64_t seed)
    : K_(K), b_(b), D_(-1), chance_(kNaN), ridge_chance_(kNaN) {
  TORCH_CHECK(K >= 1 && b >= 1, "SimilarityTracker: K and b must be >= 1, got K = ", K, ", b = ", b);
  if (!truth.empty()) {
    const auto p = prepare_truth(truth, "SimilarityTracker");
    D_ = p.D;
    chance_ = chance_similarity(truth, K, b, samples, seed);
    for (const auto& t : truth) truth_.push_back(orthonormal_basis(t));
  }
  if (directions.defined()) {
    directions_ = prepare_directions(directions, "SimilarityTracker");
    TORCH_CHECK(D_ < 0 || directions_.size(0) == D_, "SimilarityTracker: ridge directions have D = ",
                directions_.size(0), ", the true projections D = ", D_);
    D_ = directions_.size(0);
    // Seed + 1: a different stream from the similarity chance (documented in the header).
    ridge_chance_ = expected_random_coverage(directions_, K, b, samples, seed + 1);
  }
}

SimilarityReport SimilarityTracker::measure(const torch::Tensor& learned) const {
  TORCH_CHECK(learned.defined() && learned.dim() == 3 && learned.size(0) == K_ && learned.size(2) == b_ &&
                  (D_ < 0 || learned.size(1) == D_),
              "SimilarityTracker::measure: expected learned projections [K = ", K_, ", D = ", D_, ", b = ", b_,
              "], got ", learned.defined() ? learned.sizes() : torch::IntArrayRef{});
  SimilarityReport r;
  r.chance = chance_;
  r.ridge_chance = ridge_chance_;
  const bool need_score = !truth_.empty(), need_ridge = directions_.defined();
  if (!need_score && !need_ridge) {
    r.score = r.ridge_coverage = kNaN;
    return r;
  }
  const auto q = learned_bases(learned, "SimilarityTracker::measure");
  if (need_score) {
    const auto p = prepare_truth(truth_, "SimilarityTracker::measure");
    r.score = std::get<0>(overlaps_of_bases(q, p, "SimilarityTracker::measure").max(1)).mean().item<double>();
  } else {
    r.score = kNaN;
  }
  r.ridge_coverage = need_ridge ? std::get<0>(direction_energy(q, directions_, "SimilarityTracker::measure").max(0))
                                      .mean()
                                      .item<double>()
                                : kNaN;
  return r;
}

torch::Tensor module_slot_energy(const torch::Tensor& learned,
                                 const std::vector<std::pair<int64_t, int64_t>>& slot_ranges) {
  TORCH_CHECK(learned.defined() && learned.dim() == 3, "module_slot_energy: learned must be [K, D, b], got ",
              learned.defined() ? learned.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(!slot_ranges.empty(), "module_slot_energy: need at least one slot range");
  const auto u = cpu_double(learned);
  TORCH_CHECK(torch::isfinite(u).all().item<bool>(), "module_slot_energy: learned contains NaN or inf");
  const int64_t D = u.size(1);
  auto ranges = slot_ranges;
  std::sort(ranges.begin(), ranges.end());
  for (size_t s = 0; s < ranges.size(); ++s) {
    TORCH_CHECK(ranges[s].first >= 0 && ranges[s].first < ranges[s].second && ranges[s].second <= D,
                "module_slot_energy: slot range [", ranges[s].first, ", ", ranges[s].second,
                ") must be non-empty and inside [0, D = ", D, ")");
    TORCH_CHECK(s == 0 || ranges[s - 1].second <= ranges[s].first, "module_slot_energy: slot ranges [",
                ranges[s - 1].first, ", ", ranges[s - 1].second, ") and [", ranges[s].first, ", ",
                ranges[s].second, ") overlap");
  }
  const auto rows = u.pow(2).sum(2);                              // [K, D]: energy of each input coordinate
  const auto total = rows.sum(1, /*keepdim=*/true).clamp_min(std::numeric_limits<double>::min());  // [K, 1]
  std::vector<torch::Tensor> per_slot;
  for (const auto& [begin, end] : slot_ranges) per_slot.push_back(rows.narrow(1, begin, end - begin).sum(1));
  return torch::stack(per_slot, 1) / total;  // [K, S], in the caller's slot order
}

torch::Tensor module_slot_energy(const torch::Tensor& learned, const torch::Tensor& slot_of_input) {
  TORCH_CHECK(learned.defined() && learned.dim() == 3, "module_slot_energy: learned must be [K, D, b], got ",
              learned.defined() ? learned.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(slot_of_input.defined() && slot_of_input.dim() == 1 && slot_of_input.size(0) == learned.size(1),
              "module_slot_energy: slot_of_input must be [D = ", learned.size(1), "], got ",
              slot_of_input.defined() ? slot_of_input.sizes() : torch::IntArrayRef{});
  const auto slots = slot_of_input.to(torch::kLong).cpu();
  TORCH_CHECK(slots.ge(-1).all().item<bool>() && slots.max().item<int64_t>() >= 0,
              "module_slot_energy: slot ids must be >= -1 with at least one slot");
  const auto u = cpu_double(learned);
  TORCH_CHECK(torch::isfinite(u).all().item<bool>(), "module_slot_energy: learned contains NaN or inf");
  const int64_t S = slots.max().item<int64_t>() + 1;
  const auto rows = u.pow(2).sum(2);  // [K, D]
  const auto total = rows.sum(1, /*keepdim=*/true).clamp_min(std::numeric_limits<double>::min());
  const auto keep = slots.ge(0).nonzero().view({-1});
  auto per_slot = torch::zeros({u.size(0), S}, rows.options());
  per_slot.index_add_(1, slots.index_select(0, keep), rows.index_select(1, keep));
  return per_slot / total;
}

double mean_max_slot_share(const torch::Tensor& energy) {
  TORCH_CHECK(energy.defined() && energy.dim() == 2 && energy.size(0) >= 1 && energy.size(1) >= 1,
              "mean_max_slot_share: expected slot shares [K, S] with K, S >= 1, got ",
              energy.defined() ? energy.sizes() : torch::IntArrayRef{});
  return std::get<0>(cpu_double(energy).max(1)).mean().item<double>();
}

}  // namespace modnet::analysis
