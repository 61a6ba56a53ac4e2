// Kernels over inputs, k(x, x'), and their matrices k(X1, X2), computed in
// parallel over row blocks. Shared by the multi-task kernel machines (kernel
// ridge, SVM): the multi-task kernel is B_st k(x, x') (multitask_gram.hpp).
// The rows may be dense or sparse (designs.hpp; both operands of a kernel
// the same kind): every kernel is a function of inner products and squared
// norms, except the laplacian, so only those differ between the two.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include <multitask/common/parallel.hpp>
#include <multitask/data/designs.hpp>

namespace multitask {

enum class KernelKind { linear, rbf, polynomial, laplacian };

/// An input kernel and its parameters:
///   linear      k(x, y) = <x, y>
///   rbf         k(x, y) = exp(-gamma ||x - y||_2^2)
///   polynomial  k(x, y) = (gamma <x, y> + coef0)^degree
///   laplacian   k(x, y) = exp(-gamma ||x - y||_1)
struct InputKernel {
  KernelKind kind = KernelKind::rbf;
  double gamma = 1.0;   // > 0 (rbf, polynomial, laplacian)
  double coef0 = 1.0;   // polynomial
  int degree = 3;       // polynomial, >= 1

  /// The kernel called `name` ("linear", "rbf", "poly"/"polynomial", "laplacian"),
  /// parameters checked; InvalidArgument naming the bad one otherwise.
  static InputKernel from_name(const std::string& name, double gamma, double coef0, int degree) {
    InputKernel kernel;
    if (name == "linear")
      kernel.kind = KernelKind::linear;
    else if (name == "rbf")
      kernel.kind = KernelKind::rbf;
    else if (name == "poly" || name == "polynomial")
      kernel.kind = KernelKind::polynomial;
    else if (name == "laplacian")
      kernel.kind = KernelKind::laplacian;
    else
      throw InvalidArgument("kernel must be 'linear', 'rbf', 'poly' or 'laplacian', got '" + name + "'");
    require(kernel.kind == KernelKind::linear || (gamma > 0 && std::isfinite(gamma)),
            "gamma must be a finite positive number");
    require(std::isfinite(coef0), "coef0 must be finite");
    require(degree >= 1, "degree must be at least 1");
    kernel.gamma = gamma;
    kernel.coef0 = coef0;
    kernel.degree = degree;
    return kernel;
  }
};

/// Rows of X1 processed together: the inner-product block X1_b X2^T of a row
/// block is one GEMM of a panel that stays in cache with its output rows.
constexpr Index kernel_row_block = 256;

/// f(j, x_ij) for the stored entries of row i of a sparse X, in column order.
template <typename Rows, typename F>
void for_each_stored(const Rows& X, Index i, F&& f) {
  const Eigen::internal::evaluator<Rows> entries(X);
  for (typename Eigen::internal::evaluator<Rows>::InnerIterator it(entries, i); it; ++it) f(it.index(), it.value());
}

/// out (n1, n2) = X1 X2^T. Dense: one GEMM. Sparse: row i of X1 is scattered
/// into a dense x and out_i = X2 x, one sparse matrix-vector product, so a
/// row costs O(nnz(X2)) (not O(n2 d)) and no (n, d) matrix is ever densified.
template <typename Scalar, typename Rows1, typename Rows2, typename Out>
void inner_products(const Rows1& X1, const Rows2& X2, Out&& out) {
  static_assert(is_sparse_rows<Rows1> == is_sparse_rows<Rows2>, "both operands dense or both sparse");
  if constexpr (is_sparse_rows<Rows1>) {
    Vector<Scalar> x = Vector<Scalar>::Zero(X1.cols());
    Vector<Scalar> row(X2.rows());
    for (Index i = 0; i < X1.rows(); ++i) {
      for_each_stored(X1, i, [&](Index j, Scalar value) { x[j] = value; });
      row.noalias() = X2 * x;
      out.row(i) = row.transpose();
      for_each_stored(X1, i, [&](Index j, Scalar) { x[j] = 0; });
    }
  } else {
    out.noalias() = X1 * X2.transpose();
  }
}

/// out (n1, n2) = exp(-gamma ||x_i - y_q||_1), the laplacian kernel.
template <typename Scalar, typename Rows1, typename Rows2, typename Out>
void laplacian_block(Scalar gamma, const Rows1& X1, const Rows2& X2, Out&& out) {
  if constexpr (is_sparse_rows<Rows1>) {
    // ||x - y||_1 = ||x||_1 + sum over the stored y_j of (|x_j - y_j| - |x_j|),
    // with x scattered into a dense vector: O(nnz(X2)) per row of X1.
    Vector<Scalar> x = Vector<Scalar>::Zero(X1.cols());
    for (Index i = 0; i < X1.rows(); ++i) {
      Scalar x_norm = 0;
      for_each_stored(X1, i, [&](Index j, Scalar value) {
        x[j] = value;
        x_norm += std::abs(value);
      });
      for (Index q = 0; q < X2.rows(); ++q) {
        Scalar distance = x_norm;
        for_each_stored(X2, q, [&](Index j, Scalar value) { distance += std::abs(x[j] - value) - std::abs(x[j]); });
        out(i, q) = std::exp(-gamma * std::max(distance, Scalar(0)));
      }
      for_each_stored(X1, i, [&](Index j, Scalar) { x[j] = 0; });
    }
  } else {
    // No GEMM form for the l1 distance: one pass over X2 per row of X1.
    for (Index i = 0; i < X1.rows(); ++i)
      out.row(i) = (-gamma * (X2.rowwise() - X1.row(i)).cwiseAbs().rowwise().sum().array()).exp().transpose();
  }
}

/// out = k(X1, X2) for one row block, on the calling thread.
/// X1 (n1, d), X2 (n2, d), out (n1, n2); sq1 (n1), sq2 (n2) are the squared row
/// norms (rbf only; ignored otherwise). The rbf distance is computed as
/// ||x||^2 + ||y||^2 - 2 <x, y> (one GEMM) and clamped at 0 against round-off.
template <typename Scalar, typename Rows1, typename Rows2, typename Out>
void kernel_block(const InputKernel& kernel, const Rows1& X1, const Rows2& X2, const Vector<Scalar>& sq1,
                  const Vector<Scalar>& sq2, Out&& out) {
  const Scalar gamma = static_cast<Scalar>(kernel.gamma);
  switch (kernel.kind) {
    case KernelKind::linear:
      inner_products<Scalar>(X1, X2, out);
      break;
    case KernelKind::polynomial: {
      inner_products<Scalar>(X1, X2, out);
      const Scalar coef0 = static_cast<Scalar>(kernel.coef0);
      out = (gamma * out.array() + coef0).pow(static_cast<Scalar>(kernel.degree));
      break;
    }
    case KernelKind::rbf:
      if constexpr (is_sparse_rows<Rows1>) {
        inner_products<Scalar>(X1, X2, out);
        out *= Scalar(-2);
      } else {
        out.noalias() = Scalar(-2) * X1 * X2.transpose();  // the -2 folded into the GEMM: no extra pass
      }
      out.colwise() += sq1;
      out.rowwise() += sq2.transpose();
      out = (-gamma * out.array().max(Scalar(0))).exp();
      break;
    case KernelKind::laplacian:
      laplacian_block(gamma, X1, X2, out);
      break;
  }
}

/// Squared row norms ||x_i||^2 (n) of X (n, d), needed by the rbf kernel.
/// Summed in a fixed order (j = 0, 1, ...): Eigen's vectorised reduction of a
/// contiguous row starts with scalar terms up to the first aligned address, so
/// its rounding would depend on where the caller's array happens to lie in
/// memory, and so would every fit that reads these norms (n d flops: small
/// next to the n^2 d of any kernel matrix).
template <typename Scalar, typename Rows>
Vector<Scalar> squared_row_norms(const Rows& X) {
  const Index n = X.rows(), d = X.cols();
  Vector<Scalar> out(n);
  for (Index i = 0; i < n; ++i) {
    Scalar sum = 0;
    if constexpr (is_sparse_rows<Rows>)
      for_each_stored(X, i, [&](Index, Scalar value) { sum += value * value; });
    else
      for (Index j = 0; j < d; ++j) sum += X(i, j) * X(i, j);
    out[i] = sum;
  }
  return out;
}

/// The diagonal k(x_i, x_i) (n) of the Gram of X (n, d), without forming it.
template <typename Scalar, typename Rows>
Vector<Scalar> kernel_diagonal(const InputKernel& kernel, const Rows& X) {
  const Scalar gamma = static_cast<Scalar>(kernel.gamma);
  switch (kernel.kind) {
    case KernelKind::linear:
      return squared_row_norms<Scalar>(X);
    case KernelKind::polynomial:
      return (gamma * squared_row_norms<Scalar>(X).array() + static_cast<Scalar>(kernel.coef0))
          .pow(static_cast<Scalar>(kernel.degree))
          .matrix();
    case KernelKind::rbf:
    case KernelKind::laplacian:
      break;
  }
  return Vector<Scalar>::Ones(X.rows());
}

/// out (n1, n2) = k(X1, X2) for X1 (n1, d) and X2 (n2, d), in parallel over
/// row blocks of X1. Each entry is computed by one thread from the same
/// operands, so the result does not depend on the thread count.
template <typename Scalar, typename Rows1, typename Rows2>
void kernel_matrix(const InputKernel& kernel, const Rows1& X1, const Rows2& X2, Matrix<Scalar>& out, int n_threads) {
  const Index n1 = X1.rows(), n2 = X2.rows();
  out.resize(n1, n2);
  const Vector<Scalar> sq1 = kernel.kind == KernelKind::rbf ? squared_row_norms<Scalar>(X1) : Vector<Scalar>();
  const Vector<Scalar> sq2 = kernel.kind == KernelKind::rbf ? squared_row_norms<Scalar>(X2) : Vector<Scalar>();
  const Index n_blocks = (n1 + kernel_row_block - 1) / kernel_row_block;
  const double work = static_cast<double>(n1) * static_cast<double>(n2) * static_cast<double>(X1.cols() + 10);
  parallel_for_interruptible(n_blocks, threads_for_work(work, n_threads), work / n_blocks, [&](Index block) {
    const Index first = block * kernel_row_block, rows = std::min(kernel_row_block, n1 - first);
    const Vector<Scalar> sq1_block = sq1.size() ? Vector<Scalar>(sq1.segment(first, rows)) : Vector<Scalar>();
    kernel_block<Scalar>(kernel, X1.middleRows(first, rows), X2, sq1_block, sq2, out.middleRows(first, rows));
  });
}

/// The lower triangle (diagonal included) of the symmetric Gram out (n, n) =
/// k(X, X) for X (n, d); the strictly upper triangle is left unspecified except
/// inside the diagonal blocks. Row block b computes only columns [0, end of b),
/// about half the work of kernel_matrix. The rbf and laplacian diagonal is set
/// to exactly 1 (distance 0), as a difference-based distance would give.
template <typename Scalar, typename Rows>
void kernel_gram_lower(const InputKernel& kernel, const Rows& X, Matrix<Scalar>& out, int n_threads) {
  const Index n = X.rows();
  out.resize(n, n);
  const Vector<Scalar> sq = kernel.kind == KernelKind::rbf ? squared_row_norms<Scalar>(X) : Vector<Scalar>();
  const Index n_blocks = (n + kernel_row_block - 1) / kernel_row_block;
  const double work = 0.5 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(X.cols() + 10);
  // Later blocks are longer: dynamic scheduling of parallel_for balances them.
  parallel_for_interruptible(n_blocks, threads_for_work(work, n_threads), work / n_blocks, [&](Index block) {
    const Index first = block * kernel_row_block, rows = std::min(kernel_row_block, n - first);
    const Index cols = first + rows;
    const Vector<Scalar> sq_rows = sq.size() ? Vector<Scalar>(sq.segment(first, rows)) : Vector<Scalar>();
    const Vector<Scalar> sq_cols = sq.size() ? Vector<Scalar>(sq.head(cols)) : Vector<Scalar>();
    kernel_block<Scalar>(kernel, X.middleRows(first, rows), X.topRows(cols), sq_rows, sq_cols,
                         out.block(first, 0, rows, cols));
  });
  if (kernel.kind == KernelKind::rbf || kernel.kind == KernelKind::laplacian) out.diagonal().setOnes();
}

/// out (n1, m) = k(X1, X2) W for X1 (n1, d), X2 (n2, d), W (n2, m): kernel
/// expansions (predictions) without storing k(X1, X2); each thread holds one
/// (256, n2) block of kernel values at a time.
template <typename Scalar, typename Rows1, typename Rows2, typename Weights>
void kernel_expansion(const InputKernel& kernel, const Rows1& X1, const Rows2& X2, const Weights& W,
                      Matrix<Scalar>& out, int n_threads) {
  const Index n1 = X1.rows(), n2 = X2.rows();
  out.resize(n1, W.cols());
  const Vector<Scalar> sq1 = kernel.kind == KernelKind::rbf ? squared_row_norms<Scalar>(X1) : Vector<Scalar>();
  const Vector<Scalar> sq2 = kernel.kind == KernelKind::rbf ? squared_row_norms<Scalar>(X2) : Vector<Scalar>();
  const Index n_blocks = (n1 + kernel_row_block - 1) / kernel_row_block;
  const double work =
      static_cast<double>(n1) * static_cast<double>(n2) * static_cast<double>(X1.cols() + W.cols() + 10);
  parallel_for_interruptible(n_blocks, threads_for_work(work, n_threads), work / n_blocks, [&](Index block) {
    const Index first = block * kernel_row_block, rows = std::min(kernel_row_block, n1 - first);
    const Vector<Scalar> sq1_block = sq1.size() ? Vector<Scalar>(sq1.segment(first, rows)) : Vector<Scalar>();
    Matrix<Scalar> values(rows, n2);
    kernel_block<Scalar>(kernel, X1.middleRows(first, rows), X2, sq1_block, sq2, values);
    out.middleRows(first, rows).noalias() = values * W;
  });
}

}  // namespace multitask
