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

#include <Eigen/Cholesky>
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/types.hpp>
#include <multitask/linalg/recursive_qr.hpp>

namespace multitask {

/// Bandwidth of the band reduction. Measured on one core (bench/cpp/band_reduction_bench.cpp,
/// x86-64-v3, Eigen's own products, a busy 2-core machine): the reduction took 0.88, 0.86,
/// 0.84, 0.82, 0.83 s for b = 32, 48, 64, 96, 128 at n = 2000 (Eigen's LLT 0.18 s) and
/// 14.4, 11.9, 11.5 s for b = 32, 64, 96 at n = 4000, while one shifted factorisation
/// and 5 solves took 2.2, 8.9, 29 ms at n = 4000 (O(n b^2), paid per alpha). 64 balances
/// the two for paths of tens of alphas.
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

/// The Cholesky factor of the band matrix B + shift I (B from BandReduction::band()),
/// for solves with several right-hand sides. With blocks of b rows (b the
/// bandwidth), B + shift I is block tridiagonal: diagonal blocks D_i (symmetric)
/// and sub-diagonal blocks C_i = B[(i+1)b:, ib:] (upper triangular, as nothing lies
/// more than b below the diagonal). Its factor is block bidiagonal:
///     L_i L_i^T = D_i + shift I - E_{i-1} E_{i-1}^T,   E_i = C_i L_i^{-T},
/// dense b x b products, factorisations and triangular solves (BLAS-3 in the
/// extension), about 3 n b^2 flops, instead of a loop over single columns.
template <typename Work>
class ShiftedBandFactor {
 public:
  /// Factorises B + shift I. Returns false when a pivot d_j = L(j, j)^2 of the
  /// factorisation (the pivots of LDL^T, the same quantities as tridiagonal_pivots')
  /// is not above `floor`: the matrix is then not positive definite to working precision.
  bool factor(const Matrix<Work>& band, Work shift, Work floor) {
    const Index n = band.cols(), b = band.rows() - 1, blocks = (n + b - 1) / b;
    diagonal_.resize(static_cast<std::size_t>(blocks));
    below_.resize(static_cast<std::size_t>(blocks - 1));
    Matrix<Work> product;
    for (Index i = 0; i < blocks; ++i) {
      const Index first = i * b, size = std::min(b, n - first);
      Matrix<Work>& L = diagonal_[static_cast<std::size_t>(i)];
      L.resize(size, size);
      for (Index c = 0; c < size; ++c) L.col(c).tail(size - c) = band.col(first + c).head(size - c);  // lower triangle
      L.diagonal().array() += shift;
      if (i > 0) {
        const Matrix<Work>& E = below_[static_cast<std::size_t>(i - 1)];
        product.noalias() = E * E.transpose();
        L.template triangularView<Eigen::Lower>() -= product;
      }
      const Eigen::LLT<Eigen::Ref<Matrix<Work>>> llt(L);  // in place
      if (llt.info() != Eigen::Success || !(L.diagonal().array().square() > floor).all()) return false;
      if (i + 1 == blocks) break;
      const Index next = std::min(b, n - first - size);
      Matrix<Work>& E = below_[static_cast<std::size_t>(i)];
      E = Matrix<Work>::Zero(next, size);  // C_i(r, c) = B(first + b + r, first + c) = band(b + r - c, first + c), r <= c
      for (Index c = 0; c < size; ++c)
        for (Index r = 0; r <= std::min(c, next - 1); ++r) E(r, c) = band(b + r - c, first + c);
      L.template triangularView<Eigen::Lower>().transpose().template solveInPlace<Eigen::OnTheRight>(E);
    }
    return true;
  }

  /// Solves (B + shift I) X = RHS in place, RHS (n, m): L^{-1} block by block
  /// forwards, then L^{-T} backwards.
  void solve_in_place(Matrix<Work>& rhs) const {
    const Index blocks = static_cast<Index>(diagonal_.size());
    Index first = 0;
    for (Index i = 0; i < blocks; ++i) {
      const Matrix<Work>& L = diagonal_[static_cast<std::size_t>(i)];
      auto X = rhs.middleRows(first, L.rows());
      if (i > 0) {
        const Matrix<Work>& E = below_[static_cast<std::size_t>(i - 1)];
        X.noalias() -= E * rhs.middleRows(first - E.cols(), E.cols());
      }
      L.template triangularView<Eigen::Lower>().solveInPlace(X);
      first += L.rows();
    }
    for (Index i = blocks - 1; i >= 0; --i) {
      const Matrix<Work>& L = diagonal_[static_cast<std::size_t>(i)];
      first -= L.rows();
      auto X = rhs.middleRows(first, L.rows());
      if (i + 1 < blocks) {
        const Matrix<Work>& E = below_[static_cast<std::size_t>(i)];
        X.noalias() -= E.transpose() * rhs.middleRows(first + L.rows(), E.rows());
      }
      L.template triangularView<Eigen::Lower>().transpose().solveInPlace(X);
    }
  }

 private:
  std::vector<Matrix<Work>> diagonal_;  // L_i, lower triangular (b, b) (the last one smaller)
  std::vector<Matrix<Work>> below_;     // E_i = C_i L_i^{-T} (b, b) (the last one fewer rows)
};

}  // namespace multitask
