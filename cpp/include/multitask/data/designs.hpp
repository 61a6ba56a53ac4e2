// The two kinds of design (input rows) the core reads in place: dense
// row-major and sparse CSR, both mapped over the caller's buffers. Code that
// serves both is written once over a Rows type and branches on
// is_sparse_rows<Rows> only where the arithmetic differs.
#pragma once

#include <Eigen/SparseCore>
#include <type_traits>

#include <multitask/common/types.hpp>

namespace multitask {

template <typename Scalar>
using DenseDesign = Eigen::Map<const RowMatrix<Scalar>>;

/// CSR block: int32 row pointers starting at 0, sorted column indices.
template <typename Scalar>
using SparseDesign = Eigen::Map<const Eigen::SparseMatrix<Scalar, Eigen::RowMajor, int>>;

/// An owned CSR matrix: rows of a SparseDesign selected or permuted.
template <typename Scalar>
using SparseRows = Eigen::SparseMatrix<Scalar, Eigen::RowMajor, int>;

/// Whether Rows (a design, an owned matrix, or a block of rows of one) is sparse.
template <typename Rows>
inline constexpr bool is_sparse_rows =
    std::is_base_of_v<Eigen::SparseMatrixBase<std::decay_t<Rows>>, std::decay_t<Rows>>;

/// A 0 x 0 sparse design (the "no sparse input" value of a view).
template <typename Scalar>
SparseDesign<Scalar> empty_sparse_design() {
  static const int no_rows[1] = {0};
  return SparseDesign<Scalar>(0, 0, 0, no_rows, nullptr, nullptr);
}

/// Rows `rows` (any order, repeats allowed) of a sparse design, as an owned CSR matrix.
template <typename Scalar, typename Design, typename Indices>
SparseRows<Scalar> select_rows(const Design& X, const Indices& rows) {
  const Index m = static_cast<Index>(rows.size());
  SparseRows<Scalar> out(m, X.cols());
  Index nnz = 0;
  for (Index k = 0; k < m; ++k) nnz += X.outerIndexPtr()[rows[k] + 1] - X.outerIndexPtr()[rows[k]];
  out.resizeNonZeros(nnz);
  int* outer = out.outerIndexPtr();
  outer[0] = 0;
  Index position = 0;
  for (Index k = 0; k < m; ++k) {
    for (typename Design::InnerIterator it(X, rows[k]); it; ++it) {
      out.innerIndexPtr()[position] = static_cast<int>(it.index());
      out.valuePtr()[position] = it.value();
      ++position;
    }
    outer[k + 1] = static_cast<int>(position);
  }
  return out;
}

/// Rows `rows` of a design, as an owned matrix of the same kind.
template <typename Scalar, typename Design, typename Indices>
auto rows_of(const Design& X, const Indices& rows) {
  if constexpr (is_sparse_rows<Design>)
    return select_rows<Scalar>(X, rows);
  else
    return RowMatrix<Scalar>(X(rows, Eigen::all));
}

}  // namespace multitask
