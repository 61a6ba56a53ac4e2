// The multi-task Gram matrix M[(s,i),(t,j)] = B_st k(x_si, x_tj) of N samples
// stacked task by task: assembled densely (lower triangle) for a factorisation,
// or applied as a linear map v -> M v without being formed.
//
// Two layouts of the samples:
//  * per-task inputs: task t owns the samples [offset_t, offset_{t+1}) and their
//    own rows of the input matrix (N distinct inputs);
//  * shared design: every task is observed at the same n inputs, N = n T and
//    M = B (x) K_x with K_x = k(X, X) (n, n) (task-major stacking).
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include <multitask/common/huge_pages.hpp>
#include <multitask/kernels/input_kernels.hpp>

namespace multitask {

/// Where the N samples sit: task offsets and whether the design is shared.
struct TaskLayout {
  std::vector<Index> offsets;  // (T + 1) samples of task t: [offsets[t], offsets[t + 1])
  bool shared = false;         // every task observed at the same n = N / T inputs

  Index n_tasks() const { return static_cast<Index>(offsets.size()) - 1; }
  Index n_samples() const { return offsets.back(); }
  /// Distinct inputs: n for a shared design, N otherwise.
  Index n_inputs() const { return shared ? n_samples() / n_tasks() : n_samples(); }
  /// The task of every sample (N).
  std::vector<Index> task_of() const {
    std::vector<Index> task(static_cast<size_t>(n_samples()));
    for (Index t = 0; t < n_tasks(); ++t)
      std::fill(task.begin() + offsets[t], task.begin() + offsets[t + 1], t);
    return task;
  }
};

/// The input side of the multi-task kernel: distinct inputs (n_u, d) with a
/// kernel, dense X or sparse X_sparse, or a precomputed symmetric Gram
/// (n_u, n_u) over them.
template <typename Scalar>
struct KernelInputs {
  using RowMap = Eigen::Map<const RowMatrix<Scalar>>;
  RowMap X;        // (n_u, d); 0 rows when precomputed or sparse
  InputKernel kernel;
  RowMap gram;     // (n_u, n_u) precomputed k(x_i, x_j); 0 rows otherwise
  SparseDesign<Scalar> X_sparse = empty_sparse_design<Scalar>();  // (n_u, d) CSR; 0 rows unless sparse

  bool precomputed() const { return gram.rows() > 0; }
  bool sparse() const { return X_sparse.rows() > 0; }
  Index n_inputs() const { return precomputed() ? gram.rows() : sparse() ? X_sparse.rows() : X.rows(); }
  Index n_features() const { return sparse() ? X_sparse.cols() : X.cols(); }

  /// body(rows) with the inputs, dense or sparse (not for precomputed).
  template <typename Body>
  decltype(auto) with_rows(Body&& body) const {
    return sparse() ? body(X_sparse) : body(X);
  }

  /// out (n_u, n_u): the lower triangle (at least) of k over the inputs.
  void gram_lower(Matrix<Scalar>& out, int n_threads) const {
    if (precomputed())
      out = gram;
    else
      with_rows([&](const auto& rows) { kernel_gram_lower<Scalar>(kernel, rows, out, n_threads); });
  }

  /// The symmetric k over the inputs, both triangles filled.
  Matrix<Scalar> gram_full(int n_threads) const {
    Matrix<Scalar> out;
    gram_lower(out, n_threads);
    out.template triangularView<Eigen::StrictlyUpper>() = out.transpose();
    return out;
  }
};

/// The lower triangle of M (N, N) into A, blockwise: block (s, t) = B_st k(X_s, X_t).
/// Per-task inputs: the lower triangle of k over all N inputs, then each block
/// scaled by B_st. Shared design: block (s, t), s >= t, is B_st K_x.
template <typename Scalar>
void multitask_gram_lower(const KernelInputs<Scalar>& inputs, const Matrix<Scalar>& B, const TaskLayout& layout,
                          Matrix<Scalar>& A, int n_threads) {
  const Index T = layout.n_tasks(), N = layout.n_samples();
  if (layout.shared) {
    const Index n = layout.n_inputs();
    const Matrix<Scalar> gram = inputs.gram_full(n_threads);
    resize_with_huge_pages(A, N, N);
    parallel_for(T, threads_for_work(static_cast<double>(N) * static_cast<double>(N), n_threads), [&](Index s) {
      for (Index t = 0; t <= s; ++t) A.block(s * n, t * n, n, n) = B(s, t) * gram;
    });
    return;
  }
  resize_with_huge_pages(A, N, N);  // gram_lower keeps this allocation (same size)
  inputs.gram_lower(A, n_threads);
  for (Index s = 0; s < T; ++s)
    for (Index t = 0; t <= s; ++t) {
      const Index rows = layout.offsets[s + 1] - layout.offsets[s], cols = layout.offsets[t + 1] - layout.offsets[t];
      A.block(layout.offsets[s], layout.offsets[t], rows, cols) *= B(s, t);
    }
}

/// M as a linear map on vectors of length N (the samples stacked task by task).
template <typename Scalar>
class MultiTaskGramOperator {
 public:
  virtual ~MultiTaskGramOperator() = default;
  /// out = M v   (N)
  virtual void apply(const Vector<Scalar>& v, Vector<Scalar>& out) const = 0;
  /// M_ii   (N)
  virtual Vector<Scalar> diagonal() const = 0;
  /// "kronecker", "cached" or "on_the_fly"
  virtual const char* name() const = 0;
};

/// out = G v for a dense G (N, N), parallel over row blocks.
template <typename Scalar, typename Dense, typename Rhs, typename Out>
void parallel_product(const Dense& G, const Rhs& v, Out& out, int n_threads) {
  const Index n = G.rows(), n_blocks = (n + kernel_row_block - 1) / kernel_row_block;
  const double work = static_cast<double>(G.rows()) * static_cast<double>(G.cols()) * static_cast<double>(v.cols());
  parallel_for_interruptible(n_blocks, threads_for_work(work, n_threads), work / n_blocks, [&](Index block) {
    const Index first = block * kernel_row_block, rows = std::min(kernel_row_block, n - first);
    out.middleRows(first, rows).noalias() = G.middleRows(first, rows) * v;
  });
}

/// Shared design: M v = vec(K_x V B) with V (n, T) the columns of v; O(n^2 T + n T^2).
template <typename Scalar>
class KroneckerGramOperator final : public MultiTaskGramOperator<Scalar> {
 public:
  KroneckerGramOperator(Matrix<Scalar> gram, const Matrix<Scalar>& B, int n_threads)
      : gram_(std::move(gram)), B_(B), n_threads_(n_threads) {}

  void apply(const Vector<Scalar>& v, Vector<Scalar>& out) const override {
    const Index n = gram_.rows(), T = B_.rows();
    const Matrix<Scalar> VB = Eigen::Map<const Matrix<Scalar>>(v.data(), n, T) * B_;
    out.resize(n * T);
    Eigen::Map<Matrix<Scalar>> result(out.data(), n, T);
    parallel_product<Scalar>(gram_, VB, result, n_threads_);
  }
  Vector<Scalar> diagonal() const override {
    const Index n = gram_.rows(), T = B_.rows();
    Vector<Scalar> diag(n * T);
    for (Index t = 0; t < T; ++t) diag.segment(t * n, n) = B_(t, t) * gram_.diagonal();
    return diag;
  }
  const char* name() const override { return "kronecker"; }

 private:
  Matrix<Scalar> gram_;  // (n, n) K_x, both triangles
  Matrix<Scalar> B_;     // (T, T)
  int n_threads_;
};

/// M formed once (N, N), both triangles; each product reads it once, O(N^2).
template <typename Scalar>
class CachedGramOperator final : public MultiTaskGramOperator<Scalar> {
 public:
  CachedGramOperator(const KernelInputs<Scalar>& inputs, const Matrix<Scalar>& B, const TaskLayout& layout,
                     int n_threads)
      : n_threads_(n_threads) {
    multitask_gram_lower(inputs, B, layout, M_, n_threads);
    M_.template triangularView<Eigen::StrictlyUpper>() = M_.transpose();
  }
  void apply(const Vector<Scalar>& v, Vector<Scalar>& out) const override {
    out.resize(M_.rows());
    parallel_product<Scalar>(M_, v, out, n_threads_);
  }
  Vector<Scalar> diagonal() const override { return M_.diagonal(); }
  const char* name() const override { return "cached"; }

 private:
  Matrix<Scalar> M_;  // (N, N)
  int n_threads_;
};

/// Per-task inputs, M never stored: each product recomputes k row block by row
/// block, O(N^2 (d + T)) flops and O(256 N) memory per thread. For a block of
/// rows i (task s_i): Q = k(X_rows, X) V with V (N, T) holding v_t in task t's
/// rows and zeros elsewhere, so Q_it = sum_j k(x_i, x_tj) v_tj, and
/// (M v)_i = sum_t B_{s_i t} Q_it.
template <typename Scalar>
class OnTheFlyGramOperator final : public MultiTaskGramOperator<Scalar> {
 public:
  OnTheFlyGramOperator(const KernelInputs<Scalar>& inputs, const Matrix<Scalar>& B, const TaskLayout& layout,
                       int n_threads)
      : inputs_(inputs), B_(B), layout_(layout), task_(layout.task_of()), n_threads_(n_threads) {
    if (inputs_.kernel.kind == KernelKind::rbf)
      squared_norms_ = inputs_.with_rows([](const auto& rows) { return squared_row_norms<Scalar>(rows); });
  }

  void apply(const Vector<Scalar>& v, Vector<Scalar>& out) const override {
    const Index N = layout_.n_samples(), T = layout_.n_tasks();
    Matrix<Scalar> V = Matrix<Scalar>::Zero(N, T);
    for (Index t = 0; t < T; ++t) {
      const Index first = layout_.offsets[t], count = layout_.offsets[t + 1] - first;
      V.col(t).segment(first, count) = v.segment(first, count);
    }
    out.resize(N);
    const Index n_blocks = (N + kernel_row_block - 1) / kernel_row_block;
    const double block_work = static_cast<double>(kernel_row_block) * static_cast<double>(N) *
                              static_cast<double>(inputs_.n_features() + T + 10);
    parallel_for_interruptible(n_blocks, n_threads_, block_work, [&](Index block) {
      const Index first = block * kernel_row_block, rows = std::min(kernel_row_block, N - first);
      Matrix<Scalar> kernel_rows(rows, N);
      const Vector<Scalar> sq_rows =
          squared_norms_.size() ? Vector<Scalar>(squared_norms_.segment(first, rows)) : Vector<Scalar>();
      inputs_.with_rows([&](const auto& X) {
        kernel_block<Scalar>(inputs_.kernel, X.middleRows(first, rows), X, sq_rows, squared_norms_, kernel_rows);
      });
      const Matrix<Scalar> QB = (kernel_rows * V) * B_;  // (rows, T), B symmetric
      for (Index i = 0; i < rows; ++i) out[first + i] = QB(i, task_[first + i]);
    });
  }
  Vector<Scalar> diagonal() const override {
    Vector<Scalar> diag = inputs_.with_rows([&](const auto& X) { return kernel_diagonal<Scalar>(inputs_.kernel, X); });
    for (Index i = 0; i < diag.size(); ++i) diag[i] *= B_(task_[i], task_[i]);
    return diag;
  }
  const char* name() const override { return "on_the_fly"; }

 private:
  KernelInputs<Scalar> inputs_;
  Matrix<Scalar> B_;
  TaskLayout layout_;
  std::vector<Index> task_;
  Vector<Scalar> squared_norms_;  // (N) rbf only
  int n_threads_;
};

}  // namespace multitask
