// A read-only view of multi-task regression data: one (n_t, d) row-major block
// and one target vector per task, anywhere in memory (no copy of the caller's
// arrays), with per-sample weights s_t = omega_t / N and per-task centring.
#pragma once

#include <vector>

#include <multitask/common/types.hpp>

namespace multitask {

template <typename Scalar>
struct TaskData {
  using RowMap = Eigen::Map<const RowMatrix<Scalar>>;
  // Targets may be strided: the columns of a shared design's (n, T) row-major Y.
  using VecMap = Eigen::Map<const Vector<Scalar>, 0, Eigen::InnerStride<>>;

  std::vector<RowMap> X;            // T blocks, each (n_t, d)
  std::vector<VecMap> y;            // T vectors, each (n_t), any stride
  Vector<Scalar> sample_weight;     // (T) s_t = omega_t / N: weight of every sample of task t
  bool fit_intercept = true;        // centre X_t and y_t per task (unpenalised b_t)
  bool shared_design = false;       // every X_t is the same matrix (multi-output form)

  Index n_tasks() const { return static_cast<Index>(X.size()); }
  Index n_features() const { return X.empty() ? 0 : X.front().cols(); }
  Index n_samples(Index t) const { return X[t].rows(); }

  /// Checks the shapes agree and every task has samples; throws InvalidArgument otherwise.
  void validate() const {
    require(!X.empty(), "at least one task is required");
    require(X.size() == y.size(), "X and y must hold the same number of tasks");
    require(sample_weight.size() == n_tasks(), "sample_weight must have one entry per task");
    const Index d = n_features();
    require(d > 0, "X must have at least one feature");
    for (Index t = 0; t < n_tasks(); ++t) {
      require(X[t].cols() == d, "every task must have the same number of features");
      require(X[t].rows() == y[t].size(), "X and y of a task must have the same number of rows");
      require(X[t].rows() > 0, "task " + std::to_string(t) + " has no samples");
      require(sample_weight[t] > 0, "task weights must be positive");
    }
  }
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
