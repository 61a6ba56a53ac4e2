// Exact solver of the multi-task kernel ridge system for a shared design, in
// O(n^3 + T^3 + n^2 T) instead of O((nT)^3).
#pragma once

#include <Eigen/Eigenvalues>
#include <optional>
#include <type_traits>
#include <utility>

#include <multitask/common/interrupt.hpp>
#include <multitask/linalg/blocked_tridiagonalization.hpp>
#include <multitask/linalg/parallel_cholesky.hpp>
#include <multitask/linalg/tridiagonal_solve.hpp>

namespace multitask {

/// Task directions with at most this many non-zero eigenvalues beta_k are solved
/// by one Cholesky factorisation of beta_k K_x + I each (n^3/3 flops, BLAS-3,
/// parallel); beyond, K_x is reduced to tridiagonal form once ((4/3) n^3 flops,
/// but sequential and bound by memory bandwidth: Eigen's unblocked reduction took
/// about 20 Cholesky factorisations' time at n = 2000, 14 at n = 1000; the blocked
/// one used now about 7.5 and 6 (kernel_ridge_path.hpp), so 12 is conservative
/// on one thread and about right on two).
constexpr Index kronecker_cholesky_directions = 12;

/// The task directions of a shared design: B' = R^{-1/2} B R^{-1/2} = V diag(beta) V^T
/// (T x T eigendecomposition) for B (T, T) symmetric PSD and R^{-1/2} = diag(inv_sqrt_ridge);
/// eigenvalues at round-off level of the largest are set to exactly 0 (B is PSD).
struct TaskDirections {
  Matrix<ExactScalar> V;     // (T, T) orthonormal eigenvectors
  Vector<ExactScalar> beta;  // (T) eigenvalues, >= 0

  template <typename Scalar>
  TaskDirections(const Matrix<Scalar>& B, const Vector<ExactScalar>& inv_sqrt_ridge) {
    using Work = ExactScalar;
    const Matrix<Work> B_scaled =
        inv_sqrt_ridge.asDiagonal() * B.template cast<Work>() * inv_sqrt_ridge.asDiagonal();
    Eigen::SelfAdjointEigenSolver<Matrix<Work>> task_eigen(B_scaled);
    if (task_eigen.info() != Eigen::Success) throw NumericalError("eigendecomposition of the task kernel failed");
    V = task_eigen.eigenvectors();
    const Work tiny = Work(B.rows()) * std::numeric_limits<Work>::epsilon() *
                      task_eigen.eigenvalues().cwiseAbs().maxCoeff();
    beta = task_eigen.eigenvalues().unaryExpr([tiny](Work value) { return value > tiny ? value : Work(0); });
  }
};

/// Exact intercepts of the shared-design system in its task directions (see
/// solve_kronecker_dual): given z_k = (beta_k K_x + I)^{-1} y^_k in Z (n, T) and
/// q_k = (beta_k K_x + I)^{-1} a in Q (n, T), a = 1_n in the working basis, the
/// Schur complement S = R^{-1/2} V diag(h) V^T R^{-1/2} with h_k = a^T q_k gives
/// b = S^{-1} R^{-1/2} V (a^T z_k)_k; z_k is corrected in place by
/// -(V^T R^{-1/2} b)_k q_k. Returns b (T).
/// (A template so that only the units that call it compile it.)
template <typename Work>
Vector<Work> kronecker_intercepts(const Matrix<Work>& V,               // (T, T)
                                  const Vector<Work>& inv_sqrt_ridge,  // (T)
                                  const Vector<Work>& a,               // (n)
                                  const Matrix<Work>& Q,               // (n, T)
                                  Matrix<Work>& Z) {                   // (n, T)
  const Vector<Work> h = Q.transpose() * a;  // (T)
  const Vector<Work> u = Z.transpose() * a;  // (T) a^T z_k
  const Matrix<Work> S =
      inv_sqrt_ridge.asDiagonal() * V * h.asDiagonal() * V.transpose() * inv_sqrt_ridge.asDiagonal();
  const Eigen::LLT<Matrix<Work>> schur(S);
  if (schur.info() != Eigen::Success) throw NumericalError("the intercept system is not positive definite");
  const Vector<Work> b = schur.solve(inv_sqrt_ridge.asDiagonal() * (V * u));
  const Vector<Work> w = V.transpose() * inv_sqrt_ridge.asDiagonal() * b;
  Z -= Q * w.asDiagonal();
  return b;
}

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
///
/// The working precision is Work = ExactScalar whatever the data's scalar: the
/// float32 fit converts and calls the same (one) instantiation as float64
/// (explicit_instantiations.hpp), so the build compiles this body once.
/// `gram` (n, n) is the lower triangle of K_x in Work, taken by value: it
/// becomes the reduction's or the factorisations' storage.
template <typename Work>
Matrix<Work> solve_kronecker_dual_in(Matrix<Work> gram,          // (n, n)
                                     const Matrix<Work>& B,      // (T, T)
                                     const Vector<Work>& ridge,  // (T)
                                     const Matrix<Work>& Y,      // (n, T)
                                     bool fit_intercept, int n_threads, Vector<Work>& intercept_out) {
  static_assert(std::is_same_v<Work, ExactScalar>, "the Kronecker solver works in ExactScalar");
  const Index n = gram.rows(), T = B.rows();
  const Vector<Work> inv_sqrt_ridge = ridge.cwiseSqrt().cwiseInverse();
  const TaskDirections directions(B, inv_sqrt_ridge);
  const Matrix<Work>& V = directions.V;
  const Vector<Work>& beta = directions.beta;
  const Index active = (beta.array() > 0).count();
  const bool tridiagonal = active > kronecker_cholesky_directions;

  Vector<Work> a = Vector<Work>::Ones(n);  // 1_n in the working basis
  Matrix<Work> Z = Y * inv_sqrt_ridge.asDiagonal() * V;  // (n, T) Y^
  // Tridiagonal route: K_x = P Tr P^T, reduced in gram's storage (blocked Householder).
  std::optional<TridiagonalReduction<Work>> reduction;
  if (tridiagonal) {
    reduction.emplace(std::move(gram));
    a = reduction->to_basis(a);
    Z = reduction->to_basis(Z);
  }
  const auto not_definite = [] {
    return NumericalError("the multi-task kernel system is not positive definite: the input kernel matrix is not "
                          "positive semidefinite");
  };

  Matrix<Work> Q = a.replicate(1, T);  // (n, T) q_k = (beta_k K_x + I)^{-1} a
  Matrix<Work> rhs(n, 2), factor;
  Vector<Work> pivots(n);
  for (Index k = 0; k < T; ++k) {
    poll_interrupt();
    if (beta[k] == 0) continue;  // the identity
    rhs.col(0) = Z.col(k);
    rhs.col(1) = a;
    if (tridiagonal) {
      // LDL^T of beta_k Tr + I, then L^{-1} and (D L^T)^{-1} on both columns.
      const Vector<Work> scaled_off = beta[k] * reduction->off;
      if (!tridiagonal_pivots(Vector<Work>(beta[k] * reduction->main), scaled_off, Work(1), pivots)) {
        throw not_definite();
      }
      tridiagonal_solve_in_place(scaled_off, pivots, rhs);
    } else {
      factor = beta[k] * gram;
      factor.diagonal().array() += Work(1);
      if (!cholesky_in_place(factor, n_threads) || !(factor.diagonal().minCoeff() > Work(0.5))) throw not_definite();
      cholesky_solve_in_place(factor, rhs);
    }
    Z.col(k) = rhs.col(0);
    Q.col(k) = rhs.col(1);
  }

  intercept_out = Vector<Work>::Zero(T);
  if (fit_intercept) intercept_out = kronecker_intercepts(V, inv_sqrt_ridge, a, Q, Z);
  Matrix<Work> C = Z * V.transpose() * inv_sqrt_ridge.asDiagonal();
  if (tridiagonal) C = reduction->from_basis(C);
  return C;
}

/// solve_kronecker_dual_in for data in Scalar: checks K_x and B are finite and
/// runs the solver in ExactScalar.
template <typename Scalar>
Matrix<Scalar> solve_kronecker_dual(const Matrix<Scalar>& gram_lower,  // (n, n)
                                    const Matrix<Scalar>& B,           // (T, T)
                                    const Vector<Scalar>& ridge,       // (T)
                                    const Matrix<Scalar>& Y,           // (n, T)
                                    bool fit_intercept, int n_threads, Vector<Scalar>& intercept_out) {
  using Work = ExactScalar;
  if (!lower_triangle_finite(gram_lower) || !B.allFinite()) throw non_finite_kernel_matrix();
  Vector<Work> intercept;
  const Matrix<Work> C =
      solve_kronecker_dual_in<Work>(gram_lower.template cast<Work>(), B.template cast<Work>(),
                                    ridge.template cast<Work>(), Y.template cast<Work>(), fit_intercept, n_threads,
                                    intercept);
  intercept_out = intercept.template cast<Scalar>();
  return C.template cast<Scalar>();
}

}  // namespace multitask
