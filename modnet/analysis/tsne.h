#pragma once
// Exact t-SNE (van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 2008) for small point
// sets (n up to ~2000: it holds a few n×n float64 matrices), used to draw learned and true module
// projections side by side as in the authors' t-SNE figure (PAPER.md §5). Also the features that
// make subspaces comparable by t-SNE, and a CSV writer for the embedding.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace modnet::analysis {

struct TsneOptions {
  double perplexity = 10.0;  // effective number of neighbours; clamped to (n-1)/3 for small n
  int64_t iterations = 1000;
  double learning_rate = 200.0;
  double early_exaggeration = 12.0;        // P is multiplied by this for the first iterations
  int64_t exaggeration_iterations = 250;   // ... this many of them (also the momentum switch)
  double momentum = 0.5, final_momentum = 0.8;
  uint64_t seed = 0;  // initial Y ~ N(0, 1e-4·I) from a CPU generator seeded with this
};

/// Embeds points [n, f] (any float dtype/device) in 2-D -> [n, 2] float64 (CPU). Deterministic
/// for a seed. n = 1 gives the origin.
torch::Tensor tsne(const torch::Tensor& points, const TsneOptions& options = {});

/// The input affinities of t-SNE: conditional probabilities p_{j|i} [n, n] float64 of points
/// [n, f] (rows sum to 1, zero diagonal), each row's Gaussian bandwidth set so that its entropy
/// is log(perplexity) (to 1e-5 nats; perplexity as given, not clamped). n >= 2.
torch::Tensor tsne_conditional_p(const torch::Tensor& points, double perplexity);

/// Basis-independent features of subspaces: bases [n, D, b] (orthonormalised inside) ->
/// [n, D*D] float64, row i the flattened projector P_i = Q_i Q_iᵀ. Euclidean distances between
/// rows are chordal distances between the subspaces: ‖P_1 − P_2‖²_F = b_1 + b_2 − 2‖Q_1ᵀQ_2‖²_F.
/// Meant for small D (D*D features per subspace).
torch::Tensor projector_features(const torch::Tensor& bases);
/// Same for a list of [D, m_i] matrices (the m_i may differ; D must agree).
torch::Tensor projector_features(const std::vector<torch::Tensor>& bases);

/// Writes coords [n, 2] with one label per row as CSV (header x,y,label), atomically. Labels that
/// contain a comma, quote or newline are quoted (RFC 4180).
void write_tsne_csv(const std::string& path, const torch::Tensor& coords, const std::vector<std::string>& labels);

}  // namespace modnet::analysis
