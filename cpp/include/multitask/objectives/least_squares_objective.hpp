// The kernel-coupled least-squares objective evaluated on the data itself
// (no Gram matrices), for the accelerated gradient solver:
//     f(W) = sum_t s_t/2 ||X~_t w_t - y~_t||^2 + alpha/2 tr(W K W^T),
//     grad_t = s_t X~_t^T (X~_t w_t - y~_t) + alpha (W K)_t,
// with x = vec(W) (d T) and intercepts eliminated by per-task centring.
#pragma once

#include <vector>

#include <multitask/common/parallel.hpp>
#include <multitask/data/gram.hpp>
#include <multitask/data/task_data.hpp>
#include <multitask/objectives/coupling_term.hpp>

namespace multitask {

template <typename Scalar>
class LeastSquaresObjective {
 public:
  LeastSquaresObjective(const TaskData<Scalar>& data, const Matrix<Scalar>& coupling, Scalar alpha, int n_threads)
      : data_(data), coupling_(coupling, alpha), means_(data.n_tasks()) {
    double n_total = 0;
    for (Index t = 0; t < data.n_tasks(); ++t) n_total += static_cast<double>(data.n_samples(t));
    n_threads_ = threads_for_work(4 * n_total * static_cast<double>(data.n_features()), n_threads);
    parallel_for(data.n_tasks(), n_threads_, [&](Index t) { means_[t] = task_means(data, t); });
  }

  Index size() const { return data_.n_features() * data_.n_tasks(); }
  long data_passes() const { return data_passes_; }
  const TaskMeans<Scalar>& means(Index t) const { return means_[t]; }

  Scalar value(const Vector<Scalar>& x) { return evaluate(x, nullptr); }
  Scalar value_and_gradient(const Vector<Scalar>& x, Vector<Scalar>& gradient_out) {
    return evaluate(x, &gradient_out);
  }

 private:
  Scalar evaluate(const Vector<Scalar>& x, Vector<Scalar>* gradient_out) {
    const Index d = data_.n_features(), T = data_.n_tasks();
    const Eigen::Map<const Matrix<Scalar>> W(x.data(), d, T);
    const Matrix<Scalar> WK = coupling_.times_coupling(W);  // (d, T)
    Vector<Scalar> task_loss(T);
    if (gradient_out) gradient_out->resize(size());
    parallel_for(T, n_threads_, [&](Index t) {
      const Scalar s = data_.sample_weight[t];
      Vector<Scalar> residual = centred_product(data_.X[t], means_[t].x_mean, W.col(t));
      residual.array() -= data_.y[t].array() - means_[t].y_mean;
      task_loss[t] = s / 2 * residual.squaredNorm();
      if (gradient_out) {
        gradient_out->segment(t * d, d) =
            s * centred_transpose_product(data_.X[t], means_[t].x_mean, residual) + coupling_.gradient(WK.col(t));
      }
    });
    data_passes_ += gradient_out ? 2 : 1;
    // Summed in task order after the parallel loop: identical for any thread count.
    return task_loss.sum() + coupling_.value(W, WK);
  }

  const TaskData<Scalar>& data_;
  CouplingTerm<Scalar> coupling_;
  int n_threads_;
  std::vector<TaskMeans<Scalar>> means_;
  long data_passes_ = 0;
};

}  // namespace multitask
