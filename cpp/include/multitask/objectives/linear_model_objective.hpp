// The kernel-coupled linear-model objective over x = [vec(W); b]
// (W (d, T) column-major, so w_t is contiguous; b (T)):
//
//   F(W, b) = sum_t s_t sum_i l(y_ti, <w_t, x_ti> + b_t) + alpha/2 tr(W K W^T)
//
//   dF/dw_t = s_t X_t^T l'(f_t) + alpha (W K)_t,     dF/db_t = s_t 1^T l'(f_t),
//   H [v; c]: w_t part s_t X_t^T (l''(f_t) o u_t) + alpha (V K)_t,
//             b_t part s_t 1^T (l''(f_t) o u_t),     u_t = X_t v_t + c_t,
//
// with f_t = X_t w_t + b_t. Without intercepts b is ignored (f_t = X_t w_t)
// and its gradient is zero, so b stays at 0. Satisfies the Objective interface of
// accelerated_gradient.hpp; parallel over tasks, summed in task order.
#pragma once

#include <vector>

#include <multitask/common/parallel.hpp>
#include <multitask/data/task_blocks.hpp>
#include <multitask/objectives/coupling_term.hpp>
#include <multitask/objectives/pointwise_losses.hpp>

namespace multitask {

template <typename Scalar, typename Design>
class LinearModelObjective {
 public:
  LinearModelObjective(const TaskBlocks<Scalar, Design>& data, PointwiseLoss loss,
                          const Matrix<Scalar>& coupling, Scalar alpha, int n_threads)
      : data_(data), loss_(loss), coupling_(coupling, alpha) {
    n_threads_ = threads_for_work(4 * data.total_entries(), n_threads);
  }

  Index size() const { return data_.n_features() * data_.n_tasks() + data_.n_tasks(); }
  long data_passes() const { return data_passes_; }

  Scalar value(const Vector<Scalar>& x) { return evaluate(x, nullptr); }
  Scalar value_and_gradient(const Vector<Scalar>& x, Vector<Scalar>& gradient_out) {
    return evaluate(x, &gradient_out);
  }

  /// hv_out = H(x) v, the Hessian (generalised for the squared hinge) times v.
  void hessian_product(const Vector<Scalar>& x, const Vector<Scalar>& v, Vector<Scalar>& hv_out) {
    prepare_curvature(x, nullptr);
    curvature_product(v, hv_out);
  }

  /// Stores the loss curvature s_t l''(f_t) at x for curvature_product (one
  /// pass); with diagonal_out, also the Hessian's diagonal (another pass).
  void prepare_curvature(const Vector<Scalar>& x, Vector<Scalar>* diagonal_out) {
    const Index d = data_.n_features(), T = data_.n_tasks();
    const auto W = coef(x);
    const auto b = intercept(x);
    curvature_.resize(T);
    if (diagonal_out) diagonal_out->resize(size());
    parallel_for(T, n_threads_, [&](Index t) {
      Vector<Scalar> margins = data_.X[t] * W.col(t);
      if (data_.fit_intercept) margins.array() += b[t];
      pointwise_loss_curvature(loss_, data_.y[t], margins, curvature_[t]);
      curvature_[t] *= data_.sample_weight[t];
      if (!diagonal_out) return;
      Vector<Scalar> column_squares;
      weighted_column_squares<Scalar>(data_.X[t], curvature_[t], column_squares);
      diagonal_out->segment(t * d, d) = column_squares.array() + coupling_.diagonal(t);
      (*diagonal_out)[d * T + t] = data_.fit_intercept ? curvature_[t].sum() : Scalar(0);
    });
    data_passes_ += diagonal_out ? 2 : 1;
  }

  /// hv_out = H v at the point of the last prepare_curvature (two passes).
  void curvature_product(const Vector<Scalar>& v, Vector<Scalar>& hv_out) {
    const Index d = data_.n_features(), T = data_.n_tasks();
    const auto V = coef(v);
    hv_out.resize(size());
    Eigen::Map<Matrix<Scalar>> HV(hv_out.data(), d, T);
    coupling_.apply(V, HV);
    parallel_for(T, n_threads_, [&](Index t) {
      Vector<Scalar> u = data_.X[t] * V.col(t);
      if (data_.fit_intercept) u.array() += intercept(v)[t];
      u.array() *= curvature_[t].array();
      HV.col(t) += data_.X[t].transpose() * u;
      hv_out[d * T + t] = data_.fit_intercept ? u.sum() : Scalar(0);
    });
    data_passes_ += 2;
  }

 private:
  Eigen::Map<const Matrix<Scalar>> coef(const Vector<Scalar>& x) const {
    return {x.data(), data_.n_features(), data_.n_tasks()};
  }
  Eigen::Map<const Vector<Scalar>> intercept(const Vector<Scalar>& x) const {
    return {x.data() + data_.n_features() * data_.n_tasks(), data_.n_tasks()};
  }

  Scalar evaluate(const Vector<Scalar>& x, Vector<Scalar>* gradient_out) {
    const Index d = data_.n_features(), T = data_.n_tasks();
    const auto W = coef(x);
    const auto b = intercept(x);
    const Matrix<Scalar> WK = coupling_.times_coupling(W);  // (d, T)
    Vector<Scalar> task_loss(T);
    if (gradient_out) gradient_out->resize(size());
    parallel_for(T, n_threads_, [&](Index t) {
      const Scalar s = data_.sample_weight[t];
      Vector<Scalar> margins = data_.X[t] * W.col(t);
      if (data_.fit_intercept) margins.array() += b[t];
      if (!gradient_out) {
        task_loss[t] = s * pointwise_loss_sum<Scalar>(loss_, data_.y[t], margins);
        return;
      }
      Vector<Scalar> first;
      task_loss[t] = s * pointwise_loss_derivative(loss_, data_.y[t], margins, first);
      first *= s;
      gradient_out->segment(t * d, d).noalias() = data_.X[t].transpose() * first;
      gradient_out->segment(t * d, d) += coupling_.gradient(WK.col(t));
      (*gradient_out)[d * T + t] = data_.fit_intercept ? first.sum() : Scalar(0);
    });
    data_passes_ += gradient_out ? 2 : 1;
    return task_loss.sum() + coupling_.value(W, WK);
  }

  const TaskBlocks<Scalar, Design>& data_;
  PointwiseLoss loss_;
  CouplingTerm<Scalar> coupling_;
  int n_threads_;
  long data_passes_ = 0;
  std::vector<Vector<Scalar>> curvature_;  // per task s_t l''(f_t) at the prepared point
};

}  // namespace multitask
