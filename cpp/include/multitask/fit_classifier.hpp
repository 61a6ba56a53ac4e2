// Entry point of the classification solvers: validation, solver choice, result.
#pragma once

#include <string>

#include "accelerated_gradient.hpp"
#include "classification_objective.hpp"
#include "solve_block_newton.hpp"
#include "solve_newton.hpp"
#include "task_coloring.hpp"

namespace multitask {

/// The solver 'auto' picks: block Newton ("bcd") when K couples no two tasks
/// (every task is then solved on its own, all in parallel), otherwise Newton on
/// all parameters, whose CG products carry the coupling exactly ("newton").
template <typename Scalar, typename Design>
std::string choose_classification_solver(const ClassificationData<Scalar, Design>&, const Matrix<Scalar>& coupling) {
  return independent_task_groups(coupling).size() == 1 ? "bcd" : "newton";
}

/// Minimises the kernel-coupled classification objective
///     F(W, b) = sum_t s_t sum_i l(y_ti, <w_t, x_ti> + b_t) + alpha/2 tr(W K W^T)
/// (l: logistic or squared hinge) with solver one of "auto", "bcd", "newton", "gradient".
/// warm_coef (d, T) and warm_intercept (T): optional start.
template <typename Scalar, typename Design>
SolverResult<Scalar> fit_classifier(const ClassificationData<Scalar, Design>& data, MarginLoss loss,
                                    const Matrix<Scalar>& coupling, Scalar alpha, std::string solver,
                                    const SolverOptions& options, const Matrix<Scalar>* warm_coef,
                                    const Vector<Scalar>* warm_intercept) {
  data.validate();
  const Index d = data.n_features(), T = data.n_tasks();
  require(coupling.rows() == T && coupling.cols() == T, "coupling must have shape (n_tasks, n_tasks)");
  require(alpha >= 0 && std::isfinite(static_cast<double>(alpha)), "alpha must be finite and non-negative");
  require(options.tol >= 0, "tol must be non-negative");
  require(options.max_iter >= 0, "max_iter must be non-negative");
  require(options.n_threads >= 1, "n_threads must be at least 1");
  require(!warm_coef || (warm_coef->rows() == d && warm_coef->cols() == T),
          "warm start coefficients must have shape (n_features, n_tasks)");
  require(!warm_intercept || warm_intercept->size() == T, "warm start intercepts must have shape (n_tasks,)");
  if (solver == "auto") solver = choose_classification_solver(data, coupling);
  require(solver == "bcd" || solver == "newton" || solver == "gradient",
          "solver must be one of 'auto', 'bcd', 'newton', 'gradient' for classification, got '" + solver + "'");

  SolverResult<Scalar> result;
  result.solver = solver;
  result.coef = warm_coef ? *warm_coef : Matrix<Scalar>::Zero(d, T);
  result.intercept = warm_intercept && data.fit_intercept ? *warm_intercept : Vector<Scalar>::Zero(T);

  ClassificationObjective<Scalar, Design> objective(data, loss, coupling, alpha, options.n_threads);
  if (solver == "bcd") {
    block_newton(data, loss, coupling, alpha, options, result.coef, result.intercept, result);
  } else {
    Vector<Scalar> x(d * T + T);
    x << Eigen::Map<const Vector<Scalar>>(result.coef.data(), d * T), result.intercept;
    if (solver == "newton") {
      newton(objective, x, options, result);
    } else {
      accelerated_gradient(objective, x, options, result);
    }
    result.coef = Eigen::Map<const Matrix<Scalar>>(x.data(), d, T);
    result.intercept = x.tail(T);
  }
  if (result.objective_history.empty()) {  // stopped before any iteration
    Vector<Scalar> x(d * T + T);
    x << Eigen::Map<const Vector<Scalar>>(result.coef.data(), d * T), result.intercept;
    result.objective_history.push_back(static_cast<double>(objective.value(x)));
  }
  return result;
}

}  // namespace multitask
