// Matrix-free preconditioned conjugate gradient on the multi-task kernel ridge
// system, with the per-task intercepts handled by projection.
#pragma once

#include <cmath>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/solve_report.hpp>
#include <multitask/kernels/multitask_gram.hpp>

namespace multitask {

/// What the iterative dual solver reports (residual: the final relative residual, below).
using DualIterationReport = SolveReport;

/// Solves A c = y with A = M + diag(ridge_{task(i)}) (M applied by `gram`), or,
/// with intercepts, the bordered system
///     A c + E b = y,   E^T c = 0        (E (N, T): the task indicators)
/// by the projected preconditioned CG of Gould, Hribar & Nocedal (2001): the
/// iterates stay in {E^T c = 0}, and the preconditioner is the Jacobi diagonal
/// G = diag(A) projected onto that subspace in the G^{-1} metric,
///     g = G^{-1} (r - E v),   v_t = sum_{i in t} r_i / G_i  /  sum_{i in t} 1 / G_i,
/// so that E^T g = 0. The fitted part E v of the residual is moved into the
/// intercepts, b <- b - v, so r = A c + E b - y throughout and b is exact at the
/// solution. Stopping rule: ||r|| <= tol ||r_0|| with r_0 = E b_0 - y at c = 0
/// (without intercepts v = 0 and this is ||A c - y|| <= tol ||y||). When the
/// recurrence meets it, the true residual is recomputed and CG restarts from
/// the current iterate if round-off made the two differ.
template <typename Scalar>
DualIterationReport solve_dual_cg(const MultiTaskGramOperator<Scalar>& gram, const Vector<Scalar>& ridge,
                                  const TaskLayout& layout, const Vector<Scalar>& y, bool fit_intercept,
                                  double tol, int max_iter, Vector<Scalar>& c, Vector<Scalar>& intercept) {
  const Index N = layout.n_samples(), T = layout.n_tasks();
  Vector<Scalar> ridge_per_sample(N);
  for (Index t = 0; t < T; ++t)
    ridge_per_sample.segment(layout.offsets[t], layout.offsets[t + 1] - layout.offsets[t]).setConstant(ridge[t]);
  const Vector<Scalar> inverse_diagonal = (gram.diagonal() + ridge_per_sample).cwiseInverse();
  Vector<Scalar> inverse_diagonal_sums = Vector<Scalar>::Zero(T);
  for (Index t = 0; t < T; ++t)
    inverse_diagonal_sums[t] =
        inverse_diagonal.segment(layout.offsets[t], layout.offsets[t + 1] - layout.offsets[t]).sum();

  // v of the projection (zero without intercepts), and r - E v.
  auto fitted_intercepts = [&](const Vector<Scalar>& r) {
    Vector<Scalar> v = Vector<Scalar>::Zero(T);
    if (!fit_intercept) return v;
    for (Index t = 0; t < T; ++t) {
      const Index first = layout.offsets[t], count = layout.offsets[t + 1] - first;
      v[t] = r.segment(first, count).dot(inverse_diagonal.segment(first, count)) / inverse_diagonal_sums[t];
    }
    return v;
  };
  auto remove_intercepts = [&](Vector<Scalar>& r, const Vector<Scalar>& v) {
    for (Index t = 0; t < T; ++t)
      r.segment(layout.offsets[t], layout.offsets[t + 1] - layout.offsets[t]).array() -= v[t];
  };

  DualIterationReport report;
  c = Vector<Scalar>::Zero(N);
  intercept = Vector<Scalar>::Zero(T);
  // The residual r = A c + E b - y is kept G^{-1}-orthogonal to the task
  // indicators (E^T G^{-1} r = 0) by moving its fitted part into b after every
  // update (Gould, Hribar & Nocedal's residual update, which keeps round-off
  // from accumulating in the component of r that the projection removes).
  Vector<Scalar> r = -y;
  auto move_to_intercepts = [&]() {
    const Vector<Scalar> v = fitted_intercepts(r);
    remove_intercepts(r, v);
    intercept -= v;
  };
  move_to_intercepts();
  const double initial_norm = r.norm();
  if (initial_norm == 0) {  // y is constant per task (or zero): c = 0 is exact
    report.converged = true;
    return report;
  }

  Vector<Scalar> g(N), p(N), Ap(N);
  auto true_residual = [&]() {
    gram.apply(c, Ap);
    r = Ap + ridge_per_sample.cwiseProduct(c) - y;
    for (Index t = 0; t < T; ++t)
      r.segment(layout.offsets[t], layout.offsets[t + 1] - layout.offsets[t]).array() += intercept[t];
    move_to_intercepts();
    return r.norm() / initial_norm;
  };
  auto precondition = [&]() {  // g = G^{-1} r, and E^T g = 0
    move_to_intercepts();
    g = r.cwiseProduct(inverse_diagonal);
  };

  report.residual = true_residual();
  check_finite(report.residual, "cg", "the residual", 0);
  bool restart = true;
  Scalar rg = 0;
  while (!(report.residual <= tol) && report.n_iter < max_iter) {
    poll_interrupt();
    if (restart) {
      precondition();
      p = -g;
      rg = r.dot(g);
      restart = false;
    }
    gram.apply(p, Ap);
    Ap += ridge_per_sample.cwiseProduct(p);
    const Scalar curvature = p.dot(Ap);
    check_finite(static_cast<double>(curvature), "cg", "the curvature along the search direction", report.n_iter);
    if (!(curvature > 0))
      throw NumericalError("conjugate gradient met a direction of non-positive curvature: the multi-task kernel "
                           "matrix is not positive semidefinite");
    const Scalar step = rg / curvature;
    c.noalias() += step * p;
    r.noalias() += step * Ap;
    ++report.n_iter;
    precondition();
    report.residual = r.norm() / initial_norm;
    check_finite(report.residual, "cg", "the residual", report.n_iter);
    if (report.residual <= tol) {
      report.residual = true_residual();
      if (report.residual > tol) restart = true;
      continue;
    }
    const Scalar rg_next = r.dot(g);
    p = -g + (rg_next / rg) * p;
    rg = rg_next;
  }
  report.converged = report.residual <= tol;
  return report;
}

}  // namespace multitask
