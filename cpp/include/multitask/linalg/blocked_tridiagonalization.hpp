// Householder reduction of a symmetric matrix to tridiagonal form, blocked as
// LAPACK's dsytrd/dlatrd: the reduction of kernel matrices for the alpha path
// (kernel_ridge_path.hpp). Eigen's Tridiagonalization applies every reflector to
// the trailing matrix at once (a rank-2 update: it reads and writes the whole
// trailing triangle per column, on top of the symmetric product), which makes it
// bound by memory bandwidth; here the updates of a panel of columns are deferred
// and applied together as one rank-2k update (BLAS-3), so each column streams
// the trailing triangle once, read-only.
#pragma once

#include <Eigen/Householder>
#include <algorithm>
#include <type_traits>
#include <utility>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/types.hpp>

namespace multitask {

/// Columns whose reflectors are applied together.
constexpr Index tridiagonal_panel = 32;

/// Reduces the symmetric A (n, n), lower triangle read, in place to A = P Tr P^T
/// with P = H_0 H_1 ... H_{n-2}, H_c = I - tau_c v_c v_c^T. Storage as Eigen's
/// Tridiagonalization (so Eigen's HouseholderSequence applies P): on return the
/// diagonal of A is Tr's diagonal, A(c+1, c) its sub-diagonal, v_c = (1, A(c+2:, c))
/// below it, and tau_out(c) = tau_c (n - 1).
///
/// Per column c of a panel starting at k, with V, W (the v_i, w_i of the panel's
/// earlier columns) and A still as at the panel's start below and right of it:
///     a_c  -= V W(c,:)^T + W V(c,:)^T                  (bring column c up to date)
///     v_c, tau_c from a_c(c+1:)                        (Householder)
///     p     = tau_c (A v_c - V (W^T v_c) - W (V^T v_c)) (A v_c with the deferred updates)
///     w_c   = p - (tau_c / 2) (p^T v_c) v_c
/// so that H_c A_c H_c = A_c - v_c w_c^T - w_c v_c^T; after the panel, the trailing
/// lower triangle gets -= V W^T + W V^T.
template <typename Derived>
void tridiagonalize_blocked(Eigen::MatrixBase<Derived>& A, Vector<double>& tau_out) {
  const Index n = A.rows();
  tau_out.resize(std::max<Index>(n - 1, 0));
  Matrix<double> V(n, tridiagonal_panel), W(n, tridiagonal_panel);  // row r: global row k + r
  Vector<double> v, p;
  for (Index k = 0; k + 1 < n; k += tridiagonal_panel) {
    const Index width = std::min(tridiagonal_panel, n - 1 - k);
    for (Index j = 0; j < width; ++j) {
      const Index c = k + j, below = n - c - 1;
      poll_interrupt(static_cast<double>(below) * static_cast<double>(below));  // the symmetric product below
      if (j > 0) {
        A.col(c).tail(below + 1).noalias() -= V.block(j, 0, below + 1, j) * W.block(j, 0, 1, j).transpose();
        A.col(c).tail(below + 1).noalias() -= W.block(j, 0, below + 1, j) * V.block(j, 0, 1, j).transpose();
      }
      double tau, beta;
      A.col(c).tail(below).makeHouseholderInPlace(tau, beta);
      A(c + 1, c) = beta;
      tau_out[c] = tau;
      v.resize(below);
      v[0] = 1;
      v.tail(below - 1) = A.col(c).tail(below - 1);
      p.noalias() = A.bottomRightCorner(below, below).template selfadjointView<Eigen::Lower>() * v;
      if (j > 0) {
        const Vector<double> Wv = W.block(j + 1, 0, below, j).transpose() * v;
        const Vector<double> Vv = V.block(j + 1, 0, below, j).transpose() * v;
        p.noalias() -= V.block(j + 1, 0, below, j) * Wv;
        p.noalias() -= W.block(j + 1, 0, below, j) * Vv;
      }
      p *= tau;
      p -= (0.5 * tau * p.dot(v)) * v;
      V.col(j).head(j + 1).setZero();
      W.col(j).head(j + 1).setZero();
      V.col(j).segment(j + 1, below) = v;
      W.col(j).segment(j + 1, below) = p;
    }
    // The trailing matrix after the panel, by blocks of columns (each its lower
    // triangular diagonal block, then a GEMM below it), polled between blocks:
    // the whole update is 2 rest^2 width flops, seconds for rest ~ 10^4.
    const Index rest = n - k - width, start = k + width;
    constexpr Index kUpdateColumns = 256;
    for (Index j = 0; j < rest; j += kUpdateColumns) {
      const Index cols = std::min(kUpdateColumns, rest - j), below_block = rest - j - cols;
      const auto V_j = V.block(width + j, 0, cols, width), W_j = W.block(width + j, 0, cols, width);
      auto diagonal = A.block(start + j, start + j, cols, cols).template triangularView<Eigen::Lower>();
      diagonal -= V_j * W_j.transpose();
      diagonal -= W_j * V_j.transpose();
      if (below_block > 0) {
        auto lower = A.block(start + j + cols, start + j, below_block, cols);
        lower.noalias() -= V.block(width + j + cols, 0, below_block, width) * W_j.transpose();
        lower.noalias() -= W.block(width + j + cols, 0, below_block, width) * V_j.transpose();
      }
      poll_interrupt(4.0 * static_cast<double>(rest - j) * static_cast<double>(cols) * static_cast<double>(width));
    }
  }
}

/// The reduction G = P Tr P^T of the symmetric G (n, n), lower triangle given
/// (tridiagonalize_blocked), done in G's storage; P applied as Householder reflectors.
/// A template (Work = double only) so that a unit including this header compiles
/// the Householder products only if it uses them.
template <typename Work>
struct TridiagonalReduction {
  static_assert(std::is_same_v<Work, double>, "the blocked reduction works in double");
  Matrix<Work> reflectors;  // (n, n) the reflectors below the sub-diagonal
  Vector<Work> tau;         // (n - 1)
  Vector<Work> main;        // (n) diagonal of Tr
  Vector<Work> off;         // (n - 1) sub-diagonal of Tr

  explicit TridiagonalReduction(Matrix<Work> G) : reflectors(std::move(G)) {
    tridiagonalize_blocked(reflectors, tau);
    main = reflectors.diagonal();
    off = reflectors.diagonal(-1);
  }
  /// P^T X for X (n, m).
  Matrix<Work> to_basis(const Matrix<Work>& X) const { return P().adjoint() * X; }
  /// P X for X (n, m).
  Matrix<Work> from_basis(const Matrix<Work>& X) const { return P() * X; }

 private:
  Eigen::HouseholderSequence<Matrix<Work>, Vector<Work>> P() const {
    return Eigen::HouseholderSequence<Matrix<Work>, Vector<Work>>(reflectors, tau)
        .setLength(reflectors.rows() - 1)
        .setShift(1);
  }
};

}  // namespace multitask
