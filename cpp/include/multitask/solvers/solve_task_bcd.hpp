// Block-coordinate descent over tasks (block Gauss-Seidel).
#pragma once

#include <multitask/common/interrupt.hpp>
#include <multitask/solvers/block_factor.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace multitask {

/// One block Gauss-Seidel sweep over the tasks, in order:
///     w_t <- (A_t + alpha K_tt I)^{-1} (c_t - alpha sum_{s != t} K_ts w_s),
/// the exact minimiser of F over w_t with the others fixed. P = W K is
/// recomputed at the start (so round-off does not accumulate) and then kept up
/// to date by a rank-one update per task (O(dT)).   W, P: (d, T)
template <typename Scalar>
void bcd_sweep(const CoupledSystem<Scalar>& system, const std::vector<BlockFactor<Scalar>>& factors,
               Matrix<Scalar>& W, Matrix<Scalar>& P) {
  const Matrix<Scalar>& C = system.rhs();
  const Matrix<Scalar>& K = system.coupling();
  const Scalar alpha = system.alpha();
  P.noalias() = W * K;
  for (Index t = 0; t < system.n_tasks(); ++t) {
    poll_interrupt(static_cast<double>(system.n_features()) * static_cast<double>(system.n_features()));
    const Vector<Scalar> rhs = C.col(t) - alpha * (P.col(t) - K(t, t) * W.col(t));
    const Vector<Scalar> delta = factors[t].solve(rhs) - W.col(t);
    W.col(t) += delta;
    P.noalias() += delta * K.row(t);
  }
}

/// Block-coordinate descent: sweeps (bcd_sweep) with cached factors of the
/// diagonal blocks until the stopping rule holds. The residual
/// H(W) - C, hence the stopping rule and the objective, is evaluated once per
/// sweep (in parallel over tasks).
template <typename Scalar>
void solve_task_bcd(const CoupledSystem<Scalar>& system, const SolverOptions& options, SolverResult<Scalar>& result) {
  const Index d = system.n_features(), T = system.n_tasks();
  const Matrix<Scalar>& C = system.rhs();
  const double rhs_norm = C.norm();
  Matrix<Scalar>& W = result.coef;
  if (solved_at_zero_rhs(rhs_norm, result)) return;
  const std::vector<BlockFactor<Scalar>> factors = diagonal_block_factors(system);
  Matrix<Scalar> HW(d, T);
  auto residual_and_objective = [&]() {
    system.apply(W, HW);
    const double residual = (HW - C).norm() / rhs_norm;
    return std::make_pair(residual, static_cast<double>(system.objective_from_product(W, HW)));
  };
  double residual = residual_and_objective().first;
  check_finite(residual, "task_bcd", "the residual", 0);
  result.converged = residual <= options.tol;
  Matrix<Scalar> P(d, T);
  while (!result.converged && result.n_iter < options.max_iter) {
    poll_interrupt();
    bcd_sweep(system, factors, W, P);
    ++result.n_iter;
    const auto [new_residual, objective] = residual_and_objective();
    check_finite(new_residual, "task_bcd", "the residual", result.n_iter);
    check_finite(objective, "task_bcd", "the objective", result.n_iter);
    residual = new_residual;
    result.objective_history.push_back(objective);
    result.converged = residual <= options.tol;
  }
  result.residual = residual;
}

}  // namespace multitask
