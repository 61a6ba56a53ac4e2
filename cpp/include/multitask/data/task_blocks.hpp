// The one view of multi-task data the solvers read (TaskData specialises it
// for the squared loss on dense designs): one design block per task (dense row-major or sparse CSR, mapped over the
// caller's buffers, never copied or densified), labels in {-1, +1} (real
// targets for the squared loss), and the weight s_t = omega_t / N of every
// sample of task t.
#pragma once

#include <string>
#include <vector>

#include <multitask/data/designs.hpp>

namespace multitask {

/// Stored entries of a design block: the cost of one product with it.
template <typename Scalar>
double stored_entries(const DenseDesign<Scalar>& X) {
  return static_cast<double>(X.rows()) * static_cast<double>(X.cols());
}
template <typename Scalar>
double stored_entries(const SparseDesign<Scalar>& X) {
  return static_cast<double>(X.nonZeros());
}

/// diag_out_j = sum_i weights_i x_ij^2 (the diagonal of X^T diag(weights) X).
template <typename Scalar>
void weighted_column_squares(const DenseDesign<Scalar>& X, const Vector<Scalar>& weights, Vector<Scalar>& diag_out) {
  diag_out.setZero(X.cols());
  for (Index i = 0; i < X.rows(); ++i) diag_out += weights[i] * X.row(i).transpose().cwiseAbs2();
}
template <typename Scalar>
void weighted_column_squares(const SparseDesign<Scalar>& X, const Vector<Scalar>& weights, Vector<Scalar>& diag_out) {
  diag_out.setZero(X.cols());
  for (Index i = 0; i < X.outerSize(); ++i)
    for (typename SparseDesign<Scalar>::InnerIterator it(X, i); it; ++it)
      diag_out[it.col()] += weights[i] * it.value() * it.value();
}

template <typename Scalar, typename Design>
struct TaskBlocks {
  using LabelMap = Eigen::Map<const Vector<Scalar>, 0, Eigen::InnerStride<>>;

  std::vector<Design> X;         // T blocks, each (n_t, d)
  std::vector<LabelMap> y;       // T label vectors (n_t), entries -1 or +1, any stride
  Vector<Scalar> sample_weight;  // (T) s_t = omega_t / N
  bool fit_intercept = true;     // unpenalised b_t per task

  Index n_tasks() const { return static_cast<Index>(X.size()); }
  Index n_features() const { return X.empty() ? 0 : X.front().cols(); }
  Index n_samples(Index t) const { return X[t].rows(); }
  double total_entries() const {
    double total = 0;
    for (const auto& block : X) total += stored_entries<Scalar>(block);
    return total;
  }

  /// Checks shapes and, with sign_labels, that every label is -1 or +1; throws InvalidArgument otherwise.
  void validate(bool sign_labels = true) const {
    require(!X.empty(), "at least one task is required");
    require(X.size() == y.size(), "X and y must hold the same number of tasks");
    require(sample_weight.size() == n_tasks(), "sample_weight must have one entry per task");
    const Index d = n_features();
    require(d > 0, "X must have at least one feature");
    for (Index t = 0; t < n_tasks(); ++t) {
      const std::string task = "task " + std::to_string(t);
      require(X[t].cols() == d, "every task must have the same number of features");
      require(X[t].rows() == y[t].size(), "X and y of " + task + " must have the same number of rows");
      require(X[t].rows() > 0, task + " has no samples");
      require(sample_weight[t] > 0, "task weights must be positive");
      require(!sign_labels || (y[t].array().abs() == Scalar(1)).all(), "labels of " + task + " must be -1 or +1");
    }
  }
};

/// The mean row X^T 1 / n (d) of a design, dense or sparse: what centring subtracts.
template <typename Scalar, typename Design>
Vector<Scalar> column_means(const Design& X) {
  // As X^T 1 / n: a column-wise reduction of a row-major block is slower.
  return X.transpose() * Vector<Scalar>::Ones(X.rows()) / Scalar(X.rows());
}

/// Per-task means used for centring: x_mean (d) and y_mean; zeros without intercept.
template <typename Scalar>
struct TaskMeans {
  Vector<Scalar> x_mean;  // (d)
  Scalar y_mean = 0;
};

template <typename Scalar, typename Design>
TaskMeans<Scalar> task_means(const TaskBlocks<Scalar, Design>& data, Index t) {
  TaskMeans<Scalar> means;
  if (data.fit_intercept) {
    means.x_mean = column_means<Scalar>(data.X[t]);
    means.y_mean = data.y[t].mean();
  } else {
    means.x_mean = Vector<Scalar>::Zero(data.n_features());
  }
  return means;
}

}  // namespace multitask
