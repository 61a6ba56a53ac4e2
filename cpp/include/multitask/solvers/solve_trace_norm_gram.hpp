// Accelerated proximal gradient on Gram statistics ("gram_gradient") for the
// squared loss with a trace-norm penalty:
//
//   F(W) = q(W) + rho ||W||_*,   q(W) = 1/2 <W, H(W)> - <C, W> + sum_t q_t,
//   H(W)_t = A_t w_t + alpha (W K)_t        (coupled_system.hpp; intercepts
//                                            eliminated by centring)
//
// Why on the statistics: the data solver ("gradient") also carries the
// intercepts, whose curvature s_t n_t is tiny next to the coupling's (about
// 1/T of it on School), and passes over the data at every step. Here a step
// costs one product H(W) (T products with d x d Grams and W K) and one SVD of
// a (d, T) matrix, whatever the number of samples, and the intercepts are gone.
//
// Iteration k, from the extrapolated point y (H(y) known):
//   x+ = prox_{(rho/L) ||.||_*}(y - (H(y) - C) / L)   (singular-value thresholding),
//   L doubled (and x+ recomputed) until <x+ - y, H(x+ - y)> <= L ||x+ - y||^2,
//   the quadratic upper bound that makes the step a majorisation-minimisation
//   (exact: q is quadratic, and H(x+ - y) = H(x+) - H(y) costs nothing more);
//   then FISTA's extrapolation y = x+ + (theta_k - 1)/theta_{k+1} (x+ - x), or
//   a restart (y = x+, theta = 1) when the momentum points uphill,
//   <y - x+, x+ - x> > 0 (O'Donoghue & Candes 2015). H is linear, so
//   H(y) = H(x+) + beta (H(x+) - H(x)): one product with H per step.
// L starts at the curvature along C and is only ever doubled, so it stays
// within a factor 2 of the largest curvature the steps meet.
//
// Stopping rule, honest at the returned point: the optimality of the prox step,
// -grad q(y) + L (y - x+) in rho d||x+||_*, makes
//   z = grad q(x+) - grad q(y) + L (y - x+) = (L - H)(y - x+)
// an element of the subdifferential dF(x+), so ||z|| bounds the KKT residual
// dist(0, dF(x+)) from above. The solver stops when ||z||_F / ||C||_F <= tol
// (||C||_F = ||grad q(0)||_F) and returns x+; `residual` is then the exact
// minimum-norm subgradient of F at x+ over the same scale
// (TraceNormPenalty::kkt_violation), never above ||z|| / ||C||.
#pragma once

#include <cmath>
#include <limits>

#include <multitask/common/interrupt.hpp>
#include <multitask/objectives/coupled_system.hpp>
#include <multitask/objectives/sparsity_penalty.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace multitask {

/// Minimises q(W) + penalty(W) over W (d, T) from W (updated in place; a warm
/// start, or zeros), with q the coupled system's quadratic. Fills
/// result.n_iter, converged, residual (the relative KKT residual at the
/// returned W) and objective_history (F after each step).
template <typename Scalar>
void trace_norm_gram_gradient(const CoupledSystem<Scalar>& system, const TraceNormPenalty& penalty,
                              const SolverOptions& options, Matrix<Scalar>& W, SolverResult<Scalar>& result) {
  const char* solver = "gram_gradient";
  const Index d = system.n_features(), T = system.n_tasks();
  const Matrix<Scalar>& C = system.rhs();
  const double scale = static_cast<double>(C.norm());  // ||grad q(0)||
  check_finite(scale, solver, "the gradient at 0", 0);
  if (solved_at_zero_rhs(scale, result)) {  // C = 0: W = 0 is optimal (q convex, minimal at 0)
    W.setZero();
    result.residual = 0;
    result.objective_history.push_back(static_cast<double>(system.constant()));
    return;
  }
  // Work of one product with H and one SVD, for poll_interrupt.
  const double step_work = 2.0 * static_cast<double>(d) * static_cast<double>(T) *
                           (static_cast<double>(d) + static_cast<double>(T));

  Matrix<Scalar> x = W, HX(d, T);
  system.apply(x, HX);
  check_all_finite(HX, solver, "the product H(W) at the starting point", 0);
  Matrix<Scalar> y = x, HY = HX, x_next(d, T), HX_next(d, T), step(d, T);

  // The initial curvature: along C, <C, H C> / ||C||^2 (a lower bound of the largest).
  Scalar lipschitz;
  {
    Matrix<Scalar> HC(d, T);
    system.apply(C, HC);
    lipschitz = C.cwiseProduct(HC).sum() / C.squaredNorm();
    if (!(lipschitz > 0) || !std::isfinite(static_cast<double>(lipschitz))) lipschitz = 1;
  }

  ThinSvd factors;  // of the last x_next: U diag(shrunk singular values) V^T
  double bound = std::numeric_limits<double>::infinity();
  Scalar theta = 1;
  constexpr int kMaxDoublings = 80;
  while (result.n_iter < options.max_iter) {
    for (int doubling = 0;; ++doubling) {
      poll_interrupt(step_work);
      x_next = y - (HY - C) / lipschitz;
      factors = penalty.threshold(x_next, 1 / static_cast<double>(lipschitz));
      system.apply(x_next, HX_next);
      step = x_next - y;
      const Scalar curvature = step.cwiseProduct(HX_next - HY).sum(), squared = step.squaredNorm();
      if (curvature <= lipschitz * squared || doubling == kMaxDoublings) break;
      lipschitz *= 2;
    }
    ++result.n_iter;
    check_all_finite(HX_next, solver, "the product H(W)", result.n_iter);
    check_finite(static_cast<double>(lipschitz), solver, "the step's curvature estimate", result.n_iter);
    const double value = static_cast<double>(system.objective_from_product(x_next, HX_next)) +
                         penalty.weight * factors.singular.sum();
    check_finite(value, solver, "the objective", result.n_iter);
    result.objective_history.push_back(value);
    // z = (H - L)(x+ - y): an element of dF(x+) (see the header).
    bound = static_cast<double>((HX_next - HY - lipschitz * step).norm()) / scale;
    if (bound <= options.tol) {
      result.converged = true;
      break;
    }
    if ((y - x_next).cwiseProduct(x_next - x).sum() > 0) {  // momentum uphill: restart
      theta = 1;
      y = x_next;
      HY = HX_next;
    } else {
      const Scalar theta_next = (1 + std::sqrt(1 + 4 * theta * theta)) / 2, beta = (theta - 1) / theta_next;
      y = x_next + beta * (x_next - x);
      HY = HX_next + beta * (HX_next - HX);
      theta = theta_next;
    }
    x.swap(x_next);
    HX.swap(HX_next);
  }
  if (!result.converged) {  // the last point is x (swapped in); with no step at all, the start
    if (result.n_iter == 0) {
      factors = thin_svd(x.template cast<double>(), true);
      result.objective_history.push_back(static_cast<double>(system.objective_from_product(x, HX)) +
                                         penalty.weight * factors.singular.sum());
    }
    x_next.swap(x);
    HX_next.swap(HX);
  }
  W = x_next;
  const Matrix<double> gradient = (HX_next - C).template cast<double>();
  result.residual = penalty.kkt_violation(gradient, factors) / scale;
  // Out of steps, the exact measure may still meet tol (it is never above the bound).
  if (result.residual <= options.tol) result.converged = true;
}

}  // namespace multitask
