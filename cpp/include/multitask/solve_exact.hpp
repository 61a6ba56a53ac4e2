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

/// Shared design (A_t = s_t G): the Sylvester equation G W S + alpha W K = C,
/// S = diag(s_t), solved in eigenbases. With V = W S^{1/2} it reads
///     G V + alpha V K' = C S^{-1/2},   K' = S^{-1/2} K S^{-1/2}.
/// Writing G = Q diag(lambda) Q^T and K' = U diag(kappa) U^T, the matrix
/// Z = Q^T V U solves lambda_j Z_jk + alpha kappa_k Z_jk = (Q^T C S^{-1/2} U)_jk,
/// so W = Q Z U^T S^{-1/2}. Cost: O(d^3 + T^3 + d^2 T + d T^2) after the Gram.
template <typename Scalar>
Matrix<Scalar> solve_sylvester(const CoupledSystem<Scalar>& system) {
  const Index T = system.n_tasks();
  const Matrix<Scalar>& G = *system.stats(0).gram;
  Vector<Scalar> inv_sqrt_weight(T);
  for (Index t = 0; t < T; ++t) inv_sqrt_weight[t] = Scalar(1) / std::sqrt(system.stats(t).weight);

  const Matrix<Scalar> K_scaled =
      inv_sqrt_weight.asDiagonal() * system.coupling() * inv_sqrt_weight.asDiagonal();
  Eigen::SelfAdjointEigenSolver<Matrix<Scalar>> gram_eigen(G);
  Eigen::SelfAdjointEigenSolver<Matrix<Scalar>> coupling_eigen(K_scaled);
  if (gram_eigen.info() != Eigen::Success || coupling_eigen.info() != Eigen::Success)
    throw NumericalError("eigendecomposition failed in the Sylvester solver");
  const Matrix<Scalar>& Q = gram_eigen.eigenvectors();
  const Matrix<Scalar>& U = coupling_eigen.eigenvectors();
  const Vector<Scalar>& lambda = gram_eigen.eigenvalues();
  const Vector<Scalar> alpha_kappa = system.alpha() * coupling_eigen.eigenvalues();

  Matrix<Scalar> Z = Q.transpose() * (system.rhs() * inv_sqrt_weight.asDiagonal()) * U;  // (d, T)
  const Scalar scale = lambda.cwiseAbs().maxCoeff() + alpha_kappa.cwiseAbs().maxCoeff();
  const Scalar floor = scale * std::numeric_limits<Scalar>::epsilon() * Scalar(Z.rows() + Z.cols());
  for (Index k = 0; k < Z.cols(); ++k)
    for (Index j = 0; j < Z.rows(); ++j) {
      const Scalar denominator = lambda[j] + alpha_kappa[k];
      if (!(denominator > floor))
        throw NumericalError("the kernel-coupled system is singular (increase alpha, or use a positive "
                             "definite coupling)");
      Z(j, k) /= denominator;
    }
  return Q * Z * U.transpose() * inv_sqrt_weight.asDiagonal();
}

}  // namespace multitask
