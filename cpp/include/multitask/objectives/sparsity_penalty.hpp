// The structure penalties on W (d, T) (row j: feature j in every task):
//
//   Omega(W) = rho_1 sum_{j,t} |W_jt| + rho_21 sum_j ||row_j(W)||_2 + rho_* ||W||_*
//
// (l1: entries; l21: joint feature selection; trace norm ||W||_* = sum of
// singular values: a shared low-rank representation). The trace norm is used
// alone (its prox is singular-value thresholding); l1 and l21 separate over
// rows, and everything below for them is per row:
// * prox of tau Omega on a row: soft-threshold the entries by tau rho_1, then
//   shrink the row's norm by tau rho_21 (the prox of the sum is this
//   composition for the sparse-group penalty);
// * the minimum-norm subgradient distance dist(-g, d Omega(w)) for a row with
//   smooth gradient g: the KKT violation, zero exactly at an optimal row;
// * the dual norm Omega*(v) = min {s >= 0 : ||S_{s rho_1}(v)||_2 <= s rho_21}
//   (S: soft-thresholding), used to scale a dual point into the feasible set
//   {Omega*(v_j) <= 1 for every row}.
#pragma once

#include <algorithm>
#include <cmath>


#include <multitask/common/types.hpp>
#include <multitask/linalg/thin_svd.hpp>

namespace multitask {

struct SparsityPenalty {
  double l1 = 0;     // rho_1
  double l21 = 0;    // rho_21
  double trace = 0;  // rho_*

  bool active() const { return l1 > 0 || l21 > 0 || trace > 0; }
  bool row_separable() const { return trace == 0; }
};

/// ||W||_* = sum of the singular values of W (computed in double precision).
template <typename Scalar>
Scalar nuclear_norm(const Matrix<Scalar>& W) {
  return static_cast<Scalar>(thin_svd(W.template cast<double>(), false).singular.sum());
}

/// W <- U diag((sigma - threshold)_+) V^T for W = U diag(sigma) V^T: the prox of
/// threshold ||.||_* (singular-value thresholding).
template <typename Scalar>
void shrink_singular_values(Matrix<Scalar>& W, Scalar threshold) {
  const ThinSvd svd = thin_svd(W.template cast<double>(), true);
  const Vector<double> shrunk = (svd.singular.array() - static_cast<double>(threshold)).cwiseMax(0.0).matrix();
  W = (svd.U * shrunk.asDiagonal() * svd.Vt).template cast<Scalar>();
}

/// Omega(W) for W (d, T).
template <typename Derived>
double penalty_value(const SparsityPenalty& penalty, const Eigen::MatrixBase<Derived>& W) {
  using Scalar = typename Derived::Scalar;
  double value = 0;
  if (penalty.l1 > 0) value += penalty.l1 * static_cast<double>(W.cwiseAbs().sum());
  if (penalty.l21 > 0) value += penalty.l21 * static_cast<double>(W.rowwise().norm().sum());
  if (penalty.trace > 0) value += penalty.trace * static_cast<double>(nuclear_norm(Matrix<Scalar>(W)));
  return value;
}

/// row <- prox_{tau Omega}(row) for one row (T entries), in place.
template <typename Row>
void prox_row(const SparsityPenalty& penalty, double tau, Row&& row) {
  using Scalar = typename std::decay_t<Row>::Scalar;
  if (penalty.l1 > 0) {
    const Scalar threshold = static_cast<Scalar>(tau * penalty.l1);
    for (Index t = 0; t < row.size(); ++t) {
      const Scalar v = row[t];
      row[t] = v > threshold ? v - threshold : (v < -threshold ? v + threshold : Scalar(0));
    }
  }
  if (penalty.l21 > 0) {
    const Scalar norm = row.norm(), threshold = static_cast<Scalar>(tau * penalty.l21);
    if (norm <= threshold) {
      row.setZero();
    } else {
      row *= (norm - threshold) / norm;
    }
  }
}

/// W <- prox_{tau Omega}(W) for W (d, T): row by row for l1/l21, singular-value
/// thresholding W = U diag((sigma - tau rho_*)_+) V^T for the trace norm (used alone).
template <typename Derived>
void penalty_prox(const SparsityPenalty& penalty, double tau, Eigen::MatrixBase<Derived>& W) {
  using Scalar = typename Derived::Scalar;
  if (!penalty.active()) return;
  if (penalty.trace > 0) {
    Matrix<Scalar> shrunk = W;
    shrink_singular_values(shrunk, static_cast<Scalar>(tau * penalty.trace));
    W = shrunk;
    return;
  }
  for (Index j = 0; j < W.rows(); ++j) prox_row(penalty, tau, W.row(j));
}

/// ||S_c(v)||_2 with S_c the soft-thresholding at c >= 0.
template <typename Vec>
double soft_thresholded_norm(const Vec& v, double c) {
  double squared = 0;
  for (Index t = 0; t < v.size(); ++t) {
    const double excess = std::abs(static_cast<double>(v[t])) - c;
    if (excess > 0) squared += excess * excess;
  }
  return std::sqrt(squared);
}

/// dist(-g, d Omega(w)): the smallest norm of g + z over subgradients z of Omega at the row w.
template <typename GradRow, typename CoefRow>
double row_kkt_violation(const SparsityPenalty& penalty, const GradRow& g, const CoefRow& w) {
  const Index T = g.size();
  const double w_norm = static_cast<double>(w.norm());
  if (w_norm == 0) {
    // z ranges over {u + v : |u_t| <= rho_1, ||v|| <= rho_21}: distance (||S_rho1(g)|| - rho_21)_+.
    return std::max(0.0, soft_thresholded_norm(g, penalty.l1) - penalty.l21);
  }
  // The l21 subgradient is fixed (rho_21 w / ||w||); l1 is fixed on non-zero entries, free in [-rho_1, rho_1] on zeros.
  double squared = 0;
  for (Index t = 0; t < T; ++t) {
    double e = static_cast<double>(g[t]) + penalty.l21 * static_cast<double>(w[t]) / w_norm;
    if (w[t] != 0) {
      e += penalty.l1 * (w[t] > 0 ? 1.0 : -1.0);
    } else {
      e = std::copysign(std::max(0.0, std::abs(e) - penalty.l1), e);
    }
    squared += e * e;
  }
  return std::sqrt(squared);
}

/// Omega*(v) for one row v: the smallest s >= 0 with ||S_{s rho_1}(v)|| <= s rho_21,
/// so that v / s is dual feasible. Closed form for l1 or l21 alone; bisection for both.
template <typename Vec>
double row_dual_norm(const SparsityPenalty& penalty, const Vec& v) {
  const double max_abs = static_cast<double>(v.cwiseAbs().maxCoeff());
  if (max_abs == 0) return 0;
  if (penalty.l21 == 0) return max_abs / penalty.l1;
  if (penalty.l1 == 0) return static_cast<double>(v.norm()) / penalty.l21;
  // h(s) = ||S_{s rho1}(v)|| - s rho21 decreases in s; h(max|v| / rho1) < 0 < h(0) for v != 0.
  double low = 0, high = max_abs / penalty.l1;
  for (int k = 0; k < 100 && high - low > 1e-15 * high; ++k) {
    const double mid = (low + high) / 2;
    (soft_thresholded_norm(v, mid * penalty.l1) > mid * penalty.l21 ? low : high) = mid;
  }
  return high;
}

/// The smallest rho_21 with W = 0 optimal, given rho_1, from the smooth gradient
/// G0 (d, T) at W = 0: max_j ||S_rho1(row_j(G0))||.
template <typename Derived>
double l21_max(const Eigen::MatrixBase<Derived>& G0, double l1) {
  double best = 0;
  for (Index j = 0; j < G0.rows(); ++j) best = std::max(best, soft_thresholded_norm(G0.row(j), l1));
  return best;
}

/// The penalty as the prox of the accelerated gradient over x = [vec(W); b]
/// (W (d, T) column-major, intercepts b unpenalised).
struct CoefficientProx {
  static constexpr bool is_identity = false;
  SparsityPenalty penalty;
  Index n_features, n_tasks;

  template <typename Scalar>
  void apply(Vector<Scalar>& x, double tau) const {
    Eigen::Map<Matrix<Scalar>> W(x.data(), n_features, n_tasks);
    penalty_prox(penalty, tau, W);
  }
  template <typename Scalar>
  double value(const Vector<Scalar>& x) const {
    return penalty_value(penalty, Eigen::Map<const Matrix<Scalar>>(x.data(), n_features, n_tasks));
  }
};

}  // namespace multitask
