// The structure penalties on W (d, T) (row j: feature j in every task):
//
//   Omega(W) = rho_1 sum_{j,t} |W_jt| + rho_21 sum_j ||row_j(W)||_2 + rho_* ||W||_*
//
// (l1: entries; l21: joint feature selection; trace norm ||W||_* = sum of
// singular values: a shared low-rank representation), as two types:
// RowSparsePenalty (l1 and l21, which separate over the rows) and
// TraceNormPenalty (used alone; its prox is singular-value thresholding).
// SparsityPenalty is the penalty of a fit: one of them, or none. Every penalty
// type has value(W), prox(tau, W) and penalty_max(G0, ...) (the smallest
// weight with W = 0 optimal, from the smooth gradient G0 at 0; see
// penalty_max.hpp). The row penalty, per row:
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
#include <limits>
#include <string>

#include <multitask/common/types.hpp>
#include <multitask/linalg/thin_svd.hpp>

namespace multitask {

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

/// The smallest c >= 0 with ||S_c(v)|| <= l21 (bisection; max |v_i| when l21 = 0).
template <typename Vec>
double smallest_l1_weight(const Vec& v, double l21) {
  const double max_abs = v.size() ? static_cast<double>(v.cwiseAbs().maxCoeff()) : 0.0;
  if (l21 == 0 || max_abs == 0) return max_abs;
  double low = 0, high = max_abs;  // ||S_c(v)|| decreases in c, and is 0 at max_abs
  for (int step = 0; step < 200 && high - low > 1e-15 * high; ++step) {
    const double middle = (low + high) / 2;
    (soft_thresholded_norm(v, middle) > l21 ? low : high) = middle;
  }
  return high;
}

/// rho_1 sum_{j,t} |W_jt| + rho_21 sum_j ||row_j(W)||_2: separable over the feature rows.
struct RowSparsePenalty {
  double l1 = 0;   // rho_1
  double l21 = 0;  // rho_21

  bool active() const { return l1 > 0 || l21 > 0; }

  template <typename Derived>
  double value(const Eigen::MatrixBase<Derived>& W) const {
    double total = 0;
    if (l1 > 0) total += l1 * static_cast<double>(W.cwiseAbs().sum());
    if (l21 > 0) total += l21 * static_cast<double>(W.rowwise().norm().sum());
    return total;
  }

  /// row <- prox_{tau Omega}(row) for one row (T entries), in place.
  template <typename Row>
  void prox_row(double tau, Row&& row) const {
    using Scalar = typename std::decay_t<Row>::Scalar;
    if (l1 > 0) {
      const Scalar threshold = static_cast<Scalar>(tau * l1);
      for (Index t = 0; t < row.size(); ++t) {
        const Scalar v = row[t];
        row[t] = v > threshold ? v - threshold : (v < -threshold ? v + threshold : Scalar(0));
      }
    }
    if (l21 > 0) {
      const Scalar norm = row.norm(), threshold = static_cast<Scalar>(tau * l21);
      if (norm <= threshold) {
        row.setZero();
      } else {
        row *= (norm - threshold) / norm;
      }
    }
  }

  /// W <- prox_{tau Omega}(W) for W (d, T), row by row.
  template <typename Derived>
  void prox(double tau, Eigen::MatrixBase<Derived>& W) const {
    for (Index j = 0; j < W.rows(); ++j) prox_row(tau, W.row(j));
  }

  /// dist(-g, d Omega(w)): the smallest norm of g + z over subgradients z of Omega at the row w.
  template <typename GradRow, typename CoefRow>
  double row_kkt_violation(const GradRow& g, const CoefRow& w) const {
    const Index T = g.size();
    const double w_norm = static_cast<double>(w.norm());
    if (w_norm == 0) {
      // z ranges over {u + v : |u_t| <= rho_1, ||v|| <= rho_21}: distance (||S_rho1(g)|| - rho_21)_+.
      return std::max(0.0, soft_thresholded_norm(g, l1) - l21);
    }
    // The l21 subgradient is fixed (rho_21 w / ||w||); l1 is fixed on non-zero entries, free in [-rho_1, rho_1] on zeros.
    double squared = 0;
    for (Index t = 0; t < T; ++t) {
      double e = static_cast<double>(g[t]) + l21 * static_cast<double>(w[t]) / w_norm;
      if (w[t] != 0) {
        e += l1 * (w[t] > 0 ? 1.0 : -1.0);
      } else {
        e = std::copysign(std::max(0.0, std::abs(e) - l1), e);
      }
      squared += e * e;
    }
    return std::sqrt(squared);
  }

  /// Omega*(v) for one row v: the smallest s >= 0 with ||S_{s rho_1}(v)|| <= s rho_21,
  /// so that v / s is dual feasible. Closed form for l1 or l21 alone; bisection for both.
  template <typename Vec>
  double row_dual_norm(const Vec& v) const {
    const double max_abs = static_cast<double>(v.cwiseAbs().maxCoeff());
    if (max_abs == 0) return 0;
    if (l21 == 0) return max_abs / l1;
    if (l1 == 0) return static_cast<double>(v.norm()) / l21;
    // h(s) = ||S_{s rho1}(v)|| - s rho21 decreases in s; h(max|v| / rho1) < 0 < h(0) for v != 0.
    double low = 0, high = max_abs / l1;
    for (int k = 0; k < 100 && high - low > 1e-15 * high; ++k) {
      const double mid = (low + high) / 2;
      (soft_thresholded_norm(v, mid * l1) > mid * l21 ? low : high) = mid;
    }
    return high;
  }

  /// The smallest weight of `which` ("l21" or "l1") with W = 0 optimal, the
  /// other weight as this penalty has it, from G0 (d, T):
  ///   l21: max_j ||S_rho1(row_j(G0))||;   l1: max_j min{c : ||S_c(row_j(G0))|| <= rho_21}.
  template <typename Derived>
  double penalty_max(const Eigen::MatrixBase<Derived>& G0, const std::string& which) const {
    require(which == "l21" || which == "l1", "a row penalty's weight is 'l21' or 'l1', got '" + which + "'");
    double best = 0;
    for (Index j = 0; j < G0.rows(); ++j)
      best = std::max(best, which == "l21" ? soft_thresholded_norm(G0.row(j), l1) : smallest_l1_weight(G0.row(j), l21));
    return best;
  }
};

/// ||W||_* = sum of the singular values of W (computed in double precision).
template <typename Scalar>
Scalar nuclear_norm(const Matrix<Scalar>& W) {
  return static_cast<Scalar>(thin_svd(W.template cast<double>(), false).singular.sum());
}

/// rho_* ||W||_*: the trace norm, a shared low-rank representation (not separable).
struct TraceNormPenalty {
  double weight = 0;  // rho_*

  bool active() const { return weight > 0; }

  template <typename Derived>
  double value(const Eigen::MatrixBase<Derived>& W) const {
    using Scalar = typename Derived::Scalar;
    return weight > 0 ? weight * static_cast<double>(nuclear_norm(Matrix<Scalar>(W))) : 0.0;
  }

  /// W <- U diag((sigma - tau rho_*)_+) V^T for W = U diag(sigma) V^T (singular-value thresholding).
  template <typename Derived>
  void prox(double tau, Eigen::MatrixBase<Derived>& W) const {
    threshold(W, tau);
  }

  /// prox(tau, W), returning the factors of the result: U, the shrunk singular
  /// values (exact zeros past the rank) and V^T.
  template <typename Derived>
  ThinSvd threshold(Eigen::MatrixBase<Derived>& W, double tau) const {
    using Scalar = typename Derived::Scalar;
    ThinSvd svd;
    if (W.rows() < W.cols()) {  // the SVD of W^T, transposed back: LAPACK's tall path (QR first) is faster
      ThinSvd transposed = thin_svd(Matrix<double>(W.transpose().template cast<double>()), true);
      svd.U = transposed.Vt.transpose();
      svd.singular = std::move(transposed.singular);
      svd.Vt = transposed.U.transpose();
    } else {
      svd = thin_svd(Matrix<double>(W.template cast<double>()), true);
    }
    svd.singular = (svd.singular.array() - tau * weight).cwiseMax(0.0).matrix();
    W = (svd.U * svd.singular.asDiagonal() * svd.Vt).template cast<Scalar>();
    return svd;
  }

  /// dist(-G, rho_* d||W||_*) in the Frobenius norm, for the smooth gradient G
  /// (d, T) at W = U diag(s) V^T given by its thin SVD `factors` (the rank r:
  /// singular values above max(d, T) eps s_max, numpy's matrix_rank rule).
  /// The subdifferential is {rho (U_r V_r^T + P) : U_r^T P = 0, P V_r = 0,
  /// ||P||_2 <= 1}; in the blocks of E = -G along U_r and its complement
  /// (rows) and V_r and its complement (columns) it fixes U_r^T E V_r = rho I,
  /// zeroes the two mixed blocks, and bounds the complement block B's spectral
  /// norm by rho. These blocks are orthogonal, so the squared distance is
  ///   ||U_r^T E V_r - rho I||^2 + ||U_r^T E (I - V_r V_r^T)||^2
  ///   + ||(I - U_r U_r^T) E V_r||^2 + sum_i (sigma_i(B) - rho)_+^2.
  double kkt_violation(const Matrix<double>& G, const ThinSvd& factors) const {
    const Index d = G.rows(), T = G.cols();
    const Vector<double>& s = factors.singular;
    const double cut = s.size() ? static_cast<double>(std::max(d, T)) * std::numeric_limits<double>::epsilon() * s[0]
                                : 0.0;
    Index r = 0;
    while (r < s.size() && s[r] > cut) ++r;
    const Matrix<double> E = -G;
    if (r == 0) return std::max(0.0, soft_thresholded_norm(thin_svd(E, false).singular, weight));
    const auto U = factors.U.leftCols(r);
    const Matrix<double> V = factors.Vt.topRows(r).transpose();
    const Matrix<double> EV = E * V, UtE = U.transpose() * E;
    const Matrix<double> UtEV = U.transpose() * EV;
    double squared = (UtEV - weight * Matrix<double>::Identity(r, r)).squaredNorm();
    squared += (UtE - UtEV * V.transpose()).squaredNorm();  // U^T E (I - V V^T)
    squared += (EV - U * UtEV).squaredNorm();              // (I - U U^T) E V
    const Matrix<double> B = E - U * UtE - (EV - U * UtEV) * V.transpose();
    const double complement = soft_thresholded_norm(thin_svd(B, false).singular, weight);
    return std::sqrt(squared + complement * complement);
  }

  /// The smallest rho_* with W = 0 optimal: ||G0||_2, the largest singular value of G0.
  template <typename Derived>
  static double penalty_max(const Eigen::MatrixBase<Derived>& G0) {
    if (G0.size() == 0) return 0;
    return thin_svd(Matrix<double>(G0), false).singular[0];
  }
};

/// The structure penalty of a fit: the row penalty or the trace norm (not
/// both), or none. value and prox dispatch to the one that is active.
struct SparsityPenalty {
  RowSparsePenalty rows;
  TraceNormPenalty trace_norm;

  /// The penalty with these weights, checked: finite, non-negative, and the
  /// trace norm not combined with l1 or l21; InvalidArgument otherwise.
  static SparsityPenalty from_weights(double l1, double l21, double trace_norm) {
    require(l1 >= 0 && l21 >= 0 && trace_norm >= 0 && std::isfinite(l1) && std::isfinite(l21) &&
                std::isfinite(trace_norm),
            "l1, l21 and trace_norm must be finite and non-negative");
    require(trace_norm == 0 || (l1 == 0 && l21 == 0), "the trace-norm penalty cannot be combined with l1 or l21");
    return SparsityPenalty{RowSparsePenalty{l1, l21}, TraceNormPenalty{trace_norm}};
  }

  bool active() const { return rows.active() || trace_norm.active(); }
  bool row_separable() const { return !trace_norm.active(); }

  template <typename Derived>
  double value(const Eigen::MatrixBase<Derived>& W) const {
    return rows.value(W) + trace_norm.value(W);
  }

  template <typename Derived>
  void prox(double tau, Eigen::MatrixBase<Derived>& W) const {
    if (trace_norm.active())
      trace_norm.prox(tau, W);
    else if (rows.active())
      rows.prox(tau, W);
  }
};

/// The penalty as the prox of the accelerated gradient over x = [vec(W); b]
/// (W (d, T) column-major, intercepts b unpenalised).
struct CoefficientProx {
  static constexpr bool is_identity = false;
  SparsityPenalty penalty;
  Index n_features, n_tasks;

  template <typename Scalar>
  void apply(Vector<Scalar>& x, double tau) const {
    Eigen::Map<Matrix<Scalar>> W(x.data(), n_features, n_tasks);
    penalty.prox(tau, W);
  }
  template <typename Scalar>
  double value(const Vector<Scalar>& x) const {
    return penalty.value(Eigen::Map<const Matrix<Scalar>>(x.data(), n_features, n_tasks));
  }
};

}  // namespace multitask
