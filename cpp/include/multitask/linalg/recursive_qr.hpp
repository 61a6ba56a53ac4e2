// Householder QR of a panel in compact WY form, by recursive halving of its
// columns, for the band reduction (band_reduction.hpp).
//
// For A (m, n), k = min(m, n) reflectors H_i = I - tau_i v_i v_i^T (v_i(i) = 1,
// zero above) give Q = H_0 ... H_{k-1} = I - V T V^T, T (k, k) upper triangular,
// and Q^T A = R. Splitting the columns A = [A1 A2] (n1 columns on the left):
//   A1 = Q1 R1                        (recursively; V1, T1)
//   A2 <- Q1^T A2 = A2 - V1 T1^T (V1^T A2)
//   A2(n1:, :) = Q2 R2                (recursively; V2, T2, V2 zero in rows < n1)
//   T = [T1  -T1 (V1^T V2) T2]
//       [0    T2             ]
// (Q1 Q2 = (I - V1 T1 V1^T)(I - V2 T2 V2^T), expanded). Almost all flops are then
// matrix-matrix products; the unblocked level-2 Householder loop only sees
// panels of a few columns, where it stays in cache. Eigen's HouseholderQR is
// blocked the same way per 48 columns but runs its inner loop over the whole
// height, and computing T afterwards costs another m n^2.
#pragma once

#include <algorithm>

#include <Eigen/Householder>

#include <multitask/common/types.hpp>

namespace multitask {

/// Columns below which the QR is unblocked.
constexpr Index recursive_qr_leaf = 8;

/// V of a factored panel (m, k) as a dense matrix: the essential parts below the
/// diagonal, 1 on it, 0 above.
template <typename Derived>
Matrix<typename Derived::Scalar> unit_lower_reflectors(const Eigen::MatrixBase<Derived>& factored, Index k) {
  return factored.leftCols(k).template triangularView<Eigen::UnitLower>();
}

/// Factorises A (m, n) in place: R on and above the diagonal, the reflectors'
/// essential parts below it; T (min(m, n), min(m, n)) receives the upper
/// triangular factor of Q = I - V T V^T (see the file comment).
template <typename Scalar>
void recursive_qr(Eigen::Ref<Matrix<Scalar>> A, Eigen::Ref<Matrix<Scalar>> T) {
  const Index m = A.rows(), n = A.cols(), k = std::min(m, n);
  T.setZero();
  if (k == 0) return;
  if (n <= recursive_qr_leaf) {
    Vector<Scalar> workspace(n);
    for (Index j = 0; j < k; ++j) {
      Scalar tau, beta;
      A.col(j).tail(m - j).makeHouseholderInPlace(tau, beta);
      const Vector<Scalar> essential = A.col(j).tail(m - j - 1);
      A(j, j) = beta;
      if (j + 1 < n)
        A.block(j, j + 1, m - j, n - j - 1).applyHouseholderOnTheLeft(essential, tau, workspace.data());
      // T(:j, j) = -tau_j T(:j, :j) V(:, :j)^T v_j, T(j, j) = tau_j.
      T(j, j) = tau;
      if (j > 0) {
        Vector<Scalar> Vtv = A.block(j + 1, 0, m - j - 1, j).transpose() * essential;
        Vtv += A.row(j).head(j).transpose();  // v_j(j) = 1 against rows j of v_0..v_{j-1}
        T.col(j).head(j) = T.topLeftCorner(j, j).template triangularView<Eigen::Upper>() * Vtv;
        T.col(j).head(j) *= -tau;
      }
    }
    return;
  }
  const Index n1 = std::min(n / 2, k);
  recursive_qr<Scalar>(A.leftCols(n1), T.topLeftCorner(n1, n1));
  const Matrix<Scalar> V1 = unit_lower_reflectors(A.leftCols(n1), n1);
  {
    auto A2 = A.rightCols(n - n1);
    Matrix<Scalar> V1tA2 = V1.transpose() * A2;
    V1tA2 = T.topLeftCorner(n1, n1).template triangularView<Eigen::Upper>().transpose() * V1tA2;
    A2.noalias() -= V1 * V1tA2;
  }
  const Index k2 = k - n1;
  if (k2 == 0) return;
  auto lower = A.bottomRightCorner(m - n1, n - n1);
  recursive_qr<Scalar>(lower, T.bottomRightCorner(k2, k2));
  const Matrix<Scalar> V2 = unit_lower_reflectors(lower, k2);
  // T12 = -T1 (V1^T V2) T2, V2 living in rows n1.. only.
  Matrix<Scalar> T12 = V1.bottomRows(m - n1).transpose() * V2;
  T12 = T.topLeftCorner(n1, n1).template triangularView<Eigen::Upper>() * T12;
  T12 = (T12 * T.bottomRightCorner(k2, k2).template triangularView<Eigen::Upper>()).eval();
  T.topRightCorner(n1, k2) = -T12;
}

}  // namespace multitask
