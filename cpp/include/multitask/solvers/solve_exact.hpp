// Exact solvers of the kernel-coupled least-squares system.
#pragma once

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>

#include <multitask/common/interrupt.hpp>
#include <multitask/linalg/blocked_tridiagonalization.hpp>
#include <multitask/linalg/parallel_cholesky.hpp>
#include <multitask/linalg/tridiagonal_solve.hpp>
#include <multitask/objectives/coupled_system.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace multitask {

/// Dense Cholesky of the (dT, dT) system
///     H = blockdiag(A_t) + alpha K (x) I_d,   H vec(W) = vec(C),
/// with vec(W) stacking the task columns w_1, ..., w_T. O((dT)^3 / 3) flops.
template <typename Scalar>
Matrix<Scalar> solve_dense_cholesky(const CoupledSystem<Scalar>& system) {
  const Index d = system.n_features(), T = system.n_tasks(), n = d * T;
  require(n <= 40000, "solver='exact' on per-task data forms a dense (d*T, d*T) system; d*T = " +
                          std::to_string(n) + " is too large: use solver='cg'");
  Matrix<ExactScalar> H = Matrix<ExactScalar>::Zero(n, n);
  const Matrix<ExactScalar> K = system.coupling().template cast<ExactScalar>();
  const ExactScalar alpha = system.alpha();
  for (Index t = 0; t < T; ++t) {
    const TaskStatistics<Scalar>& s = system.stats(t);
    H.block(t * d, t * d, d, d) = ExactScalar(s.weight) * s.gram->template cast<ExactScalar>();
    for (Index u = 0; u < T; ++u) H.block(t * d, u * d, d, d).diagonal().array() += alpha * K(t, u);
  }
  if (!H.allFinite())  // O(n^2), next to the O(n^3) factorisation
    throw NumericalError(std::string("solver 'exact': the kernel-coupled system has inf or NaN entries: ") +
                         overflow_advice());
  const ExactScalar floor = singular_pivot_floor(H.diagonal().cwiseAbs().maxCoeff(), n);
  // Blocked and parallel, and interruptible between its panels (Eigen's LLT
  // is neither); factorises H in place.
  const bool definite = cholesky_in_place(H, system.n_threads());
  // A pivot L_ii^2 at round-off level of the largest diagonal entry means H is
  // singular to working precision: the solution would be noise.
  if (!definite || !(H.diagonal().cwiseAbs2().minCoeff() > floor))
    throw NumericalError("the kernel-coupled system is singular or not positive definite (increase alpha, or "
                         "use a positive definite coupling)");
  Vector<ExactScalar> solution = Eigen::Map<const Vector<Scalar>>(system.rhs().data(), n).template cast<ExactScalar>();
  cholesky_solve_in_place(H, solution);
  return Eigen::Map<const Matrix<ExactScalar>>(solution.data(), d, T).template cast<Scalar>();
}

/// Solver of the Sylvester equation  G W S + alpha W K = C  for a symmetric
/// positive semidefinite G (d, d), coupling K (T, T) and S = diag(s), s > 0.
///
/// With V = W S^{1/2} it reads G V + alpha V K' = C S^{-1/2}, K' = S^{-1/2} K S^{-1/2}.
/// Write K' = U diag(kappa) U^T (eigendecomposition, T x T) and reduce G to
/// tridiagonal form G = P R P^T (Householder, no eigenvectors needed). Then
/// Z = P^T V U solves, column by column, the tridiagonal systems
///     (R + alpha kappa_k I) z_k = (P^T C S^{-1/2} U)_k,
/// and W = P Z U^T S^{-1/2}. Set-up: (4/3) d^3 + O(T^3) plus the LDL^T factors
/// of the T shifted tridiagonals (O(dT)); each solve is four matrix products,
/// O(d^2 T + d T^2): about a quarter of the cost of an eigendecomposition of G.
template <typename Scalar>
class SylvesterSolver {
 public:
  SylvesterSolver(const Matrix<Scalar>& G_in, const Matrix<Scalar>& K, const Vector<Scalar>& s, Scalar alpha_in)
      : inv_sqrt_weight_(s.template cast<Work>().cwiseSqrt().cwiseInverse()) {
    const Matrix<Work> G = G_in.template cast<Work>();
    if (!G.allFinite() || !K.allFinite())  // O(d^2 + T^2), next to the O(d^3) reduction
      throw NumericalError(std::string("solver 'exact': the Gram matrix or the coupling has inf or NaN entries: ") +
                           overflow_advice());
    const Index d = G.rows();
    const Matrix<Work> K_scaled =
        inv_sqrt_weight_.asDiagonal() * K.template cast<Work>() * inv_sqrt_weight_.asDiagonal();
    Eigen::SelfAdjointEigenSolver<Matrix<Work>> coupling_eigen(K_scaled);
    if (coupling_eigen.info() != Eigen::Success) throw NumericalError("eigendecomposition of the coupling failed");
    U_ = coupling_eigen.eigenvectors();
    kappa_ = coupling_eigen.eigenvalues();
    // The blocked reduction (interruptible between columns; Eigen's
    // Tridiagonalization is neither blocked nor interruptible), then P formed
    // explicitly, so that every solve is matrix products, a block of columns
    // at a time with a poll between blocks.
    const TridiagonalReduction<Work> tridiagonal(G);
    P_.resize(d, d);
    constexpr Index kColumns = 64;
    for (Index first = 0; first < d; first += kColumns) {
      const Index count = std::min(kColumns, d - first);
      P_.middleCols(first, count) = tridiagonal.from_basis(Matrix<Work>::Identity(d, d).middleCols(first, count));
      poll_interrupt(static_cast<double>(d) * static_cast<double>(d) * static_cast<double>(count));
    }
    main_ = tridiagonal.main;
    off_ = tridiagonal.off;
    gram_scale_ = G.diagonal().cwiseAbs().maxCoeff();
    set_alpha(alpha_in);
  }

  /// Re-shifts the solver to another alpha: O(dT), the set-up above is independent of alpha.
  void set_alpha(Scalar alpha_in) {
    const Work alpha = alpha_in;
    const Index d = main_.size(), T = kappa_.size();
    const Vector<Work> alpha_kappa = alpha * kappa_;
    // Sturm count: the LDL^T pivots of R + (mu - floor) I are all positive iff every
    // eigenvalue of R + mu I exceeds floor (Sylvester's law of inertia). It suffices
    // to check the smallest shift mu; below floor the system is singular to
    // working precision.
    const Work scale = gram_scale_ + alpha_kappa.cwiseAbs().maxCoeff();
    const Work floor = singular_pivot_floor(scale, d + T);
    Vector<Work> pivots(d);
    well_posed_ = tridiagonal_pivots(main_, off_, alpha_kappa.minCoeff() - floor, pivots);
    if (!well_posed_) return;
    // LDL^T of every shifted tridiagonal R + alpha kappa_k I, stored as inverse pivots.
    inverse_pivots_.resize(d, T);
    for (Index k = 0; k < T; ++k) {
      tridiagonal_pivots(main_, off_, alpha_kappa[k], pivots);
      inverse_pivots_.col(k) = pivots.cwiseInverse();
    }
  }

  /// Whether the equation has a unique solution numerically (every shifted system is positive definite).
  bool well_posed() const { return well_posed_; }

  /// W (d, T) for the right-hand side C (d, T).
  Matrix<Scalar> solve(const Matrix<Scalar>& C) const {
    if (!well_posed_)
      throw NumericalError("the kernel-coupled system is singular (increase alpha, or use a positive definite "
                           "coupling)");
    Matrix<Work> Z = P_.transpose() * (C.template cast<Work>() * inv_sqrt_weight_.asDiagonal() * U_);
    const Index d = Z.rows();
    for (Index k = 0; k < Z.cols(); ++k) {
      Work* z = Z.col(k).data();
      const Work* inverse_pivot = inverse_pivots_.col(k).data();
      for (Index j = 1; j < d; ++j) z[j] -= off_[j - 1] * inverse_pivot[j - 1] * z[j - 1];  // L^{-1}
      z[d - 1] *= inverse_pivot[d - 1];
      for (Index j = d - 2; j >= 0; --j) z[j] = (z[j] - off_[j] * z[j + 1]) * inverse_pivot[j];  // (D L^T)^{-1}
    }
    return (P_ * (Z * U_.transpose()) * inv_sqrt_weight_.asDiagonal()).template cast<Scalar>();
  }

 private:
  using Work = ExactScalar;
  Vector<Work> inv_sqrt_weight_;  // (T) s^{-1/2}
  Matrix<Work> U_;                // (T, T) eigenvectors of K'
  Vector<Work> kappa_;            // (T) eigenvalues of K'
  Matrix<Work> P_;                // (d, d) orthogonal, G = P R P^T
  Vector<Work> main_;             // (d) diagonal of the tridiagonal R
  Vector<Work> off_;              // (d - 1) off-diagonal of the tridiagonal R
  Work gram_scale_ = 0;           // max |G_jj|, the scale of the singularity test
  Matrix<Work> inverse_pivots_;   // (d, T) 1 / LDL^T pivots of R + alpha kappa_k I
  bool well_posed_ = false;
};

/// Shared design (A_t = s_t G): the solver of the Sylvester equation G W S + alpha W K = C.
template <typename Scalar>
SylvesterSolver<Scalar> sylvester_solver(const CoupledSystem<Scalar>& system) {
  Vector<Scalar> weights(system.n_tasks());
  for (Index t = 0; t < system.n_tasks(); ++t) weights[t] = system.stats(t).weight;
  return SylvesterSolver<Scalar>(*system.stats(0).gram, system.coupling(), weights, system.alpha());
}

}  // namespace multitask
