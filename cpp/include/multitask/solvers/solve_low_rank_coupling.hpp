// Exact solver of the kernel-coupled least-squares system (coupled_system.hpp)
// for per-task designs when the coupling is a multiple of the identity plus a
// low-rank term:
//
//     K = c I_T + U diag(sigma) U^T,   U (T, r) orthonormal, c > 0, r small.
//
// The default mean-regularised coupling (1 + mu) I - 1 1^T / T is one (r = 1),
// cluster couplings are (r = the number of clusters) and K = c I is (r = 0,
// independent ridges).
//
// With D = blockdiag(D_t), D_t = A_t + alpha c I_d (positive definite), and
// U~ = U (x) I_d, the system matrix is
//     H = blockdiag(A_t) + alpha K (x) I_d = D + alpha U~ (diag(sigma) (x) I_d) U~^T,
// so by the Woodbury identity
//     H^{-1} = D^{-1} - D^{-1} U~ S^{-1} U~^T D^{-1},
//     S = diag(1 / (alpha sigma)) (x) I_d + U~^T D^{-1} U~   ((r d, r d)),
// whose (k, l) block of size d is delta_kl / (alpha sigma_k) I + sum_t U_tk U_tl D_t^{-1}.
// Along a path every A_t = Q_t diag(lambda_t) Q_t^T is diagonalised once (9 d^3 per
// task); then an alpha costs r (r + 1) T d^3 to form S (none for r = 0), (r d)^3 / 3
// to factorise it, and a solve O(T d^2 + d T r): no iterations. A single alpha
// factorises each D_t instead (Cholesky and a triangular inverse). The dense
// solver factorises the (dT, dT) system, (dT)^3 / 3 per alpha.
//
// The split treats eigenvalues of K within round-off of each other as equal,
// and S suffers cancellation when K is nearly singular (c + sigma_k near 0), so
// each solve is followed by refinement steps x += H~^{-1} (C - H x) against the
// true H until the residual stops shrinking.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/parallel.hpp>
#include <multitask/linalg/tridiagonal_solve.hpp>
#include <multitask/objectives/coupled_system.hpp>

namespace multitask {

/// Largest capacitance size r d for which a split K = c I + low rank is used.
constexpr Index kLowRankCouplingMaxCapacitance = 1024;
/// Largest d for the split: each task's (d, d) diagonalisation runs without a
/// poll for Ctrl-C (about 0.3 s at d = 512 on one thread).
constexpr Index kLowRankCouplingMaxFeatures = 512;

/// K = c I + U diag(sigma) U^T (see the file comment).
struct LowRankCouplingSplit {
  double c = 0;
  Matrix<double> U;      // (T, r) orthonormal
  Vector<double> sigma;  // (r) the eigenvalues of K minus c
};

/// The split of the coupling K (T, T) when the eigenvalue shared by most
/// eigenvectors, c, is positive and the others number r with r < T / 2, r d at
/// most kLowRankCouplingMaxCapacitance, d at most kLowRankCouplingMaxFeatures,
/// and the solver's work for one alpha (9 T d^3 to diagonalise, r (r + 1) T d^3
/// for the capacitance, (r d)^3 / 3 to factorise it) below the dense
/// Cholesky's (d T)^3 / 3; otherwise nothing (the dense or iterative solvers
/// are the better choice). Eigenvalues within 64 T eps max|kappa| of each
/// other count as equal.
template <typename Scalar>
std::optional<LowRankCouplingSplit> low_rank_coupling_split(const Matrix<Scalar>& K, Index d) {
  const Index T = K.rows();
  if (T < 2 || d > kLowRankCouplingMaxFeatures || !K.allFinite()) return std::nullopt;
  Eigen::SelfAdjointEigenSolver<Matrix<double>> eigen(K.template cast<double>());
  if (eigen.info() != Eigen::Success) return std::nullopt;
  const Vector<double>& kappa = eigen.eigenvalues();  // ascending
  const double tolerance =
      64.0 * static_cast<double>(T) * std::numeric_limits<double>::epsilon() * kappa.cwiseAbs().maxCoeff();
  // The longest run of (sorted) eigenvalues spanning at most `tolerance`.
  Index best_first = 0, best_count = 1;
  for (Index first = 0, last = 0; first < T; ++first) {
    last = std::max(last, first);
    while (last + 1 < T && kappa[last + 1] - kappa[first] <= tolerance) ++last;
    if (last - first + 1 > best_count) best_first = first, best_count = last - first + 1;
  }
  const Index r = T - best_count;
  const double c = kappa.segment(best_first, best_count).mean();
  if (!(c > 0) || 2 * r >= T || r * d > kLowRankCouplingMaxCapacitance) return std::nullopt;
  const double d3 = static_cast<double>(d) * d * d, rd = static_cast<double>(r * d), dT = static_cast<double>(d * T);
  if ((9.0 + static_cast<double>(r * (r + 1))) * static_cast<double>(T) * d3 + rd * rd * rd / 3 >= dT * dT * dT / 3)
    return std::nullopt;
  LowRankCouplingSplit split;
  split.c = c;
  split.U.resize(T, r);
  split.sigma.resize(r);
  for (Index k = 0, j = 0; k < T; ++k) {
    if (k >= best_first && k < best_first + best_count) continue;
    split.U.col(j) = eigen.eigenvectors().col(k);
    split.sigma[j++] = kappa[k] - c;
  }
  return split;
}

/// Paths of at least this many alphas diagonalise the Grams once; shorter ones
/// factorise D_t per alpha (Cholesky and a triangular inverse). Measured at
/// School's shape (T = 139, d = 27, one thread, x86-64-v3): a first alpha costs
/// 16 ms diagonalised and 4.8 ms factorised, every further alpha 0.74 ms
/// diagonalised and about 4 ms factorised.
constexpr Index kLowRankDiagonaliseMinAlphas = 4;

/// The Woodbury solver of the file comment for the system's tasks (every task
/// must hold its Gram: build the system with form_all_grams). Every alpha
/// writes D_t^{-1} = F_t F_t^T with F = [F_1 ... F_T] (d, T d): from the
/// diagonalisation, F_t = Q_t diag((lambda_t + alpha c)^{-1/2}) (O(d^2) per task
/// and alpha, `diagonalise`); otherwise from the Cholesky factor D_t = L_t L_t^T,
/// F_t = L_t^{-T}. The capacitance and the solves only read F.
template <typename Scalar>
class LowRankCouplingSolver {
 public:
  LowRankCouplingSolver(const CoupledSystem<Scalar>& system, LowRankCouplingSplit split, bool diagonalise)
      : system_(system), split_(std::move(split)), diagonalise_(diagonalise) {
    const Index d = system.n_features(), T = system.n_tasks();
    for (Index t = 0; t < T; ++t)
      require(system.stats(t).has_gram(), "the low-rank coupling solver needs every task's Gram");
    factors_.resize(d, T * d);
    if (diagonalise_) {
      stacked_eigenvectors_.resize(d, T * d);
      eigenvalues_.resize(d, T);
      // A_t = s_t X~_t^T X~_t = Q_t diag(lambda_t) Q_t^T, parallel over tasks.
      for_each_task(9.0 * static_cast<double>(d) * d * d, [&](Index t) {
        const Matrix<Work> A = task_matrix(t);
        if (!A.allFinite()) return false;
        const Eigen::SelfAdjointEigenSolver<Matrix<Work>> eigen(A);
        if (eigen.info() != Eigen::Success) return false;
        stacked_eigenvectors_.middleCols(t * d, d) = eigen.eigenvectors();
        eigenvalues_.col(t) = eigen.eigenvalues().cwiseMax(Work(0));  // a Gram is positive semidefinite
        return true;
      });
    }
    set_alpha(system.alpha());
  }

  /// Re-shifts to another alpha (> 0).
  void set_alpha(Scalar alpha_in) {
    alpha_ = alpha_in;
    require(alpha_ > 0, "the low-rank coupling solver needs alpha > 0");
    const Index d = factors_.rows(), T = system_.n_tasks(), r = split_.sigma.size();
    const Work shift = alpha_ * split_.c;
    if (diagonalise_) {
      const Matrix<Work> scales = (eigenvalues_.array() + shift).rsqrt().matrix();  // (d, T)
      for (Index t = 0; t < T; ++t)
        factors_.middleCols(t * d, d) = stacked_eigenvectors_.middleCols(t * d, d) * scales.col(t).asDiagonal();
    } else {
      for_each_task(static_cast<double>(d) * d * d, [&](Index t) {
        Matrix<Work> D = task_matrix(t);
        D.diagonal().array() += shift;
        const Eigen::LLT<Matrix<Work>> cholesky(D);
        if (!D.allFinite() || cholesky.info() != Eigen::Success) return false;
        // F_t = L_t^{-T}: the upper triangular inverse of L_t^T.
        Matrix<Work> F = Matrix<Work>::Identity(d, d);
        cholesky.matrixU().solveInPlace(F);
        factors_.middleCols(t * d, d) = F;
        return true;
      });
    }
    if (r == 0) return;
    // S = diag(1 / (alpha sigma)) (x) I + sum_t (U_t^T U_t) (x) D_t^{-1}, block (k, l) of size d:
    // sum_t U_tk U_tl F_t F_t^T = F diag(weights) F^T, one product of (d, T d) matrices per block.
    Matrix<Work> S(r * d, r * d);
    Vector<Work> weights(T * d);
    for (Index k = 0; k < r; ++k) {
      for (Index l = 0; l <= k; ++l) {
        poll_interrupt(2.0 * static_cast<double>(d) * d * d * T);
        for (Index t = 0; t < T; ++t) weights.segment(t * d, d).setConstant(split_.U(t, k) * split_.U(t, l));
        if (l == k) {  // weights >= 0: a symmetric rank-(T d) update, half the flops
          const Matrix<Work> scaled = factors_ * weights.cwiseSqrt().asDiagonal();
          Matrix<Work> block = Matrix<Work>::Zero(d, d);
          block.template selfadjointView<Eigen::Lower>().rankUpdate(scaled);
          S.block(k * d, k * d, d, d) = block.template selfadjointView<Eigen::Lower>();
        } else {
          S.block(k * d, l * d, d, d).noalias() = (factors_ * weights.asDiagonal()) * factors_.transpose();
          S.block(l * d, k * d, d, d) = S.block(k * d, l * d, d, d).transpose();
        }
      }
      S.block(k * d, k * d, d, d).diagonal().array() += Work(1) / (alpha_ * split_.sigma[k]);
    }
    // S is symmetric but indefinite when some sigma_k < 0 (as for the mean-regularised coupling).
    capacitance_.compute(S);
  }

  /// W (d, T) with H(W) = C, refined against the system's own H: the iterate
  /// of smallest residual, stopping at round-off (64 eps relative) or when a
  /// step no longer halves the residual. `product`, if given, receives H(W).
  Matrix<Scalar> solve(const CoupledSystem<Scalar>& system, Matrix<Scalar>* product = nullptr) const {
    const Matrix<Work> C = system.rhs().template cast<Work>();
    const Work rhs_norm = C.norm();
    Matrix<Work> W = apply_inverse(C);
    constexpr int kMaxRefinements = 4;
    Matrix<Work> best = W, best_product;
    Work best_residual = std::numeric_limits<Work>::infinity();
    for (int step = 0; step <= kMaxRefinements; ++step) {
      const Matrix<Work> HW = apply_system(system, W);
      const Matrix<Work> residual = C - HW;
      const Work current = rhs_norm > 0 ? residual.norm() / rhs_norm : residual.norm();
      if (!(current < Work(0.5) * best_residual)) break;
      best = W;
      best_product = HW;
      best_residual = current;
      if (current <= 64 * std::numeric_limits<Work>::epsilon()) break;
      W += apply_inverse(residual);
    }
    if (product) *product = best_product.template cast<Scalar>();
    return best.template cast<Scalar>();
  }

 private:
  using Work = ExactScalar;

  /// D^{-1} R = [F_t F_t^T r_t]_t.
  Matrix<Work> apply_block_inverse(const Matrix<Work>& R) const {
    Matrix<Work> out(R.rows(), R.cols());
    const Index d = R.rows();
    for (Index t = 0; t < R.cols(); ++t) {
      const auto F = factors_.middleCols(t * d, d);
      out.col(t).noalias() = F * (F.transpose() * R.col(t));
    }
    return out;
  }

  /// A_t = s_t X~_t^T X~_t in working precision.
  Matrix<Work> task_matrix(Index t) const {
    const TaskStatistics<Scalar>& s = system_.stats(t);
    return Work(s.weight) * s.gram->template cast<Work>();
  }

  /// body(t) for every task, parallel and interruptible; body returns false
  /// when task t's matrix is not finite (or its factorisation failed).
  template <typename Body>
  void for_each_task(double work_per_task, Body&& body) const {
    const Index T = system_.n_tasks();
    std::vector<char> failed(T, 0);
    parallel_for_interruptible(T, system_.n_threads(), work_per_task, [&](Index t) { failed[t] = !body(t); });
    for (Index t = 0; t < T; ++t)
      if (failed[t])
        throw NumericalError(std::string("solver 'exact': a task's Gram matrix has inf or NaN entries: ") +
                             overflow_advice());
  }

  /// H~^{-1} R by the Woodbury identity (R, result (d, T); vec stacks task columns,
  /// so U~^T vec(X) = vec(X U) and U~ vec(Y) = vec(Y U^T)).
  Matrix<Work> apply_inverse(const Matrix<Work>& R) const {
    Matrix<Work> X = apply_block_inverse(R);
    const Index r = split_.sigma.size(), d = R.rows();
    if (r == 0) return X;
    const Matrix<Work> Z = X * split_.U;  // (d, r)
    const Vector<Work> y = capacitance_.solve(Eigen::Map<const Vector<Work>>(Z.data(), d * r));
    const Matrix<Work> correction = Eigen::Map<const Matrix<Work>>(y.data(), d, r) * split_.U.transpose();
    X -= apply_block_inverse(correction);
    return X;
  }

  /// H W in working precision.
  Matrix<Work> apply_system(const CoupledSystem<Scalar>& system, const Matrix<Work>& W) const {
    const Matrix<Scalar> W_scalar = W.template cast<Scalar>();
    Matrix<Scalar> HW(W.rows(), W.cols());
    system.apply(W_scalar, HW);
    return HW.template cast<Work>();
  }

  const CoupledSystem<Scalar>& system_;
  LowRankCouplingSplit split_;
  bool diagonalise_;
  Work alpha_ = 0;
  Matrix<Work> stacked_eigenvectors_;  // (d, T d) [Q_1 ... Q_T] (diagonalise only)
  Matrix<Work> eigenvalues_;           // (d, T) lambda_t (diagonalise only)
  Matrix<Work> factors_;               // (d, T d) [F_1 ... F_T] at the current alpha
  Eigen::PartialPivLU<Matrix<Work>> capacitance_;
};

}  // namespace multitask
