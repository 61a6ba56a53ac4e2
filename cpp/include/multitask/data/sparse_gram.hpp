// Per-task Gram statistics (gram.hpp) of sparse CSR task blocks, every task
// with its Gram: for the solvers that work on the Grams alone
// (SharedSubspaceRegressor), whatever the design.
#pragma once

#include <memory>
#include <vector>

#include <multitask/data/gram.hpp>

namespace multitask {

/// The statistics of CSR task blocks, every task with its Gram (formed densely,
/// (d, d), from the stored entries: sum over rows of the outer product of each
/// row's entries, then centred as X~^T X~ = X^T X - n x_mean x_mean^T).
/// With shared_design every block is the same matrix and its Gram is formed once.
template <typename Scalar>
std::vector<TaskStatistics<Scalar>> sparse_task_statistics(const TaskBlocks<Scalar, SparseDesign<Scalar>>& data,
                                                           bool shared_design) {
  const Index T = data.n_tasks(), d = data.n_features();
  std::vector<TaskStatistics<Scalar>> stats(T);
  std::shared_ptr<const Matrix<Scalar>> shared_gram;
  for (Index t = 0; t < T; ++t) {
    TaskStatistics<Scalar>& s = stats[t];
    const auto& X = data.X[t];
    const TaskMeans<Scalar> means = task_means(data, t);
    s.x_mean = means.x_mean;
    s.y_mean = means.y_mean;
    s.weight = data.sample_weight[t];
    const Vector<Scalar> y_centred = data.y[t].array() - means.y_mean;
    s.c = s.weight * centred_transpose_product(X, s.x_mean, y_centred);
    s.q = s.weight / 2 * y_centred.squaredNorm();
    if (shared_design && shared_gram) {
      s.gram = shared_gram;
      continue;
    }
    Matrix<Scalar> gram = Matrix<Scalar>::Zero(d, d);
    for (Index i = 0; i < X.outerSize(); ++i) {
      for (typename SparseDesign<Scalar>::InnerIterator a(X, i); a; ++a)
        for (typename SparseDesign<Scalar>::InnerIterator b(X, i); b && b.index() <= a.index(); ++b)
          gram(a.index(), b.index()) += a.value() * b.value();  // lower triangle: column index b <= a
      poll_interrupt(static_cast<double>(X.outerIndexPtr()[i + 1] - X.outerIndexPtr()[i]) * 8);
    }
    gram.template triangularView<Eigen::StrictlyUpper>() = gram.transpose();
    if (data.fit_intercept) gram.noalias() -= static_cast<Scalar>(X.rows()) * s.x_mean * s.x_mean.transpose();
    s.gram = std::make_shared<const Matrix<Scalar>>(std::move(gram));
    if (shared_design) shared_gram = s.gram;
  }
  return stats;
}

}  // namespace multitask
