// A read-only view of multi-task regression data: the task blocks of
// task_blocks.hpp with dense (n_t, d) row-major designs and real targets
// (no copy of the caller's arrays), and per-task centring.
#pragma once

#include <vector>

#include <multitask/data/task_blocks.hpp>

namespace multitask {

/// The squared-loss solvers' view: dense blocks, real targets, and whether
/// every task shares one design (the multi-output form, whose Gram is formed once).
template <typename Scalar>
struct TaskData : TaskBlocks<Scalar, DenseDesign<Scalar>> {
  bool shared_design = false;  // every X_t is the same matrix

  /// Checks the shapes agree and every task has samples; throws InvalidArgument otherwise.
  void validate() const { TaskBlocks<Scalar, DenseDesign<Scalar>>::validate(false); }
};

/// Per-task means used for centring: x_mean (d) and y_mean; zeros without intercept.
template <typename Scalar>
struct TaskMeans {
  Vector<Scalar> x_mean;  // (d)
  Scalar y_mean = 0;
};

template <typename Scalar>
TaskMeans<Scalar> task_means(const TaskData<Scalar>& data, Index t) {
  TaskMeans<Scalar> means;
  const Index d = data.n_features();
  if (data.fit_intercept) {
    // As X^T 1 / n: a column-wise reduction of a row-major block is slower.
    means.x_mean = data.X[t].transpose() * Vector<Scalar>::Ones(data.n_samples(t)) / Scalar(data.n_samples(t));
    means.y_mean = data.y[t].mean();
  } else {
    means.x_mean = Vector<Scalar>::Zero(d);
  }
  return means;
}

}  // namespace multitask
