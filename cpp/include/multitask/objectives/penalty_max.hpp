// The smallest weight of a sparsity penalty at which W = 0 is optimal
// ("penalty_max", the start of a regularisation path), for every pointwise loss.
//
// With G0 (d, T) the gradient in W of the data term
//     sum_t s_t sum_i l(y_ti, <w_t, x_ti> + b_t)
// at W = 0 and the intercepts at their optimum for W = 0 (each task's best
// constant prediction; 0 without intercept), W = 0 is optimal exactly when -G0
// lies in the penalty's subdifferential at 0 (the coupling term's gradient
// vanishes at W = 0). Row j of G0 is feature j across the tasks:
//   l21 (rho_1 fixed):  rho_21 >= max_j ||S_rho1(G0_j)||        (S: soft-thresholding)
//   l1 (rho_21 fixed):  rho_1 >= max_j min{c : ||S_c(G0_j)|| <= rho_21}
//   trace norm:         rho_* >= ||G0||_2 (largest singular value)
#pragma once

#include <algorithm>
#include <string>

#include <multitask/data/task_blocks.hpp>
#include <multitask/linalg/thin_svd.hpp>
#include <multitask/objectives/pointwise_losses.hpp>
#include <multitask/objectives/sparsity_penalty.hpp>

namespace multitask {

/// G0 (d, T) of the file comment.
template <typename Scalar, typename Design>
Matrix<double> gradient_at_zero(const TaskBlocks<Scalar, Design>& data, const PointwiseLoss& loss) {
  const Index T = data.n_tasks(), d = data.n_features();
  Matrix<double> G0(d, T);
  for (Index t = 0; t < T; ++t) {
    const double b = data.fit_intercept ? best_constant_prediction(loss, data.y[t]) : 0.0;
    const Vector<Scalar> predictions = Vector<Scalar>::Constant(data.n_samples(t), static_cast<Scalar>(b));
    Vector<Scalar> first;
    pointwise_loss_derivative(loss, data.y[t], predictions, first);
    const Vector<Scalar> column = data.X[t].transpose() * first;
    G0.col(t) = column.template cast<double>() * static_cast<double>(data.sample_weight[t]);
  }
  return G0;
}

/// penalty_max of `which` ("l21", "l1" or "trace_norm") from G0, the other
/// weights taken from `fixed`: each penalty type knows its own.
template <typename Derived>
double penalty_max_from_gradient(const Eigen::MatrixBase<Derived>& G0, const SparsityPenalty& fixed,
                                 const std::string& which) {
  if (which == "trace_norm") return TraceNormPenalty::penalty_max(G0);
  require(which == "l21" || which == "l1", "penalty must be 'l21', 'l1' or 'trace_norm', got '" + which + "'");
  return fixed.rows.penalty_max(G0, which);
}

}  // namespace multitask
