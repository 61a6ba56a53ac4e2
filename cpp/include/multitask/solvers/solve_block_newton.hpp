// Block-coordinate descent over tasks with a second-order step per block
// (block Gauss-Seidel, "block_newton") for the kernel-coupled linear-model objective.
//
// Block t, with the other tasks held fixed, minimises over (w_t, b_t)
//   phi(w, b) = s_t sum_i l(y_ti, <w, x_ti> + b) + alpha K_tt/2 ||w||^2 + <c_t, w>,
//   c_t = alpha sum_{s != t} K_ts w_s,
// by one truncated Newton step (truncated_newton.hpp: preconditioned CG to a
// forcing tolerance, then an Armijo backtracking line search on phi). Tasks
// that do not interact through K are updated in parallel
// (independent_task_groups), the others in turn.
//
// State kept per task between steps, so that a step costs one pass for its
// direction's margins, one for the new gradient and two per CG iteration:
// the margins f_t = X_t w_t + b_t, s_t sum_i l and the data gradient
// s_t X_t^T l'(f_t), s_t 1^T l'(f_t).
// Stopping rule (as every solver): ||grad F|| <= tol ||grad F(0)|| after a sweep.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/parallel.hpp>
#include <multitask/data/task_blocks.hpp>
#include <multitask/objectives/coupling_term.hpp>
#include <multitask/objectives/pointwise_losses.hpp>
#include <multitask/solvers/solver_result.hpp>
#include <multitask/solvers/task_coloring.hpp>
#include <multitask/solvers/truncated_newton.hpp>

namespace multitask {

namespace block_newton_detail {

/// Loss state of one task at its current (w_t, b_t).
template <typename Scalar>
struct TaskState {
  Vector<Scalar> margins;        // (n_t) f_t = X_t w_t + b_t
  Scalar loss = 0;               // s_t sum_i l(y_ti, f_ti)
  Vector<Scalar> data_gradient;  // (d) s_t X_t^T l'(f_t)
  Scalar intercept_gradient = 0; // s_t 1^T l'(f_t)
};

/// Recomputes loss and data gradient of task t from its margins (one pass).
template <typename Scalar, typename Design>
void refresh_gradient(const TaskBlocks<Scalar, Design>& data, PointwiseLoss loss, Index t,
                      TaskState<Scalar>& state) {
  const Scalar s = data.sample_weight[t];
  Vector<Scalar> first;
  state.loss = s * pointwise_loss_derivative(loss, data.y[t], state.margins, first);
  first *= s;
  state.data_gradient.noalias() = data.X[t].transpose() * first;
  state.intercept_gradient = data.fit_intercept ? first.sum() : Scalar(0);
}

/// One truncated Newton step with line search on block t; updates w_t = W.col(t), b and
/// the task state. `coupling_from_others` is c_t. Returns passes over X_t.
/// The block's parameters are packed as [w; b] (d + 1); without intercept the b
/// entries of the gradient and of every Hessian product are 0, so b stays put.
template <typename Scalar, typename Design>
long newton_block_step(const TaskBlocks<Scalar, Design>& data, PointwiseLoss loss, Scalar diagonal_coupling,
                       const Vector<Scalar>& coupling_from_others, double gradient_scale, Index t,
                       Matrix<Scalar>& W, Scalar& b, TaskState<Scalar>& state) {
  using namespace truncated_newton;
  auto w = W.col(t);
  const auto& X = data.X[t];
  const Scalar s = data.sample_weight[t];
  const Index d = X.cols();
  const bool with_intercept = data.fit_intercept;
  const Scalar ridge = diagonal_coupling;  // alpha K_tt

  // Block gradient g = [g_w; g_b].
  Vector<Scalar> gradient(d + 1);
  gradient << state.data_gradient + ridge * w + coupling_from_others, state.intercept_gradient;
  const Scalar g_norm = gradient.norm();
  if (g_norm == 0) return 0;

  // Block Hessian H = s X~^T D X~ + ridge (I on w, 0 on b), D = l''(f); its diagonal preconditions.
  Vector<Scalar> curvature;
  pointwise_loss_curvature(loss, data.y[t], state.margins, curvature);
  curvature *= s;
  Vector<Scalar> column_squares, preconditioner(d + 1);
  weighted_column_squares<Scalar>(X, curvature, column_squares);
  preconditioner << column_squares.array() + ridge, with_intercept ? curvature.sum() : Scalar(1);
  floor_preconditioner(preconditioner);
  long passes = 1;

  Vector<Scalar> u(X.rows());
  auto hessian_product = [&](const Vector<Scalar>& v, Vector<Scalar>& hv) {
    u.noalias() = X * v.head(d);
    if (with_intercept) u.array() += v[d];
    u.array() *= curvature.array();
    hv.head(d).noalias() = X.transpose() * u;
    hv.head(d) += ridge * v.head(d);
    hv[d] = with_intercept ? u.sum() : Scalar(0);
    passes += 2;
  };
  const Vector<Scalar> p = newton_direction(hessian_product, gradient, preconditioner, forcing_term(g_norm, gradient_scale));
  const auto p_w = p.head(d);
  const Scalar p_b = with_intercept ? p[d] : Scalar(0);

  // Armijo backtracking on phi(tau) along p; the quadratic part in closed form.
  Vector<Scalar> direction_margins = X * p_w;
  direction_margins.array() += p_b;
  ++passes;
  const Scalar slope = gradient.head(d).dot(p_w) + gradient[d] * p_b;  // < 0 for a descent direction
  if (!(slope < 0)) return passes;
  const Scalar ww = w.squaredNorm(), wp = w.dot(p_w), pp = p_w.squaredNorm();
  const Scalar cw = coupling_from_others.dot(w), cp = coupling_from_others.dot(p_w);
  auto penalty = [&](Scalar tau) { return ridge / 2 * (ww + 2 * tau * wp + tau * tau * pp) + cw + tau * cp; };
  const Scalar phi0 = state.loss + penalty(0);
  const Scalar magnitude = std::abs(state.loss) + std::abs(penalty(0));
  Scalar tau = 1;
  Vector<Scalar> trial(X.rows());
  for (int backtrack = 0;; ++backtrack) {
    trial = state.margins + tau * direction_margins;
    const Scalar phi = s * pointwise_loss_sum<Scalar>(loss, data.y[t], trial) + penalty(tau);
    if (armijo_holds(phi, phi0, tau, slope, magnitude)) break;
    if (backtrack == kMaxBacktracks) return passes;  // no decrease found: leave the block unchanged
    tau /= 2;
  }
  w += tau * p_w;
  b += tau * p_b;
  state.margins = trial;
  refresh_gradient(data, loss, t, state);
  return passes + 1;
}

}  // namespace block_newton_detail

/// Minimises the kernel-coupled linear-model objective by block Newton
/// sweeps over tasks from (W, b) (updated in place: W (d, T), b (T)).
template <typename Scalar, typename Design>
void block_newton(const TaskBlocks<Scalar, Design>& data, PointwiseLoss loss, const CouplingTerm<Scalar>& coupling,
                  const SolverOptions& options, Matrix<Scalar>& W, Vector<Scalar>& b,
                  SolverResult<Scalar>& result) {
  using namespace block_newton_detail;
  const Index T = data.n_tasks();
  const int n_threads = threads_for_work(4 * data.total_entries(), options.n_threads);
  std::vector<TaskState<Scalar>> states(T);
  double passes = 0;  // in units of the whole data set
  const double total_entries = data.total_entries();

  // ||grad F(0)||: the data gradient at zero margins (the coupling term vanishes).
  std::vector<Scalar> zero_norms(T);
  const bool starts_at_zero = W.isZero(0) && b.isZero(0);
  parallel_for(T, n_threads, [&](Index t) {
    states[t].margins = data.X[t] * W.col(t);
    states[t].margins.array() += b[t];
    refresh_gradient(data, loss, t, states[t]);
    if (starts_at_zero) {
      zero_norms[t] = states[t].data_gradient.squaredNorm() + states[t].intercept_gradient * states[t].intercept_gradient;
    } else {
      TaskState<Scalar> at_zero;
      at_zero.margins.setZero(data.n_samples(t));
      refresh_gradient(data, loss, t, at_zero);
      zero_norms[t] = at_zero.data_gradient.squaredNorm() + at_zero.intercept_gradient * at_zero.intercept_gradient;
    }
  });
  passes += starts_at_zero ? 2 : 3;
  double scale = 0;
  for (Index t = 0; t < T; ++t) scale += static_cast<double>(zero_norms[t]);
  scale = std::sqrt(scale);

  // Relative KKT residual and objective at the current point (coupling part: O(d T^2)).
  auto measure = [&]() {
    const Matrix<Scalar> WK = coupling.times_coupling(W);
    double squared = 0, value = 0;
    for (Index t = 0; t < T; ++t) {
      const Scalar g_b = states[t].intercept_gradient;
      squared += static_cast<double>((states[t].data_gradient + coupling.gradient(WK.col(t))).squaredNorm() + g_b * g_b);
      value += static_cast<double>(states[t].loss);
    }
    value += static_cast<double>(coupling.value(W, WK));
    return std::make_pair(scale > 0 ? std::sqrt(squared) / scale : 0.0, value);
  };

  if (scale == 0) {  // grad F(0) = 0: W = 0, b = 0 is optimal
    W.setZero();
    b.setZero();
    result.converged = true;
    result.data_passes = std::lround(passes);
    return;
  }
  auto [residual, value] = measure();
  check_finite(scale, "block_newton", "the gradient at 0", 0);
  check_finite(residual, "block_newton", "the gradient", 0);
  check_finite(value, "block_newton", "the objective", 0);
  const auto groups = independent_task_groups(coupling.matrix());
  // A block whose gradient is this small cannot hold the sweep above tol.
  const double skip_below = 0.5 * options.tol * scale / std::sqrt(static_cast<double>(T));
  while (residual > options.tol && result.n_iter < options.max_iter) {
    for (const auto& group : groups) {
      poll_interrupt();  // between groups, outside the parallel region
      // c_t = alpha (W K)_t - alpha K_tt w_t for the group, before any of it moves.
      const Index m = static_cast<Index>(group.size());
      const Matrix<Scalar> from_others = coupling.gradient_columns(W, group);
      std::vector<double> group_passes(m, 0);
      parallel_for(m, n_threads, [&](Index k) {
        const Index t = group[k];
        const Scalar ridge = coupling.diagonal(t);
        Vector<Scalar> c = from_others.col(k) - ridge * W.col(t);
        const Scalar g_b = states[t].intercept_gradient;
        const double block_norm = std::sqrt(static_cast<double>((states[t].data_gradient + ridge * W.col(t) + c).squaredNorm() + g_b * g_b));
        if (block_norm <= skip_below) return;
        const long block_passes = newton_block_step(data, loss, ridge, c, scale, t, W, b[t], states[t]);
        group_passes[k] = static_cast<double>(block_passes) * stored_entries<Scalar>(data.X[t]) / total_entries;
      });
      for (double p : group_passes) passes += p;
    }
    ++result.n_iter;
    std::tie(residual, value) = measure();
    check_finite(residual, "block_newton", "the gradient", result.n_iter);
    check_finite(value, "block_newton", "the objective", result.n_iter);
    result.objective_history.push_back(value);
  }
  result.converged = residual <= options.tol;
  result.residual = residual;
  result.data_passes = std::lround(passes);
}

}  // namespace multitask
