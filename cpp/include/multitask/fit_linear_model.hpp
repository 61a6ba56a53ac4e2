// Entry point of the solvers on the data themselves (classification losses,
// and the squared loss with a sparsity penalty): validation, solver choice, result.
// The squared loss with a trace norm on dense X goes to Gram statistics
// ("gram_gradient", solve_trace_norm_gram.hpp): after one pass to form them,
// its steps do not touch the data.
#pragma once

#include <string>
#include <type_traits>

#include <multitask/objectives/linear_model_objective.hpp>
#include <multitask/objectives/sparsity_penalty.hpp>
#include <multitask/solvers/accelerated_gradient.hpp>
#include <multitask/solvers/solve_block_newton.hpp>
#include <multitask/solvers/solve_feature_bcd.hpp>
#include <multitask/solvers/solve_newton.hpp>
#include <multitask/solvers/solve_trace_norm_gram.hpp>
#include <multitask/solvers/task_coloring.hpp>

namespace multitask {

/// The solver 'auto' picks. With an l1/l21 penalty: the working-set row
/// solver for the squared loss, proximal gradient otherwise. With the trace
/// norm: proximal gradient on Gram statistics for the squared loss on dense X
/// (`dense`), on the data otherwise. Without a penalty: block
/// Newton ("block_newton") when K couples no two tasks (every task is then solved on its
/// own, all in parallel), otherwise Newton on all parameters, whose CG products
/// carry the coupling exactly ("newton").
template <typename Scalar>
std::string choose_linear_model_solver(PointwiseLoss loss, const SparsityPenalty& penalty,
                                       const Matrix<Scalar>& coupling, bool dense) {
  if (penalty.trace_norm.active()) return loss.is<SquaredLoss>() && dense ? "gram_gradient" : "gradient";
  if (penalty.active())
    return loss.is<SquaredLoss>() && penalty.row_separable() ? "feature_bcd" : "gradient";
  return independent_task_groups(coupling).size() == 1 ? "block_newton" : "newton";
}

/// The dense task blocks as the Gram-statistics solvers' TaskData (views, no
/// copy); a shared design when every block maps the same buffer (the estimators
/// pass a multi-output X as one array T times), so its Gram is formed once.
template <typename Scalar>
TaskData<Scalar> squared_loss_view(const TaskBlocks<Scalar, DenseDesign<Scalar>>& data) {
  TaskData<Scalar> view;
  for (Index t = 0; t < data.n_tasks(); ++t) {  // push_back: a Map copy-constructs, but assigns its entries
    view.X.push_back(data.X[t]);
    view.y.push_back(data.y[t]);
  }
  view.sample_weight = data.sample_weight;
  view.fit_intercept = data.fit_intercept;
  view.shared_design = data.n_tasks() > 1;
  for (Index t = 1; t < data.n_tasks(); ++t)
    view.shared_design = view.shared_design && data.X[t].data() == data.X[0].data() &&
                         data.X[t].rows() == data.X[0].rows() && data.X[t].outerStride() == data.X[0].outerStride();
  return view;
}

/// Minimises
///     F(W, b) = sum_t s_t sum_i l(y_ti, <w_t, x_ti> + b_t) + alpha/2 tr(W K W^T) + Omega(W)
/// (l: pointwise loss; Omega: sparsity penalty) with solver one of "auto",
/// "block_newton" (block Newton over tasks, no penalty), "feature_bcd" (l1/l21
/// with the squared loss: coordinate descent over the features' rows of W with
/// working sets), "gram_gradient" (the trace norm with the squared loss on
/// dense X: proximal gradient on Gram statistics), "newton" (no penalty) or
/// "gradient" (proximal with a penalty). warm_coef (d, T) and warm_intercept
/// (T): optional start (gram_gradient starts from warm_coef alone: its
/// intercepts follow from W).
template <typename Scalar, typename Design>
SolverResult<Scalar> fit_linear_model(const TaskBlocks<Scalar, Design>& data, PointwiseLoss loss,
                                      const Matrix<Scalar>& coupling, Scalar alpha, const SparsityPenalty& penalty,
                                      std::string solver, const SolverOptions& options,
                                      const Matrix<Scalar>* warm_coef, const Vector<Scalar>* warm_intercept) {
  data.validate(loss.sign_labels());
  const Index d = data.n_features(), T = data.n_tasks();
  require(coupling.rows() == T && coupling.cols() == T, "coupling must have shape (n_tasks, n_tasks)");
  require(alpha >= 0 && std::isfinite(static_cast<double>(alpha)), "alpha must be finite and non-negative");
  SparsityPenalty::from_weights(penalty.rows.l1, penalty.rows.l21, penalty.trace_norm.weight);  // checks them
  require(options.tol >= 0, "tol must be non-negative");
  require(options.max_iter >= 0, "max_iter must be non-negative");
  require(options.n_threads >= 1, "n_threads must be at least 1");
  require(!warm_coef || (warm_coef->rows() == d && warm_coef->cols() == T),
          "warm start coefficients must have shape (n_features, n_tasks)");
  require(!warm_intercept || warm_intercept->size() == T, "warm start intercepts must have shape (n_tasks,)");
  constexpr bool dense = std::is_same_v<Design, DenseDesign<Scalar>>;
  if (solver == "auto") solver = choose_linear_model_solver(loss, penalty, coupling, dense);
  require(solver == "block_newton" || solver == "feature_bcd" || solver == "gram_gradient" || solver == "newton" ||
              solver == "gradient",
          "solver must be one of 'auto', 'block_newton', 'feature_bcd', 'gram_gradient', 'newton', 'gradient' here, "
          "got '" + solver + "'");
  require(solver != "gram_gradient" || (penalty.trace_norm.active() && loss.is<SquaredLoss>() && dense),
          "solver 'gram_gradient' needs a trace-norm penalty, the squared loss and dense X");
  if (penalty.active()) {
    require(solver == "gradient" || solver == "gram_gradient" ||
                (solver == "feature_bcd" && loss.is<SquaredLoss>() && penalty.row_separable()),
            "with an l1 or l21 penalty the solver must be 'gradient', or 'feature_bcd' for the squared loss; with a "
            "trace-norm penalty 'gradient', or 'gram_gradient' for the squared loss on dense X; got '" + solver + "'");
  } else {
    require(solver != "feature_bcd", "solver 'feature_bcd' needs an l1 or l21 penalty");
  }

  SolverResult<Scalar> result;
  result.solver = solver;
  result.coef = warm_coef ? *warm_coef : Matrix<Scalar>::Zero(d, T);
  result.intercept = warm_intercept && data.fit_intercept ? *warm_intercept : Vector<Scalar>::Zero(T);

  if (solver == "feature_bcd") {
    feature_bcd(data, CouplingTerm<Scalar>(coupling, alpha), penalty.rows, options, result.coef, result);
    return result;
  }
  if constexpr (dense) {
    if (solver == "gram_gradient") {
      const TaskData<Scalar> task_data = squared_loss_view(data);
      const CoupledSystem<Scalar> system(task_data, coupling, alpha, options.n_threads, false);
      trace_norm_gram_gradient(system, penalty.trace_norm, options, result.coef, result);
      result.intercept = system.intercepts(result.coef);
      return result;
    }
  }
  LinearModelObjective<Scalar, Design> objective(data, loss, coupling, alpha, options.n_threads);
  const CoefficientProx prox{penalty, d, T};
  if (solver == "block_newton") {
    block_newton(data, loss, CouplingTerm<Scalar>(coupling, alpha), options, result.coef, result.intercept, result);
  } else {
    Vector<Scalar> x(d * T + T);
    x << Eigen::Map<const Vector<Scalar>>(result.coef.data(), d * T), result.intercept;
    if (solver == "newton") {
      newton(objective, x, options, result);
    } else if (penalty.active()) {
      accelerated_gradient(objective, x, options, result, prox);
    } else {
      accelerated_gradient(objective, x, options, result);
    }
    result.coef = Eigen::Map<const Matrix<Scalar>>(x.data(), d, T);
    result.intercept = x.tail(T);
  }
  if (result.objective_history.empty()) {  // stopped before any iteration
    Vector<Scalar> x(d * T + T);
    x << Eigen::Map<const Vector<Scalar>>(result.coef.data(), d * T), result.intercept;
    result.objective_history.push_back(static_cast<double>(objective.value(x)) + prox.value(x));
  }
  return result;
}

}  // namespace multitask
