// Truncated Newton on all parameters at once ("newton") for the kernel-coupled
// classification objective, x = [vec(W); b].
//
// Each iteration: the Hessian H = blockdiag_t(s_t X~_t^T D_t X~_t) + alpha K (x) I
// at x (generalised for the squared hinge), a direction from preconditioned CG
// with its diagonal (truncated_newton.hpp), and an Armijo line search on F.
// The coupling enters every CG product exactly, so strongly coupled tasks cost
// no more iterations than independent ones (block Gauss-Seidel, "block_newton", slows
// down as the coupling grows relative to the data curvature). Products are
// parallel over tasks. Per iteration: 2 passes for the curvature and its
// diagonal, 2 per CG iteration, 2 per line-search trial (value and gradient).
// Stopping rule (as every solver): ||grad F(x)|| <= tol ||grad F(0)||.
#pragma once

#include <cmath>

#include <multitask/common/interrupt.hpp>
#include <multitask/solvers/solver_result.hpp>
#include <multitask/solvers/truncated_newton.hpp>

namespace multitask {

/// Minimises the objective from x (updated in place). Objective: value_and_gradient,
/// prepare_curvature, curvature_product, size, data_passes (linear_model_objective.hpp).
template <typename Scalar, typename Objective>
void newton(Objective& objective, Vector<Scalar>& x, const SolverOptions& options, SolverResult<Scalar>& result) {
  using namespace truncated_newton;
  const Index n = objective.size();
  Vector<Scalar> gradient(n), trial(n), trial_gradient(n), preconditioner(n);

  Scalar value = objective.value_and_gradient(x, gradient);
  check_finite(static_cast<double>(value), "newton", "the objective at the starting point", 0);
  check_finite(static_cast<double>(gradient.norm()), "newton", "the gradient at the starting point", 0);
  double scale = static_cast<double>(gradient.norm());  // ||grad F(0)||, the scale of the stopping rule
  if (!x.isZero(0)) {
    Vector<Scalar> gradient_at_zero(n);
    objective.value_and_gradient(Vector<Scalar>::Zero(n), gradient_at_zero);
    scale = static_cast<double>(gradient_at_zero.norm());
    check_finite(scale, "newton", "the gradient at 0", 0);
  }
  if (scale == 0) {  // grad F(0) = 0: x = 0 is optimal (F convex), whatever the start
    x.setZero();
    result.converged = true;
    result.data_passes = objective.data_passes();
    return;
  }
  double residual = static_cast<double>(gradient.norm()) / scale;

  while (residual > options.tol && result.n_iter < options.max_iter) {
    poll_interrupt();
    objective.prepare_curvature(x, &preconditioner);
    check_all_finite(preconditioner, "newton", "the curvature (Hessian diagonal)", result.n_iter);
    floor_preconditioner(preconditioner);
    auto hessian_product = [&](const Vector<Scalar>& v, Vector<Scalar>& hv) { objective.curvature_product(v, hv); };
    const Vector<Scalar> p =
        newton_direction(hessian_product, gradient, preconditioner, forcing_term(gradient.norm(), scale));
    const Scalar slope = gradient.dot(p);
    if (!(slope < 0)) break;  // no descent direction left at working precision
    Scalar tau = 1;
    bool accepted = false;
    for (int backtrack = 0; backtrack <= kMaxBacktracks; ++backtrack, tau /= 2) {
      poll_interrupt();  // each trial is a pass over the data
      trial = x + tau * p;
      const Scalar trial_value = objective.value_and_gradient(trial, trial_gradient);
      if (armijo_holds(trial_value, value, tau, slope, std::abs(value))) {
        accepted = true;
        value = trial_value;
        break;
      }
    }
    if (!accepted) break;  // no decrease found: x is optimal to working precision
    x.swap(trial);
    gradient.swap(trial_gradient);
    ++result.n_iter;
    residual = static_cast<double>(gradient.norm()) / scale;
    check_finite(residual, "newton", "the gradient", result.n_iter);
    result.objective_history.push_back(static_cast<double>(value));
  }
  result.converged = residual <= options.tol;
  result.residual = residual;
  result.data_passes = objective.data_passes();
}

}  // namespace multitask
