// Accelerated proximal (Nesterov / FISTA) gradient method with backtracking
// that can also lengthen the step, and adaptive restart, for f(x) + h(x) with
// f smooth and h given by its prox (none by default). Generic over the objective:
//
//   struct Objective {
//     Index size() const;                                       // number of parameters
//     Scalar value(const Vector<Scalar>& x);                    // f(x)
//     Scalar value_and_gradient(const Vector<Scalar>& x, Vector<Scalar>& gradient_out);
//     long data_passes() const;                                 // passes over the data so far
//   };
#pragma once

#include <cmath>
#include <limits>

#include <multitask/common/interrupt.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace multitask {

/// h = 0: plain accelerated gradient.
struct NoProx {
  static constexpr bool is_identity = true;
  template <typename Scalar>
  void apply(Vector<Scalar>&, double) const {}
  template <typename Scalar>
  double value(const Vector<Scalar>&) const { return 0; }
};

/// Minimises f + h from x (updated in place); Prox: apply(x, tau) sets
/// x <- prox_{tau h}(x), value(x) = h(x) (see NoProx).
///
/// Iteration k, from the extrapolated point y with gradient g:
///   1. L <- L * kStepGrowth^-1 (try a longer step than last time);
///   2. x+ = prox_{h/L}(y - g / L), doubling L until the quadratic upper bound holds:
///      f(x+) <= f(y) + <g, x+ - y> + L/2 ||x+ - y||^2   (Beck & Teboulle 2009);
///      once that predicted change is at round-off level of f, the test
///      uses gradients instead: <g(x+) - g, x+ - y> <= L ||x+ - y||^2;
///   3. restart the momentum when it points uphill, <y - x+, x+ - x> > 0
///      (gradient restart scheme of O'Donoghue & Candes 2015), otherwise
///      y = x+ + (theta_k - 1) / theta_{k+1} (x+ - x).
/// Stopping rule: L ||y - x+|| <= tol * ||grad f(0)||, the relative norm of the
/// (proximal) gradient mapping at the extrapolated point (||g(y)|| when h = 0),
/// a KKT residual that vanishes exactly at a minimiser; x+ is returned.
/// An objective value or gradient that overflows (inf or NaN) is an error
/// (NumericalError naming result.solver): a trial point where f overflows is
/// only a too-long step and is backtracked from, but an accepted one, or an
/// extrapolated point, is not.
template <typename Scalar, typename Objective, typename Prox = NoProx>
void accelerated_gradient(Objective& objective, Vector<Scalar>& x, const SolverOptions& options,
                          SolverResult<Scalar>& result, const Prox& prox = Prox{}) {
  constexpr Scalar kStepGrowth = Scalar(1.25);
  constexpr int kMaxBacktracks = 80;
  const Index n = objective.size();
  Vector<Scalar> gradient(n), x_next(n), y = x;

  Vector<Scalar> zero = Vector<Scalar>::Zero(n);
  const char* solver = result.solver.empty() ? "gradient" : result.solver.c_str();
  check_finite(static_cast<double>(objective.value_and_gradient(zero, gradient)), solver, "the objective at 0", 0);
  const double scale = static_cast<double>(gradient.norm());
  check_finite(scale, solver, "the gradient at 0", 0);
  if (scale == 0) {  // grad f(0) = 0: x = 0 is optimal (f convex), whatever the start
    x.setZero();
    result.converged = true;
    result.data_passes = objective.data_passes();
    return;
  }
  Scalar f_y = objective.value_and_gradient(y, gradient);
  check_finite(static_cast<double>(f_y), solver, "the objective at the starting point", 0);
  check_finite(static_cast<double>(gradient.norm()), solver, "the gradient at the starting point", 0);
  double residual = Prox::is_identity ? gradient.norm() / scale : std::numeric_limits<double>::infinity();
  if (residual <= options.tol) {
    result.converged = true;
    result.residual = residual;
    return;
  }

  // Initial curvature along the gradient, from one gradient difference.
  Scalar lipschitz;
  {
    Vector<Scalar> probe_gradient(n);
    const Scalar h = Scalar(1e-3) * std::max(Scalar(1), y.norm()) / gradient.norm();
    x_next = y - h * gradient;
    objective.value_and_gradient(x_next, probe_gradient);
    lipschitz = (probe_gradient - gradient).norm() / (h * gradient.norm());
    if (!(lipschitz > 0) || !std::isfinite(lipschitz)) lipschitz = 1;
  }

  Scalar theta = 1;
  // Below this predicted change (relative to |f|), differences of objective
  // values are round-off, so the step is checked on gradients instead.
  const Scalar value_test_floor = Scalar(1e4) * std::numeric_limits<Scalar>::epsilon();
  Vector<Scalar> gradient_next(n);
  while (result.n_iter < options.max_iter) {
    lipschitz /= kStepGrowth;
    Scalar f_next = 0;
    for (int backtrack = 0;; ++backtrack) {
      poll_interrupt();  // each trial is a pass over the data
      x_next = y - gradient / lipschitz;
      prox.apply(x_next, 1 / static_cast<double>(lipschitz));
      const Vector<Scalar> step = x_next - y;
      const Scalar linear = gradient.dot(step), quadratic = lipschitz / 2 * step.squaredNorm();
      bool accepted;
      if (std::abs(linear) + quadratic > value_test_floor * std::abs(f_y)) {
        f_next = objective.value(x_next);
        accepted = f_next <= f_y + linear + quadratic;
      } else {  // curvature along the step from gradients: <g(x+) - g(y), x+ - y> <= L ||x+ - y||^2
        f_next = objective.value_and_gradient(x_next, gradient_next);
        accepted = (gradient_next - gradient).dot(step) <= 2 * quadratic;
      }
      if (accepted || backtrack == kMaxBacktracks) break;
      lipschitz *= 2;
    }
    ++result.n_iter;
    // Still inf or NaN after every backtrack (L grown 2^80-fold): an overflow, not a long step.
    check_finite(static_cast<double>(f_next), solver, "the objective", result.n_iter);
    check_finite(static_cast<double>(lipschitz), solver, "the step's curvature estimate", result.n_iter);
    result.objective_history.push_back(static_cast<double>(f_next) + prox.value(x_next));
    check_finite(result.objective_history.back(), solver, "the objective", result.n_iter);
    if (!Prox::is_identity) residual = lipschitz * (x_next - y).norm() / scale;
    if (residual <= options.tol) {  // residual of the point x_next was stepped from
      x = x_next;
      result.converged = true;
      break;
    }
    if ((y - x_next).dot(x_next - x) > 0) {
      theta = 1;
      y = x_next;
    } else {
      const Scalar theta_next = (1 + std::sqrt(1 + 4 * theta * theta)) / 2;
      y = x_next + ((theta - 1) / theta_next) * (x_next - x);
      theta = theta_next;
    }
    x = x_next;
    f_y = objective.value_and_gradient(y, gradient);
    check_finite(static_cast<double>(f_y), solver, "the objective at the extrapolated point", result.n_iter);
    check_finite(static_cast<double>(gradient.norm()), solver, "the gradient", result.n_iter);
    if (Prox::is_identity) residual = gradient.norm() / scale;
  }
  result.residual = residual;
  result.data_passes = objective.data_passes();
}

}  // namespace multitask
