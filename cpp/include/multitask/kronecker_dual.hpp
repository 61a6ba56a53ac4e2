// Exact solver of the multi-task kernel ridge system for a shared design, in
// O(n^3 + T^3 + n^2 T) instead of O((nT)^3).
#pragma once

#include <Eigen/Eigenvalues>

#include "parallel_cholesky.hpp"
#include "solve_exact.hpp"

namespace multitask {

/// Task directions with at most this many non-zero eigenvalues beta_k are solved
/// by one Cholesky factorisation of beta_k K_x + I each (n^3/3 flops, BLAS-3,
/// parallel); beyond, K_x is reduced to tridiagonal form once ((4/3) n^3 flops,
/// but sequential and bound by memory bandwidth: measured about 20 Cholesky
/// factorisations' time at n = 2000, 14 at n = 1000).
constexpr Index kronecker_cholesky_directions = 12;

/// Solves (B (x) K_x + R (x) I_n) vec(C) = vec(Y) for C, Y (n, T), with K_x (n, n)
/// (lower triangle given) and B (T, T) symmetric positive semidefinite and
/// R = diag(r), r > 0 (the ridge alpha N / omega_t of each task). In matrix form:
/// K_x C B + C R = Y.
///
/// With B' = R^{-1/2} B R^{-1/2} = V diag(beta) V^T (eigendecomposition, T x T),
/// Z = C R^{1/2} V solves, column by column ("task directions"),
///     (beta_k K_x + I) z_k = y^_k,     Y^ = Y R^{-1/2} V,
/// and C = Z V^T R^{-1/2}. Directions with beta_k = 0 are the identity; the
/// others are solved either by a Cholesky factorisation each, or, when there are
/// many, after the reduction K_x = P Tr P^T (Householder, no eigenvectors) by
/// tridiagonal LDL^T solves in the basis P (y^_k and z_k then hold P^T y^_k, P^T z_k).
///
/// Intercepts (the bordered system with E = I_T (x) 1_n, E^T c = 0) by the Schur
/// complement S = E^T A^{-1} E, b = S^{-1} E^T A^{-1} y, c = A^{-1}(y - E b). In
/// the transformed basis E's columns are rank one: with a = 1_n (or P^T 1_n),
/// q_k = (beta_k K_x + I)^{-1} a and h_k = a^T q_k,
///     S = R^{-1/2} V diag(h) V^T R^{-1/2},   E^T A^{-1} y = R^{-1/2} V (a^T z_k)_k,
/// and subtracting E b changes z_k by -(V^T R^{-1/2} b)_k q_k. So each direction
/// is factorised once and solved for two right-hand sides, y^_k and a.
/// Returns C; `intercept_out` (T) gets b (zeros without intercept).
template <typename Scalar>
Matrix<Scalar> solve_kronecker_dual(const Matrix<Scalar>& gram_lower,  // (n, n)
                                    const Matrix<Scalar>& B,           // (T, T)
                                    const Vector<Scalar>& ridge,       // (T)
                                    const Matrix<Scalar>& Y,           // (n, T)
                                    bool fit_intercept, int n_threads, Vector<Scalar>& intercept_out) {
  using Work = ExactScalar;
  const Index n = gram_lower.rows(), T = B.rows();
  const Vector<Work> inv_sqrt_ridge = ridge.template cast<Work>().cwiseSqrt().cwiseInverse();
  const Matrix<Work> B_scaled = inv_sqrt_ridge.asDiagonal() * B.template cast<Work>() * inv_sqrt_ridge.asDiagonal();
  Eigen::SelfAdjointEigenSolver<Matrix<Work>> task_eigen(B_scaled);
  if (task_eigen.info() != Eigen::Success) throw NumericalError("eigendecomposition of the task kernel failed");
  const Matrix<Work>& V = task_eigen.eigenvectors();
  // B is PSD: eigenvalues at round-off level of the largest are zero.
  const Work tiny = Work(T) * std::numeric_limits<Work>::epsilon() * task_eigen.eigenvalues().cwiseAbs().maxCoeff();
  const Vector<Work> beta = task_eigen.eigenvalues().unaryExpr([tiny](Work value) { return value > tiny ? value : 0; });
  const Index active = (beta.array() > 0).count();
  const bool tridiagonal = active > kronecker_cholesky_directions;

  Matrix<Work> gram = gram_lower.template cast<Work>();
  Matrix<Work> P;                          // (n, n) tridiagonal route only
  Vector<Work> main, off;                  // Tr's diagonal (n) and off-diagonal (n - 1)
  Vector<Work> a = Vector<Work>::Ones(n);  // 1_n in the working basis
  Matrix<Work> Z = Y.template cast<Work>() * inv_sqrt_ridge.asDiagonal() * V;  // (n, T) Y^
  if (tridiagonal) {
    gram.template triangularView<Eigen::StrictlyUpper>() = gram.transpose();
    const Eigen::Tridiagonalization<Matrix<Work>> reduction(gram);
    P = reduction.matrixQ();
    main = reduction.diagonal();
    off = reduction.subDiagonal();
    a = P.transpose() * a;
    Z = P.transpose() * Z;
  }
  const auto not_definite = [] {
    return NumericalError("the multi-task kernel system is not positive definite: the input kernel matrix is not "
                          "positive semidefinite");
  };

  Matrix<Work> Q = a.replicate(1, T);  // (n, T) q_k = (beta_k K_x + I)^{-1} a
  Matrix<Work> rhs(n, 2), factor;
  Vector<Work> pivots(n);
  for (Index k = 0; k < T; ++k) {
    if (beta[k] == 0) continue;  // the identity
    rhs.col(0) = Z.col(k);
    rhs.col(1) = a;
    if (tridiagonal) {
      // LDL^T of beta_k Tr + I, then L^{-1} and (D L^T)^{-1} on both columns.
      const Vector<Work> scaled_off = beta[k] * off;
      if (!tridiagonal_pivots(Vector<Work>(beta[k] * main), scaled_off, Work(1), pivots)) throw not_definite();
      for (Index j = 1; j < n; ++j) rhs.row(j) -= (scaled_off[j - 1] / pivots[j - 1]) * rhs.row(j - 1);
      rhs.row(n - 1) /= pivots[n - 1];
      for (Index j = n - 2; j >= 0; --j) rhs.row(j) = (rhs.row(j) - scaled_off[j] * rhs.row(j + 1)) / pivots[j];
    } else {
      factor = beta[k] * gram;
      factor.diagonal().array() += Work(1);
      if (!cholesky_in_place(factor, n_threads) || !(factor.diagonal().minCoeff() > Work(0.5))) throw not_definite();
      cholesky_solve_in_place(factor, rhs);
    }
    Z.col(k) = rhs.col(0);
    Q.col(k) = rhs.col(1);
  }

  intercept_out = Vector<Scalar>::Zero(T);
  if (fit_intercept) {
    const Vector<Work> h = Q.transpose() * a;  // (T)
    const Vector<Work> u = Z.transpose() * a;  // (T) a^T z_k
    const Matrix<Work> S = inv_sqrt_ridge.asDiagonal() * V * h.asDiagonal() * V.transpose() *
                           inv_sqrt_ridge.asDiagonal();
    const Eigen::LLT<Matrix<Work>> schur(S);
    if (schur.info() != Eigen::Success) throw NumericalError("the intercept system is not positive definite");
    const Vector<Work> b = schur.solve(inv_sqrt_ridge.asDiagonal() * (V * u));
    const Vector<Work> w = V.transpose() * inv_sqrt_ridge.asDiagonal() * b;
    Z -= Q * w.asDiagonal();
    intercept_out = b.template cast<Scalar>();
  }
  Matrix<Work> C = Z * V.transpose() * inv_sqrt_ridge.asDiagonal();
  if (tridiagonal) C = P * C;
  return C.template cast<Scalar>();
}

}  // namespace multitask
