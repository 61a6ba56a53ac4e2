// Block-Jacobi preconditioned conjugate gradient on the Gram-space system.
#pragma once

#include <cmath>

#include <multitask/common/interrupt.hpp>
#include <multitask/solvers/preconditioners.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace multitask {

/// Conjugate gradient on H(W) = C (see coupled_system.hpp), preconditioned by
/// block-Jacobi or the Kronecker preconditioner, whichever neglects less of H
/// (preconditioners.hpp). Products with H run in parallel over tasks. The residual R = C - H(W) is updated by the
/// recurrence; when it meets the tolerance the true residual is recomputed and
/// CG restarts from the current iterate if round-off made the two differ.
/// Objective: F(W) = -1/2 <W, C + R> + sum q_t, free given R.
template <typename Scalar>
void solve_cg(const CoupledSystem<Scalar>& system, const SolverOptions& options, SolverResult<Scalar>& result) {
  const Index d = system.n_features(), T = system.n_tasks();
  const Matrix<Scalar>& C = system.rhs();
  const double rhs_norm = C.norm();
  Matrix<Scalar>& W = result.coef;
  if (solved_at_zero_rhs(rhs_norm, result)) return;
  const std::unique_ptr<Preconditioner<Scalar>> preconditioner = choose_preconditioner(system);
  result.preconditioner = preconditioner->name();
  auto precondition = [&](const Matrix<Scalar>& R, Matrix<Scalar>& Z) { preconditioner->apply(R, Z); };

  Matrix<Scalar> R(d, T), Z(d, T), P(d, T), HP(d, T);
  auto true_residual = [&]() {
    system.apply(W, HP);
    R = C - HP;
    return R.norm() / rhs_norm;
  };
  double residual = true_residual();
  check_finite(residual, "cg", "the residual", 0);
  result.converged = residual <= options.tol;
  bool restart = true;
  Scalar rz = 0;
  while (!result.converged && result.n_iter < options.max_iter) {
    poll_interrupt();
    if (restart) {
      precondition(R, Z);
      P = Z;
      rz = (R.cwiseProduct(Z)).sum();
      restart = false;
    }
    system.apply(P, HP);
    const Scalar curvature = (P.cwiseProduct(HP)).sum();
    check_finite(curvature, "cg", "the curvature along the search direction", result.n_iter);
    if (!(curvature > 0))
      throw NumericalError("conjugate gradient met a direction of non-positive curvature: the kernel-coupled "
                           "system is not positive definite");
    const Scalar step = rz / curvature;
    W.noalias() += step * P;
    R.noalias() -= step * HP;
    ++result.n_iter;
    residual = R.norm() / rhs_norm;
    check_finite(residual, "cg", "the residual", result.n_iter);
    result.objective_history.push_back(-0.5 * static_cast<double>((W.cwiseProduct(C + R)).sum()) +
                                       static_cast<double>(system.constant()));
    if (residual <= options.tol) {
      residual = true_residual();
      if (residual <= options.tol) {
        result.converged = true;
        break;
      }
      restart = true;
      continue;
    }
    precondition(R, Z);
    const Scalar rz_next = (R.cwiseProduct(Z)).sum();
    P = Z + (rz_next / rz) * P;
    rz = rz_next;
  }
  result.residual = residual;
}

}  // namespace multitask
