// Minimisation of the shared-subspace objective (subspace_objective.hpp) over U.
//
// A few alternating sweeps (exact minimisation over U with the heads fixed,
// then over the heads), then a trust-region Newton method on the reduced
// function f(U) = min_A F(U, A), its steps from truncated conjugate gradient
// (Steihaug) on the exact Hessian products. Alternation alone converges
// linearly and, on School at small alpha, needs hundreds to thousands of
// sweeps (the subspace is weakly determined when the r-th and (r+1)-th
// directions of W are close); the Newton steps converge quadratically near a
// minimiser and the trust region keeps every accepted step a decrease of F.
// The sweeps come first because they move the start (the ridge solutions'
// SVD) into the basin alternation would reach, and they are cheap there.
//
// Stopping rule (scale-free): the heads are exact at every iterate, so U is
// stationary when grad f(U) = sum_t (G_t w_t - c_t) a_t^T + alpha_U U = 0, a
// balance of a data part and a penalty part; the iterations stop at
//     ||grad f(U)||_F <= tol * alpha_U ||U||_F.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <multitask/common/interrupt.hpp>
#include <multitask/objectives/subspace_objective.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace multitask {

/// Alternating sweeps before the trust-region Newton iterations.
constexpr long long kSubspaceAlternatingSweeps = 5;

template <typename Scalar>
struct SubspaceResult : SolveReport {  // residual: ||grad f(U)|| / (alpha_U ||U||) at the end
  Matrix<Scalar> components;          // U (d, r)
  Matrix<Scalar> heads;               // A (r, T)
  Vector<Scalar> intercept;           // b (T)
  std::vector<double> objective_history;  // F at the start, then after every iteration
  long long alternating_sweeps = 0;   // iterations that were alternating sweeps
  long long hessian_products = 0;     // Hessian products of the Newton iterations
  bool zero_solution = false;         // W = 0 was certified optimal before any iteration
};

namespace subspace_detail {

template <typename Scalar>
double inner(const Matrix<Scalar>& X, const Matrix<Scalar>& Y) {
  return static_cast<double>(X.cwiseProduct(Y).sum());
}

/// tau >= 0 with ||z + tau d|| = radius.
template <typename Scalar>
double to_boundary(const Matrix<Scalar>& z, const Matrix<Scalar>& d, double radius) {
  const double dd = inner(d, d), zd = inner(z, d), zz = inner(z, z);
  return (-zd + std::sqrt(std::max(0.0, zd * zd + dd * (radius * radius - zz)))) / dd;
}

/// Steihaug's truncated CG on min_p g.p + 1/2 p.H p within ||p|| <= radius,
/// stopped at relative residual `forcing`, at negative curvature or at the
/// boundary. Returns p; `products` counts the Hessian products.
template <typename Scalar>
Matrix<Scalar> steihaug(const SubspaceObjective<Scalar>& objective, const SubspacePoint<Scalar>& point,
                        const Matrix<Scalar>& g, double radius, double forcing, long long& products) {
  Matrix<Scalar> z = Matrix<Scalar>::Zero(g.rows(), g.cols());
  Matrix<Scalar> r = g, d = -g;
  const double g_norm = g.norm();
  double rr = inner(r, r);
  const Index max_iter = std::max<Index>(2 * g.size(), 10);
  for (Index k = 0; k < max_iter; ++k) {
    poll_interrupt();
    const Matrix<Scalar> Hd = objective.hessian_product(point, d);
    ++products;
    const double curvature = inner(d, Hd);
    if (!(curvature > 0)) return z + to_boundary(z, d, radius) * d;
    const double step = rr / curvature;
    Matrix<Scalar> next = z + step * d;
    if (next.norm() >= radius) return z + to_boundary(z, d, radius) * d;
    z = std::move(next);
    r.noalias() += step * Hd;
    const double rr_next = inner(r, r);
    if (std::sqrt(rr_next) <= forcing * g_norm) break;
    d = -r + (rr_next / rr) * d;
    rr = rr_next;
  }
  return z;
}

}  // namespace subspace_detail

/// Minimises f from U0 (d, r); see the file comment. options.tol bounds the
/// relative gradient, options.max_iter the sweeps plus Newton iterations
/// (a rejected trust-region step counts as one).
template <typename Scalar>
SubspaceResult<Scalar> solve_shared_subspace(const SubspaceObjective<Scalar>& objective, Matrix<Scalar> U0,
                                             const SolverOptions& options) {
  using subspace_detail::inner;
  SubspaceResult<Scalar> result;
  result.solver = "alternating_newton";
  const Scalar alpha_u = objective.alpha_u();
  SubspacePoint<Scalar> point = objective.at(U0);
  result.objective_history.push_back(point.value);
  check_finite(point.value, "alternating_newton", "the objective", 0);
  Matrix<Scalar> g = objective.gradient(point);
  auto relative_gradient = [&](const SubspacePoint<Scalar>& p, const Matrix<Scalar>& gradient) {
    const double scale = static_cast<double>(alpha_u) * p.U.norm();
    return scale > 0 ? gradient.norm() / scale : (gradient.norm() > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  };
  result.residual = relative_gradient(point, g);
  double radius = point.U.norm();
  const double max_radius = 1e3 * std::max(radius, 1.0);
  while (!(result.residual <= options.tol) && result.n_iter < options.max_iter) {
    poll_interrupt();
    ++result.n_iter;
    if (result.n_iter <= kSubspaceAlternatingSweeps) {
      // Exact minimisation over U, then over the heads: F cannot increase.
      SubspacePoint<Scalar> next = objective.at(objective.components_step(point), &point.A);
      ++result.alternating_sweeps;
      if (next.value <= point.value) point = std::move(next);
      radius = std::max(radius, point.U.norm());
    } else {
      const double forcing = std::min(0.5, std::sqrt(result.residual));
      const Matrix<Scalar> step =
          subspace_detail::steihaug(objective, point, g, radius, forcing, result.hessian_products);
      const Matrix<Scalar> Hs = objective.hessian_product(point, step);
      ++result.hessian_products;
      const double predicted = -(inner(g, step) + 0.5 * inner(step, Hs));
      SubspacePoint<Scalar> trial = objective.at(point.U + step, &point.A);
      const double actual = point.value - trial.value;
      const double step_norm = step.norm();
      // Decreases below the round-off of F cannot be measured: near the solution
      // the step is judged by the gradient it leads to instead.
      const double noise = 64 * std::numeric_limits<double>::epsilon() * std::abs(point.value);
      bool accept = false;
      if (predicted <= noise) {
        accept = actual >= -noise && objective.gradient(trial).norm() < g.norm();
        if (!accept) radius = 0.25 * step_norm;
      } else {
        const double ratio = actual / predicted;
        if (ratio < 0.25) {
          radius = 0.25 * step_norm;
        } else if (ratio > 0.75 && step_norm >= 0.99 * radius) {
          radius = std::min(2 * radius, max_radius);
        }
        accept = ratio > 1e-4 && actual > 0;
      }
      if (accept) point = std::move(trial);
      if (radius <= std::numeric_limits<double>::epsilon() * point.U.norm()) {  // no step can be resolved
        g = objective.gradient(point);
        result.residual = relative_gradient(point, g);
        result.objective_history.push_back(point.value);
        break;
      }
    }
    check_finite(point.value, "alternating_newton", "the objective", result.n_iter);
    g = objective.gradient(point);
    result.residual = relative_gradient(point, g);
    result.objective_history.push_back(point.value);
  }
  result.converged = result.residual <= options.tol;
  result.components = std::move(point.U);
  result.heads = std::move(point.A);
  return result;
}

}  // namespace multitask
