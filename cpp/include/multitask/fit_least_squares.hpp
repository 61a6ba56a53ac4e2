// Entry point of the squared-loss solvers: validation, solver choice, result.
#pragma once

#include <optional>
#include <string>

#include <multitask/objectives/least_squares_objective.hpp>
#include <multitask/solvers/accelerated_gradient.hpp>
#include <multitask/solvers/solve_cg.hpp>
#include <multitask/solvers/exact_gram_solver.hpp>
#include <multitask/solvers/solve_task_bcd.hpp>

namespace multitask {

/// Problems with d * T at most this size go to the dense exact solver under 'auto'.
constexpr Index kAutoDenseExactMaxSize = 600;
/// 'auto' looks for a split coupling = c I + low rank (one T x T
/// eigendecomposition) for at most this many tasks, and uses the Woodbury
/// solver with at most this many features (its set-up diagonalises every task's
/// (d, d) Gram).
constexpr Index kAutoLowRankMaxTasks = 300;
constexpr Index kAutoLowRankMaxFeatures = 256;

/// The solver 'auto' picks: the Sylvester solver for a shared design, an exact
/// solver for a small system or for a coupling c I + low rank
/// (solve_low_rank_coupling.hpp, alpha > 0), otherwise conjugate gradient.
template <typename Scalar>
std::string choose_solver(const TaskData<Scalar>& data, const Matrix<Scalar>& coupling, double alpha) {
  if (data.shared_design) return "exact";
  const Index d = data.n_features(), T = data.n_tasks();
  if (d * T <= kAutoDenseExactMaxSize) return "exact";
  if (alpha > 0 && T <= kAutoLowRankMaxTasks && d <= kAutoLowRankMaxFeatures && low_rank_coupling_split(coupling, d))
    return "exact";
  return "cg";
}

/// The checks every squared-loss entry point makes on its arguments (alpha apart).
template <typename Scalar>
void check_least_squares_arguments(const TaskData<Scalar>& data, const Matrix<Scalar>& coupling,
                                   const SolverOptions& options) {
  data.validate();
  const Index T = data.n_tasks();
  require(coupling.rows() == T && coupling.cols() == T, "coupling must have shape (n_tasks, n_tasks)");
  require(options.tol >= 0, "tol must be non-negative");
  require(options.max_iter >= 0, "max_iter must be non-negative");
  require(options.n_threads >= 1, "n_threads must be at least 1");
}

/// Solves the Gram-space system with solver "exact", "cg" or "task_bcd",
/// starting from result.coef, and completes `result` (residual, objective
/// history, intercepts). `exact`: the exact solver's set-up when the caller
/// keeps one at the system's alpha (a path); otherwise one is made. Should the
/// Woodbury solver's refinement stop above `tol` (round-off on a nearly
/// singular system), conjugate gradient continues from its solution.
template <typename Scalar>
void solve_gram_system(const CoupledSystem<Scalar>& system, const std::string& solver, const SolverOptions& options,
                       SolverResult<Scalar>& result, const ExactGramSolver<Scalar>* exact = nullptr) {
  const Index d = system.n_features(), T = system.n_tasks();
  if (solver == "exact") {
    std::optional<ExactGramSolver<Scalar>> own;
    if (!exact) exact = &own.emplace(system, 1);
    Matrix<Scalar> HW;
    result.coef = exact->solve(system, HW);
    result.exact_method = exact->method();
    result.n_iter = 1;
    result.converged = true;
    if (HW.size() == 0) {
      HW.resize(d, T);
      system.apply(result.coef, HW);
    }
    const double rhs_norm = system.rhs().norm();
    result.residual = rhs_norm > 0 ? (HW - system.rhs()).norm() / rhs_norm : 0.0;
    result.objective_history.push_back(static_cast<double>(system.objective_from_product(result.coef, HW)));
    if (exact->method() == "low_rank_coupling" && !(result.residual <= options.tol)) {
      result.solver = "cg";
      solve_cg(system, options, result);
    }
  } else if (solver == "cg") {
    solve_cg(system, options, result);
  } else {
    solve_task_bcd(system, options, result);
  }
  if (result.objective_history.empty())  // stopped before any iteration (e.g. a warm start at the optimum)
    result.objective_history.push_back(static_cast<double>(system.objective(result.coef)));
  result.data_passes = 1;  // the statistics read the data once
  result.intercept = system.intercepts(result.coef);
}

/// Minimises the kernel-coupled least-squares objective
///     F(W, b) = sum_t s_t/2 ||y_t - X_t w_t - b_t 1||^2 + alpha/2 tr(W K W^T)
/// with solver one of "auto", "exact", "cg", "task_bcd", "gradient".
/// warm_start: optional (d, T) initial W for the iterative solvers.
template <typename Scalar>
SolverResult<Scalar> fit_least_squares(const TaskData<Scalar>& data, const Matrix<Scalar>& coupling, Scalar alpha,
                                       std::string solver, const SolverOptions& options,
                                       const Matrix<Scalar>* warm_start) {
  check_least_squares_arguments(data, coupling, options);
  const Index d = data.n_features(), T = data.n_tasks();
  require(alpha >= 0 && std::isfinite(static_cast<double>(alpha)), "alpha must be finite and non-negative");
  require(!warm_start || (warm_start->rows() == d && warm_start->cols() == T),
          "warm start coefficients must have shape (n_features, n_tasks)");
  if (solver == "auto") solver = choose_solver(data, coupling, static_cast<double>(alpha));
  require(solver == "exact" || solver == "cg" || solver == "task_bcd" || solver == "gradient",
          "solver must be one of 'auto', 'exact', 'cg', 'task_bcd', 'gradient', got '" + solver + "'");

  SolverResult<Scalar> result;
  result.solver = solver;
  result.coef = warm_start ? *warm_start : Matrix<Scalar>::Zero(d, T);

  if (solver == "gradient") {
    LeastSquaresObjective<Scalar> objective(data, coupling, alpha, options.n_threads);
    Vector<Scalar> x = Eigen::Map<const Vector<Scalar>>(result.coef.data(), d * T);
    accelerated_gradient(objective, x, options, result);
    if (result.objective_history.empty()) result.objective_history.push_back(objective.value(x));
    result.coef = Eigen::Map<const Matrix<Scalar>>(x.data(), d, T);
    result.intercept.resize(T);
    for (Index t = 0; t < T; ++t)
      result.intercept[t] = objective.means(t).y_mean - objective.means(t).x_mean.dot(result.coef.col(t));
    return result;
  }

  const bool dense_exact = solver == "exact" && !data.shared_design;
  CoupledSystem<Scalar> system(data, coupling, alpha, options.n_threads, dense_exact);
  solve_gram_system(system, solver, options, result);
  return result;
}

}  // namespace multitask
