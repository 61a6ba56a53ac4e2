// The kernel-coupled least-squares system in Gram space.
//
// Optimality of F(W) = sum_t (1/2 w_t^T A_t w_t - c_t^T w_t + q_t) + alpha/2 tr(W K W^T)
// (intercepts eliminated by centring) is the linear system
//     H(W) = C,   H(W)_t = A_t w_t + alpha (W K)_t,
// i.e. (blockdiag(A_t) + alpha K (x) I_d) vec(W) = vec(C), with W = [w_1 ... w_T] (d, T).
#pragma once

#include <vector>

#include <multitask/data/gram.hpp>
#include <multitask/objectives/coupling_term.hpp>

namespace multitask {

template <typename Scalar>
class CoupledSystem {
 public:
  CoupledSystem(const TaskData<Scalar>& data, const Matrix<Scalar>& coupling, Scalar alpha, int n_threads,
                bool form_all_grams)
      : data_(data), coupling_(coupling, alpha), n_threads_(n_threads) {
    require(coupling.rows() == data.n_tasks() && coupling.cols() == data.n_tasks(),
            "coupling must be (n_tasks, n_tasks)");
    require(alpha >= 0, "alpha must be non-negative");
    std::vector<char> force_gram(data.n_tasks());
    for (Index t = 0; t < data.n_tasks(); ++t) force_gram[t] = form_all_grams || !(coupling_.diagonal(t) > 0);
    stats_ = task_statistics(data, n_threads, force_gram);
    const double d = static_cast<double>(data.n_features());
    apply_threads_ = threads_for_work(d * d * static_cast<double>(data.n_tasks()), n_threads);
    rhs_.resize(data.n_features(), data.n_tasks());
    weights_.resize(data.n_tasks());
    for (Index t = 0; t < n_tasks(); ++t) {
      rhs_.col(t) = stats_[t].c;
      weights_[t] = stats_[t].weight;
    }
  }

  /// The same statistics with another alpha (a regularisation path). Which
  /// tasks hold a Gram depends only on whether alpha K_tt > 0, so along a path
  /// of positive alphas the statistics stay valid.
  void set_alpha(Scalar alpha) {
    require(alpha > 0 || coupling_.alpha() == 0, "set_alpha needs alpha > 0 on a system built with alpha > 0");
    coupling_ = CouplingTerm<Scalar>(Matrix<Scalar>(coupling_.matrix()), alpha);
  }

  Index n_tasks() const { return data_.n_tasks(); }
  Index n_features() const { return data_.n_features(); }
  Scalar alpha() const { return coupling_.alpha(); }
  int n_threads() const { return n_threads_; }
  /// Threads for one pass of per-task (d, d) work such as H(W) or a preconditioner.
  int apply_threads() const { return apply_threads_; }
  const Matrix<Scalar>& coupling() const { return coupling_.matrix(); }
  const CouplingTerm<Scalar>& coupling_term() const { return coupling_; }
  const Matrix<Scalar>& rhs() const { return rhs_; }  // C (d, T)
  const TaskData<Scalar>& data() const { return data_; }
  const TaskStatistics<Scalar>& stats(Index t) const { return stats_[t]; }

  /// A_t v: through the Gram, or through the data for a wide task (X~^T (X~ v)).
  template <typename Vec>
  Vector<Scalar> apply_task_gram(Index t, const Vec& v) const {
    const TaskStatistics<Scalar>& s = stats_[t];
    if (s.has_gram()) return s.weight * (*s.gram * v);
    const Vector<Scalar> u = centred_product(data_.X[t], s.x_mean, v);
    return s.weight * centred_transpose_product(data_.X[t], s.x_mean, u);
  }

  /// out = H(W) = [A_t w_t] + alpha W K, parallel over tasks.   W, out: (d, T)
  void apply(const Matrix<Scalar>& W, Matrix<Scalar>& out) const {
    coupling_.apply(W, out);
    if (data_.shared_design) {  // one product G (W S) instead of T matrix-vector products
      out.noalias() += *stats_[0].gram * (W * weights_.asDiagonal());
      return;
    }
    parallel_for(n_tasks(), apply_threads_, [&](Index t) { out.col(t) += apply_task_gram(t, W.col(t)); });
  }

  /// Sum of the constants q_t (the loss at W = 0).
  Scalar constant() const {
    Scalar total = 0;
    for (const auto& s : stats_) total += s.q;
    return total;
  }

  /// F(W) from H(W) already computed: 1/2 <W, H W> - <C, W> + sum q_t.
  Scalar objective_from_product(const Matrix<Scalar>& W, const Matrix<Scalar>& HW) const {
    return Scalar(0.5) * (W.cwiseProduct(HW)).sum() - (W.cwiseProduct(rhs_)).sum() + constant();
  }

  Scalar objective(const Matrix<Scalar>& W) const {
    Matrix<Scalar> HW(W.rows(), W.cols());
    apply(W, HW);
    return objective_from_product(W, HW);
  }

  /// Intercepts b_t = y_mean_t - x_mean_t^T w_t (zeros without intercept).   (T)
  Vector<Scalar> intercepts(const Matrix<Scalar>& W) const {
    Vector<Scalar> b(n_tasks());
    for (Index t = 0; t < n_tasks(); ++t) b[t] = stats_[t].y_mean - stats_[t].x_mean.dot(W.col(t));
    return b;
  }

 private:
  const TaskData<Scalar>& data_;
  CouplingTerm<Scalar> coupling_;
  int n_threads_;
  int apply_threads_ = 1;
  std::vector<TaskStatistics<Scalar>> stats_;
  Matrix<Scalar> rhs_;      // (d, T)
  Vector<Scalar> weights_;  // (T) s_t
};

}  // namespace multitask
