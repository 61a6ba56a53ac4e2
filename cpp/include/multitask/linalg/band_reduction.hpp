// Reduction of a symmetric matrix to symmetric band form by block Householder
// transformations (the first stage of a two-stage tridiagonalisation), and
// shifted solves with the band matrix: the reduction of the kernel matrix for
// the alpha path (kernel_ridge_path.hpp).
//
// Why a band: the Householder reduction to tridiagonal form
// (blocked_tridiagonalization.hpp) needs one symmetric matrix-vector product
// with the whole trailing matrix per column, so even blocked it runs at memory
// bandwidth. Reducing to bandwidth b instead eliminates b columns at once with
// matrix-matrix products only (same (4/3) n^3 flops, compute-bound), and a
// shifted band system B + alpha I is still cheap to solve: O(n b^2) to factorise,
// O(n b) per right-hand side.
//
// The maths. For k = 0, b, 2b, ... while the panel A[k+b:, k:k+b] has m >= 2 rows:
//   panel = Q_k R                    (Householder QR, w = min(m, b) reflectors)
//   Q_k   = I - V T V^T              (compact WY: V unit lower trapezoidal (m, w),
//                                     T upper triangular (w, w))
//   A22  <- Q_k^T A22 Q_k            (A22 = A[k+b:, k+b:], two-sided)
// Since Q_k^T A21 = R is upper triangular, columns k..k+b-1 then have no entry
// more than b below the diagonal. With X = A22 V T, the two-sided product is
//   Q^T A22 Q = A22 - X V^T - V X^T + V (T^T V^T X) V^T = A22 - V W^T - W V^T,
//   W = X - (1/2) V (T^T (V^T X)),
// (T^T V^T X = T^T V^T A22 V T is symmetric), a rank-2w update of the lower
// triangle. Then G = P B P^T with P = Q_0 Q_1 ... (each Q_k acting on rows k+b..).
//
// Storage (in G's own): B's lower band (A(i, j), 0 <= i - j <= b) stays in place;
// the reflectors' essential parts lie strictly below R, i.e. more than b below
// the diagonal, exactly where B is zero.
#pragma once

#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/types.hpp>
#include <multitask/linalg/recursive_qr.hpp>

namespace multitask {

/// Bandwidth of the band reduction. Measured on one core (bench/cpp/band_reduction_bench.cpp,
/// n = 2000 and 4000): the reduction's time falls as b grows to about 64 (the
/// rank-2b updates and the symmetric products become deeper GEMMs) and then
/// flattens while the panel QR (n^2 b flops, less efficient) and the per-alpha
/// band factorisation (n b^2) grow.
constexpr Index band_reduction_width = 64;

/// Band reduction G = P B P^T of the symmetric G (n, n), lower triangle given.
/// A template (Work = double only) like TridiagonalReduction, so that a unit
/// including the header compiles it only if it uses it.
template <typename Work>
class BandReduction {
  static_assert(std::is_same_v<Work, double>, "the band reduction works in double");

 public:
  /// Reduces G with bandwidth `bandwidth` (>= 1; capped at n - 1).
  explicit BandReduction(Matrix<Work> G, Index bandwidth = band_reduction_width)
      : storage_(std::move(G)), width_(std::max<Index>(1, std::min(bandwidth, storage_.rows() - 1))) {
    reduce();
    const Index n = storage_.rows();
    band_ = Matrix<Work>::Zero(width_ + 1, n);  // band_(d, j) = B(j + d, j)
    for (Index j = 0; j < n; ++j) {
      const Index length = std::min(width_ + 1, n - j);
      band_.col(j).head(length) = storage_.col(j).segment(j, length);
    }
  }

  Index size() const { return storage_.rows(); }
  Index bandwidth() const { return width_; }
  /// B in compact lower band storage: band()(d, j) = B(j + d, j), (bandwidth + 1, n).
  const Matrix<Work>& band() const { return band_; }
  /// max_j |B(j, j)|: the scale of the pivots of B + shift I.
  Work diagonal_scale() const { return band_.row(0).cwiseAbs().maxCoeff(); }

  /// P^T X for X (n, m): Q_{p-1}^T ... Q_0^T X.
  Matrix<Work> to_basis(Matrix<Work> X) const {
    for (std::size_t p = 0; p < panels_.size(); ++p) apply(p, /*transposed=*/true, X);
    return X;
  }
  /// P X for X (n, m): Q_0 (Q_1 (... Q_{p-1} X)).
  Matrix<Work> from_basis(Matrix<Work> X) const {
    for (std::size_t p = panels_.size(); p-- > 0;) apply(p, /*transposed=*/false, X);
    return X;
  }

 private:
  struct Panel {
    Index first;      // the panel's first column k; its reflectors act on rows k + b ..
    Matrix<Work> T;   // (w, w) upper triangular: Q = I - V T V^T
  };

  Matrix<Work> storage_;  // band of B and the reflectors (see the file comment)
  Index width_;
  Matrix<Work> band_;
  std::vector<Panel> panels_;

  /// V of panel p as a dense (m, w) matrix: unit diagonal, zeros above.
  Matrix<Work> reflectors(const Panel& panel) const {
    const Index rows = storage_.rows() - panel.first - width_;
    return unit_lower_reflectors(storage_.block(panel.first + width_, panel.first, rows, panel.T.cols()),
                                 panel.T.cols());
  }

  /// X <- Q_p X or Q_p^T X on the rows Q_p acts on: X -= V T V^T X (T^T when transposed).
  void apply(std::size_t p, bool transposed, Matrix<Work>& X) const {
    const Panel& panel = panels_[p];
    const Matrix<Work> V = reflectors(panel);
    auto rows = X.bottomRows(V.rows());
    Matrix<Work> VtX = V.transpose() * rows;
    if (transposed)
      VtX = panel.T.template triangularView<Eigen::Upper>().transpose() * VtX;
    else
      VtX = panel.T.template triangularView<Eigen::Upper>() * VtX;
    rows.noalias() -= V * VtX;
  }

  void reduce() {
    const Index n = storage_.rows(), b = width_;
    Matrix<Work> V, X, UW, WV;  // reused between panels
    for (Index k = 0; k + b + 1 < n; k += b) {
      const Index m = n - k - b, w = std::min(m, b);
      poll_interrupt(2.0 * static_cast<double>(m) * static_cast<double>(b) * static_cast<double>(b));
      // Householder QR of the panel in place (R on and above its diagonal, the
      // reflectors' essential parts below) and the T of Q = I - V T V^T.
      panels_.push_back(Panel{k, Matrix<Work>(w, w)});
      recursive_qr<Work>(storage_.block(k + b, k, m, b), panels_.back().T);
      V = unit_lower_reflectors(storage_.block(k + b, k, m, w), w);
      const Matrix<Work>& T = panels_.back().T;
      auto A22 = storage_.block(k + b, k + b, m, m);
      // X = A22 V T (symmetric product, lower triangle read).
      const Matrix<Work> VT = V * T.template triangularView<Eigen::Upper>();
      X.noalias() = A22.template selfadjointView<Eigen::Lower>() * VT;
      // W = X - (1/2) V (T^T (V^T X)).
      Matrix<Work> VtX = V.transpose() * X;
      VtX = T.template triangularView<Eigen::Upper>().transpose() * VtX;
      X.noalias() -= Work(0.5) * V * VtX;  // X now holds W
      // A22 -= V W^T + W V^T = [V W] [W V]^T (lower triangle), one GEMM of depth 2w per
      // block of columns, polled between blocks.
      UW.resize(m, 2 * w);
      UW << V, X;
      WV.resize(m, 2 * w);
      WV << X, V;
      // The diagonal blocks' products are formed whole (a GEMM, i.e. a BLAS call in
      // the extension; Eigen's triangular product would run its own kernel) and
      // only their lower triangles subtracted.
      constexpr Index kUpdateColumns = 256;
      Matrix<Work> square;
      for (Index j = 0; j < m; j += kUpdateColumns) {
        const Index cols = std::min(kUpdateColumns, m - j), below = m - j - cols;
        square.noalias() = UW.middleRows(j, cols) * WV.middleRows(j, cols).transpose();
        A22.block(j, j, cols, cols).template triangularView<Eigen::Lower>() -= square;
        if (below > 0)
          A22.block(j + cols, j, below, cols).noalias() -=
              UW.bottomRows(below) * WV.middleRows(j, cols).transpose();
        poll_interrupt(4.0 * static_cast<double>(m - j) * static_cast<double>(cols) * static_cast<double>(w));
      }
    }
  }
};

/// LDL^T-style pivots and the Cholesky factor of the band matrix B + shift I
/// (B from BandReduction::band()), for solves with several right-hand sides.
template <typename Work>
class ShiftedBandFactor {
 public:
  /// Factorises B + shift I = L L^T in compact band storage (O(n b^2)). Returns
  /// false at the first pivot d_j = L(j, j)^2 not above `floor` (the matrix is
  /// then not positive definite to working precision); d_j are the pivots of the
  /// LDL^T factorisation, the same quantities as tridiagonal_pivots'.
  bool factor(const Matrix<Work>& band, Work shift, Work floor) {
    factor_ = band;
    factor_.row(0).array() += shift;
    const Index n = factor_.cols(), b = factor_.rows() - 1;
    // Right-looking: column j scaled by 1 / L(j, j), then the trailing band
    // updated, B(j + r, j + c) -= l_r l_c for 1 <= c <= r <= b, stored at (r - c, j + c).
    for (Index j = 0; j < n; ++j) {
      const Work pivot = factor_(0, j);
      if (!(pivot > floor)) return false;
      const Work root = std::sqrt(pivot);
      const Index below = std::min(b, n - 1 - j);
      factor_(0, j) = root;
      factor_.col(j).segment(1, below) /= root;
      for (Index c = 1; c <= below; ++c)
        factor_.col(j + c).head(below - c + 1).noalias() -= factor_(c, j) * factor_.col(j).segment(c, below - c + 1);
    }
    return true;
  }

  /// Solves (B + shift I) X = RHS in place, RHS (n, m): L^{-1}, then L^{-T}.
  void solve_in_place(Matrix<Work>& rhs) const {
    const Index n = factor_.cols(), b = factor_.rows() - 1;
    for (Index j = 0; j < n; ++j) {
      rhs.row(j) /= factor_(0, j);
      const Index below = std::min(b, n - 1 - j);
      if (below > 0) rhs.middleRows(j + 1, below).noalias() -= factor_.col(j).segment(1, below) * rhs.row(j);
    }
    for (Index j = n - 1; j >= 0; --j) {
      const Index below = std::min(b, n - 1 - j);
      if (below > 0) rhs.row(j).noalias() -= factor_.col(j).segment(1, below).transpose() * rhs.middleRows(j + 1, below);
      rhs.row(j) /= factor_(0, j);
    }
  }

 private:
  Matrix<Work> factor_;  // L in compact band storage: factor_(d, j) = L(j + d, j)
};

}  // namespace multitask
