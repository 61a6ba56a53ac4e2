// Exact solver of the multi-task kernel ridge system for a shared design, in
// O(n^3 + T^3 + n^2 T) instead of O((nT)^3).
#pragma once

#include <Eigen/Eigenvalues>

#include "solve_exact.hpp"

namespace multitask {

/// Solves (B (x) K_x + R (x) I_n) vec(C) = vec(Y) for C, Y (n, T), with K_x (n, n)
/// and B (T, T) symmetric positive semidefinite and R = diag(r), r > 0 (the
/// ridge alpha N / omega_t of each task). In matrix form: K_x C B + C R = Y.
///
/// With B' = R^{-1/2} B R^{-1/2} = V diag(beta) V^T (eigendecomposition, T x T) and
/// K_x = P Tr P^T (Householder reduction to tridiagonal form, no eigenvectors),
/// the unknown Z = P^T C R^{1/2} V solves, column by column, the tridiagonal systems
///     (beta_k Tr + I) z_k = (P^T Y R^{-1/2} V)_k,
/// and C = P Z V^T R^{-1/2}. Set-up: (4/3) n^3 + O(T^3) and the LDL^T pivots of
/// the T tridiagonals (O(nT)); each solve is four matrix products, O(n^2 T + n T^2).
///
/// Intercepts (the bordered system with E = I_T (x) 1_n, E^T c = 0) by the Schur
/// complement S = E^T A^{-1} E, b = S^{-1} E^T A^{-1} y, c = A^{-1}(y - E b). Here
/// A^{-1} E is rank-one per task in the transformed basis: with a = P^T 1_n and
/// h_k = a^T (beta_k Tr + I)^{-1} a,
///     S = R^{-1/2} V diag(h) V^T R^{-1/2},
/// so the intercepts cost O(nT + T^3) beyond one more solve.
template <typename Scalar>
class KroneckerDualSolver {
 public:
  KroneckerDualSolver(const Matrix<Scalar>& gram_lower, const Matrix<Scalar>& B, const Vector<Scalar>& ridge)
      : inv_sqrt_ridge_(ridge.template cast<Work>().cwiseSqrt().cwiseInverse()) {
    const Index n = gram_lower.rows(), T = B.rows();
    const Matrix<Work> B_scaled =
        inv_sqrt_ridge_.asDiagonal() * B.template cast<Work>() * inv_sqrt_ridge_.asDiagonal();
    Eigen::SelfAdjointEigenSolver<Matrix<Work>> task_eigen(B_scaled);
    if (task_eigen.info() != Eigen::Success) throw NumericalError("eigendecomposition of the task kernel failed");
    V_ = task_eigen.eigenvectors();
    // B is PSD: eigenvalues below zero are round-off.
    const Vector<Work> beta = task_eigen.eigenvalues().cwiseMax(Work(0));
    Matrix<Work> gram = gram_lower.template cast<Work>();
    gram.template triangularView<Eigen::StrictlyUpper>() = gram.transpose();
    const Eigen::Tridiagonalization<Matrix<Work>> tridiagonal(gram);
    P_ = tridiagonal.matrixQ();
    const Vector<Work> main = tridiagonal.diagonal();
    const Vector<Work> off = tridiagonal.subDiagonal();
    // LDL^T of every beta_k Tr + I, as beta_k-scaled off-diagonals and inverse pivots.
    scaled_off_.resize(std::max<Index>(n - 1, 0), T);
    inverse_pivots_.resize(n, T);
    Vector<Work> pivots(n), main_k(n), off_k(std::max<Index>(n - 1, 0));
    for (Index k = 0; k < T; ++k) {
      main_k = beta[k] * main;
      off_k = beta[k] * off;
      if (!tridiagonal_pivots(main_k, off_k, Work(1), pivots))
        throw NumericalError("the multi-task kernel system is not positive definite: the input kernel matrix is "
                             "not positive semidefinite");
      scaled_off_.col(k) = off_k;
      inverse_pivots_.col(k) = pivots.cwiseInverse();
    }
    // h_k = a^T (beta_k Tr + I)^{-1} a with a = P^T 1.
    const Vector<Work> a = P_.transpose() * Vector<Work>::Ones(n);
    Matrix<Work> Z = a.replicate(1, T);
    tridiagonal_solves(Z);
    h_ = (Z.transpose() * a);
  }

  /// C (n, T) = A^{-1} Y for Y (n, T).
  Matrix<Scalar> solve(const Matrix<Scalar>& Y) const {
    Matrix<Work> Z = P_.transpose() * (Y.template cast<Work>() * inv_sqrt_ridge_.asDiagonal() * V_);
    tridiagonal_solves(Z);
    return (P_ * (Z * V_.transpose()) * inv_sqrt_ridge_.asDiagonal()).template cast<Scalar>();
  }

  /// The bordered system: C (n, T) with zero column sums and b (T) such that
  /// A vec(C) + vec(1 b^T) = vec(Y).
  Matrix<Scalar> solve_with_intercepts(const Matrix<Scalar>& Y, Vector<Scalar>& intercept) const {
    const Matrix<Work> S = inv_sqrt_ridge_.asDiagonal() * V_ * h_.asDiagonal() * V_.transpose() *
                           inv_sqrt_ridge_.asDiagonal();
    const Vector<Work> g = solve(Y).template cast<Work>().colwise().sum().transpose();
    const Eigen::LLT<Matrix<Work>> schur(S);
    if (schur.info() != Eigen::Success) throw NumericalError("the intercept system is not positive definite");
    intercept = schur.solve(g).template cast<Scalar>();
    return solve(Y.rowwise() - intercept.transpose());
  }

 private:
  using Work = ExactScalar;

  /// z_k <- (beta_k Tr + I)^{-1} z_k for every column k of Z (n, T).
  void tridiagonal_solves(Matrix<Work>& Z) const {
    const Index n = Z.rows();
    for (Index k = 0; k < Z.cols(); ++k) {
      Work* z = Z.col(k).data();
      const Work* inverse_pivot = inverse_pivots_.col(k).data();
      const Work* off = scaled_off_.col(k).data();
      for (Index j = 1; j < n; ++j) z[j] -= off[j - 1] * inverse_pivot[j - 1] * z[j - 1];  // L^{-1}
      z[n - 1] *= inverse_pivot[n - 1];
      for (Index j = n - 2; j >= 0; --j) z[j] = (z[j] - off[j] * z[j + 1]) * inverse_pivot[j];  // (D L^T)^{-1}
    }
  }

  Vector<Work> inv_sqrt_ridge_;  // (T) r^{-1/2}
  Matrix<Work> V_;               // (T, T) eigenvectors of B'
  Matrix<Work> P_;               // (n, n) orthogonal, K_x = P Tr P^T
  Matrix<Work> scaled_off_;      // (n - 1, T) beta_k off
  Matrix<Work> inverse_pivots_;  // (n, T) 1 / LDL^T pivots of beta_k Tr + I
  Vector<Work> h_;               // (T) a^T (beta_k Tr + I)^{-1} a
};

}  // namespace multitask
