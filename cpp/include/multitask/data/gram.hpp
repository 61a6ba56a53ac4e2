// Per-task Gram statistics of the squared loss.
//
// With centred data X~_t = X_t - 1 x_mean_t^T and y~_t = y_t - y_mean_t (or the
// raw data without intercept) and the per-sample weight s_t = omega_t / N:
//     A_t = s_t X~_t^T X~_t          (d, d)
//     c_t = s_t X~_t^T y~_t          (d)
//     q_t = s_t / 2 ||y~_t||^2
// so that the loss of task t is  1/2 w^T A_t w - c_t^T w + q_t.
//
// A wide task (n_t < d / 2) keeps no Gram: products with A_t go through the
// data (2 n_t d flops instead of d^2) and solves with A_t + beta I through the
// n_t x n_t side (Woodbury). A shared design forms its one Gram once.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/parallel.hpp>
#include <multitask/data/task_data.hpp>

namespace multitask {

/// G += X~^T X~ for the rows of X, centred by x_mean when `centre` is set.
/// Rows are processed in chunks so that centring needs only a small buffer and
/// the rank update (BLAS-3 syrk in Eigen) runs on cache-sized panels.
template <typename Scalar, typename RowBlock>
Matrix<Scalar> centred_gram(const RowBlock& X,            // (n, d)
                            const Vector<Scalar>& x_mean,  // (d)
                            bool centre) {
  // Panels of about 2e5 entries (measured: long enough panels for Eigen's
  // blocked rank update, short enough to stay in cache after centring).
  const Index n = X.rows(), d = X.cols();
  const Index chunk_rows = std::max<Index>(512, 204800 / std::max<Index>(d, 1));
  Matrix<Scalar> gram = Matrix<Scalar>::Zero(d, d);
  // Reused across calls on the same thread: a fresh buffer of this size comes
  // from mmap, and its page faults cost as much as a small task's Gram.
  thread_local RowMatrix<Scalar> panel;
  // G += P^T P (lower triangle) for a chunk P (rows, d): rows d^2 flops, about a
  // second at d = 2000 on one core. A long one runs by blocks of Gram columns,
  // G[j:, j:j+w] += P[:, j:]^T P[:, j:j+w] (a GEMM each; the upper triangle of
  // the diagonal block is scratch, overwritten by the symmetrisation below),
  // with poll_interrupt() between blocks; it only has effect outside a parallel
  // region (one task, or one thread).
  auto rank_update = [&](const auto& P) {
    const double work = static_cast<double>(P.rows()) * static_cast<double>(d) * static_cast<double>(d);
    if (work < 5 * kInterruptBatchWork) {
      gram.template selfadjointView<Eigen::Lower>().rankUpdate(P.transpose());
      poll_interrupt(work);
      return;
    }
    constexpr Index kColumns = 256;
    for (Index j = 0; j < d; j += kColumns) {
      const Index w = std::min(kColumns, d - j);
      gram.block(j, j, d - j, w).noalias() += P.rightCols(d - j).transpose() * P.middleCols(j, w);
      poll_interrupt(2.0 * static_cast<double>(P.rows()) * static_cast<double>(d - j) * static_cast<double>(w));
    }
  };
  for (Index start = 0; start < n; start += chunk_rows) {
    const Index rows = std::min(chunk_rows, n - start);
    if (centre) {
      if (panel.rows() < chunk_rows || panel.cols() != d) panel.resize(chunk_rows, d);
      auto centred = panel.topRows(rows);
      centred = X.middleRows(start, rows).rowwise() - x_mean.transpose();
      rank_update(centred);
    } else {
      rank_update(X.middleRows(start, rows));
    }
  }
  gram.template triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  return gram;
}

/// X~^T u = X^T u - x_mean (1^T u)   (d)
template <typename Scalar, typename RowBlock, typename Vec>
Vector<Scalar> centred_transpose_product(const RowBlock& X, const Vector<Scalar>& x_mean, const Vec& u) {
  Vector<Scalar> out = X.transpose() * u;
  out.noalias() -= x_mean * u.sum();
  return out;
}

/// X~ v = X v - 1 (x_mean^T v)   (n)
template <typename Scalar, typename RowBlock, typename Vec>
Vector<Scalar> centred_product(const RowBlock& X, const Vector<Scalar>& x_mean, const Vec& v) {
  Vector<Scalar> out = X * v;
  out.array() -= x_mean.dot(v);
  return out;
}

template <typename Scalar>
struct TaskStatistics {
  Vector<Scalar> x_mean;                      // (d) zeros without intercept
  Scalar y_mean = 0;
  Scalar weight = 1;                          // s_t
  std::shared_ptr<const Matrix<Scalar>> gram; // (d, d) X~^T X~ (unscaled); null for a wide task
  Vector<Scalar> c;                           // (d) s_t X~^T y~
  Scalar q = 0;                               // s_t / 2 ||y~||^2

  bool has_gram() const { return static_cast<bool>(gram); }
};

/// Whether task t is better handled through its n_t x n_t side.
template <typename Scalar>
bool use_sample_side(const TaskData<Scalar>& data, Index t) {
  return !data.shared_design && 2 * data.n_samples(t) < data.n_features();
}

/// Statistics of a shared design: one Gram X~^T X~ for every task and all the
/// right-hand sides at once as X^T Y~ (the targets centred per task, so that
/// X~^T Y~ = X^T Y~ because 1^T Y~ = 0). Both are summed over row blocks (one
/// per thread), each block read once for the two products.
template <typename Scalar>
std::vector<TaskStatistics<Scalar>> shared_design_statistics(const TaskData<Scalar>& data, int n_threads) {
  const Index T = data.n_tasks(), n = data.n_samples(0), d = data.n_features();
  const auto& X = data.X[0];
  const Vector<Scalar> x_mean = task_means(data, 0).x_mean;
  Matrix<Scalar> Y_centred(n, T);
  for (Index t = 0; t < T; ++t) Y_centred.col(t) = data.y[t];
  Vector<Scalar> y_mean = Vector<Scalar>::Zero(T);
  if (data.fit_intercept) {
    y_mean = Y_centred.colwise().mean().transpose();
    Y_centred.rowwise() -= y_mean.transpose();
  }

  // One row block per thread: each block's partial Gram is a fresh (d, d)
  // matrix, whose page faults cost more than the split saves on one thread.
  // The sum over blocks then depends on the thread count, by round-off only.
  const double work = static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(d + 2 * T);
  const int threads = threads_for_work(work, n_threads);
  const Index n_blocks = std::clamp<Index>(std::min<Index>(n / 1024, threads), 1, 16);
  const Index rows_per_block = (n + n_blocks - 1) / n_blocks;
  std::vector<Matrix<Scalar>> gram_parts(n_blocks), XtY_parts(n_blocks);
  parallel_for(n_blocks, threads, [&](Index block) {
    const Index first = block * rows_per_block, count = std::min(rows_per_block, n - first);
    gram_parts[block] = centred_gram<Scalar>(X.middleRows(first, count), x_mean, data.fit_intercept);
    XtY_parts[block].noalias() = X.middleRows(first, count).transpose() * Y_centred.middleRows(first, count);
  });
  for (Index block = 1; block < n_blocks; ++block) {
    gram_parts[0] += gram_parts[block];
    XtY_parts[0] += XtY_parts[block];
  }
  const auto gram = std::make_shared<const Matrix<Scalar>>(std::move(gram_parts[0]));
  const Matrix<Scalar>& XtY = XtY_parts[0];  // (d, T)

  std::vector<TaskStatistics<Scalar>> stats(T);
  for (Index t = 0; t < T; ++t) {
    TaskStatistics<Scalar>& s = stats[t];
    s.x_mean = x_mean;
    s.y_mean = y_mean[t];
    s.weight = data.sample_weight[t];
    s.gram = gram;
    s.c = s.weight * XtY.col(t);
    s.q = s.weight / 2 * Y_centred.col(t).squaredNorm();
  }
  return stats;
}

/// Computes the statistics of every task in parallel. Tasks with force_gram[t]
/// set get a Gram even when wide (the dense exact solver needs every A_t, and
/// the Woodbury side needs a positive shift alpha K_tt).
template <typename Scalar>
std::vector<TaskStatistics<Scalar>> task_statistics(const TaskData<Scalar>& data, int n_threads,
                                                    const std::vector<char>& force_gram) {
  if (data.shared_design) return shared_design_statistics(data, n_threads);
  const Index T = data.n_tasks();
  std::vector<TaskStatistics<Scalar>> stats(T);
  double work = 0;
  for (Index t = 0; t < T; ++t)
    work += static_cast<double>(data.n_samples(t)) * static_cast<double>(data.n_features() * data.n_features());
  parallel_for_interruptible(T, threads_for_work(work, n_threads), work / static_cast<double>(T), [&](Index t) {
    TaskStatistics<Scalar>& s = stats[t];
    const TaskMeans<Scalar> means = task_means(data, t);
    s.x_mean = means.x_mean;
    s.y_mean = means.y_mean;
    s.weight = data.sample_weight[t];
    Vector<Scalar> y_centred = data.y[t].array() - means.y_mean;
    s.c = s.weight * centred_transpose_product(data.X[t], s.x_mean, y_centred);
    s.q = s.weight / 2 * y_centred.squaredNorm();
    if (force_gram[t] || !use_sample_side(data, t))
      s.gram = std::make_shared<const Matrix<Scalar>>(centred_gram(data.X[t], s.x_mean, data.fit_intercept));
  });
  return stats;
}

}  // namespace multitask
