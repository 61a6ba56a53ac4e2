// Exact solvers of the kernel-coupled least-squares system.
#pragma once

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>

#include "coupled_system.hpp"
#include "solver_result.hpp"

namespace multitask {

/// Dense Cholesky of the (dT, dT) system
///     H = blockdiag(A_t) + alpha K (x) I_d,   H vec(W) = vec(C),
/// with vec(W) stacking the task columns w_1, ..., w_T. O((dT)^3 / 3) flops.
template <typename Scalar>
Matrix<Scalar> solve_dense_cholesky(const CoupledSystem<Scalar>& system) {
  const Index d = system.n_features(), T = system.n_tasks(), n = d * T;
  require(n <= 40000, "solver='exact' on per-task data forms a dense (d*T, d*T) system; d*T = " +
                          std::to_string(n) + " is too large: use solver='cg'");
  Matrix<Scalar> H = Matrix<Scalar>::Zero(n, n);
  const Matrix<Scalar>& K = system.coupling();
  for (Index t = 0; t < T; ++t) {
    const TaskStatistics<Scalar>& s = system.stats(t);
    H.block(t * d, t * d, d, d) = s.weight * *s.gram;
    for (Index u = 0; u < T; ++u) H.block(t * d, u * d, d, d).diagonal().array() += system.alpha() * K(t, u);
  }
  Eigen::LLT<Eigen::Ref<Matrix<Scalar>>> cholesky(H);  // factorises H in place
  if (cholesky.info() != Eigen::Success)
    throw NumericalError("the kernel-coupled system is not positive definite (increase alpha, or use a "
                         "positive definite coupling)");
  Vector<Scalar> rhs = Eigen::Map<const Vector<Scalar>>(system.rhs().data(), n);
  Vector<Scalar> solution = cholesky.solve(rhs);
  return Eigen::Map<Matrix<Scalar>>(solution.data(), d, T);
}

/// Solves (diag(main) + shift I + offdiag sub/super) z = r in place for a
/// symmetric tridiagonal matrix, by LDL^T without pivoting (stable for a
/// positive definite matrix; a non-positive pivot means it is not one).
template <typename Scalar, typename Column>
void solve_shifted_tridiagonal(const Vector<Scalar>& main, const Vector<Scalar>& off, Scalar shift, Scalar floor,
                               Column&& z, Vector<Scalar>& pivots) {
  const Index n = main.size();
  pivots[0] = main[0] + shift;
  for (Index j = 1; j < n; ++j) {
    if (!(pivots[j - 1] > floor)) break;
    const Scalar multiplier = off[j - 1] / pivots[j - 1];
    pivots[j] = main[j] + shift - multiplier * off[j - 1];
    z[j] -= multiplier * z[j - 1];
  }
  for (Index j = 0; j < n; ++j)
    if (!(pivots[j] > floor))
      throw NumericalError("the kernel-coupled system is singular or indefinite (increase alpha, or use a positive "
                           "definite coupling)");
  z[n - 1] /= pivots[n - 1];
  for (Index j = n - 2; j >= 0; --j) z[j] = z[j] / pivots[j] - (off[j] / pivots[j]) * z[j + 1];
}

/// Shared design (A_t = s_t G): the Sylvester equation G W S + alpha W K = C,
/// S = diag(s_t). With V = W S^{1/2} it reads
///     G V + alpha V K' = C S^{-1/2},   K' = S^{-1/2} K S^{-1/2}.
/// Write K' = U diag(kappa) U^T (eigendecomposition, T x T) and reduce G to
/// tridiagonal form G = P R P^T (Householder, no eigenvectors needed). Then
/// Z = P^T V U solves, column by column, the tridiagonal systems
///     (R + alpha kappa_k I) z_k = (P^T C S^{-1/2} U)_k,
/// and W = P Z U^T S^{-1/2}. Cost after the Gram: (4/3) d^3 + O(T^3 + d^2 T + d T^2),
/// about a quarter of an eigendecomposition of G.
template <typename Scalar>
Matrix<Scalar> solve_sylvester(const CoupledSystem<Scalar>& system) {
  const Index T = system.n_tasks(), d = system.n_features();
  const Matrix<Scalar>& G = *system.stats(0).gram;
  Vector<Scalar> inv_sqrt_weight(T);
  for (Index t = 0; t < T; ++t) inv_sqrt_weight[t] = Scalar(1) / std::sqrt(system.stats(t).weight);

  const Matrix<Scalar> K_scaled =
      inv_sqrt_weight.asDiagonal() * system.coupling() * inv_sqrt_weight.asDiagonal();
  Eigen::SelfAdjointEigenSolver<Matrix<Scalar>> coupling_eigen(K_scaled);
  if (coupling_eigen.info() != Eigen::Success) throw NumericalError("eigendecomposition of the coupling failed");
  const Matrix<Scalar>& U = coupling_eigen.eigenvectors();
  const Vector<Scalar> alpha_kappa = system.alpha() * coupling_eigen.eigenvalues();
  const Eigen::Tridiagonalization<Matrix<Scalar>> tridiagonal(G);
  const Vector<Scalar> main = tridiagonal.diagonal();
  const Vector<Scalar> off = tridiagonal.subDiagonal();

  Matrix<Scalar> Z = tridiagonal.matrixQ().transpose() * (system.rhs() * inv_sqrt_weight.asDiagonal() * U);
  const Scalar scale = G.diagonal().cwiseAbs().maxCoeff() + alpha_kappa.cwiseAbs().maxCoeff();
  const Scalar floor = scale * std::numeric_limits<Scalar>::epsilon() * Scalar(d + T);
  Vector<Scalar> pivots(d);
  for (Index k = 0; k < T; ++k) solve_shifted_tridiagonal(main, off, alpha_kappa[k], floor, Z.col(k), pivots);
  return tridiagonal.matrixQ() * (Z * U.transpose()) * inv_sqrt_weight.asDiagonal();
}

}  // namespace multitask
