#pragma once
// The minimum-norm kernel objective of the paper's learning rule (PAPER.md §4), for all K modules
// at once: J_j(Û_j) = tr(Y_jᵀ (G_j + εI)⁻¹ Y_j) / n, where G_j is a kernel Gram matrix of the
// projected inputs Z_j = X Û_j. Small J means the targets are a smooth function of Û_jᵀx.
#include <torch/torch.h>

#include "modnet/models/projected.h"

namespace modnet::init {

/// Squared pairwise distances within each module: z [K, n, b] → [K, n, n] (≥ 0).
torch::Tensor pairwise_sq_distances(const torch::Tensor& z);

/// Median of the off-diagonal squared distances per module: [K, n, n] → [K].
torch::Tensor median_sq_distance(const torch::Tensor& sqd);

/// RBF Gram matrices exp(−‖z_a − z_b‖² / 2σ²) with σ² = scale² · median squared distance (the
/// median heuristic), or σ = scale when `fixed`. `bandwidth_grad` lets the gradient flow through
/// the median; with it the Gram matrix, and so the objective, does not change when Û is rescaled.
/// `sigma2_out` receives σ² per module when given.
/// One autograd node with a closed-form backward (a few passes over the Gram matrices and one
/// batched GEMM); the diagonal distances are exactly 0.
torch::Tensor rbf_gram(const torch::Tensor& z, double scale, bool fixed, bool bandwidth_grad,
                       torch::Tensor* sigma2_out = nullptr);
/// The same Gram matrices through autograd op by op: the reference rbf_gram is tested against.
torch::Tensor rbf_gram_reference(const torch::Tensor& z, double scale, bool fixed, bool bandwidth_grad,
                                 torch::Tensor* sigma2_out = nullptr);

/// The modules' empirical neural tangent kernels at their current weights, as functions of the
/// projected inputs (the module MLP's parameters, not Û), averaged over output units:
///   Θ(z, z') = (1/d) Σ_o Σ_l (a_{l−1}·a'_{l−1} + 1)(δ^o_l·δ'^o_l)   (closed form for MLPs)
/// where a_l are activations and δ^o_l = ∂f_o/∂h_l. z [K, n, b] → [K, n, n].
torch::Tensor tangent_gram(models::ProjectedModules& model, const torch::Tensor& z);

/// J_j = tr(Y_jᵀ (G_j + ε·mean(diag G_j)·I)⁻¹ Y_j) / n by batched Cholesky (never an explicit
/// inverse). gram [K, n, n], y [K, n, d] → [K]. `jitter` ε is relative to the kernel's diagonal.
/// One autograd node with a closed-form backward (∂J/∂G = −A·Aᵀ/n, A = (G + εI)⁻¹Y): the forward's
/// Cholesky factor is the only factorisation.
torch::Tensor min_norm_objective(const torch::Tensor& gram, const torch::Tensor& y, double jitter);
/// The same objective through autograd op by op (linalg_cholesky, cholesky_solve): the reference
/// min_norm_objective is tested against.
torch::Tensor min_norm_objective_reference(const torch::Tensor& gram, const torch::Tensor& y, double jitter);

}  // namespace modnet::init
