// Multi-task kernel ridge regression in the dual (README, "Multi-task kernel
// machines"):
//
//     (M + alpha N Omega^{-1}) c = y,    M[(s,i),(t,j)] = B_st k(x_si, x_tj),
//
// Omega the diagonal of per-sample task weights omega_t, so the ridge of a sample
// of task t is r_t = alpha N / omega_t. Predictions f_t(x) = sum_(s,j) c_sj B_ts
// k(x_sj, x) + b_t. With unpenalised intercepts b (T) the system is bordered:
//
//     [ A    E ] [ c ]   [ y ]
//     [ E^T  0 ] [ b ] = [ 0 ],      A = M + diag(r),  E = task indicators (N, T),
//
// the second row being the optimality condition of b_t, sum_{i in t} c_ti = 0.
#pragma once

#include <limits>
#include <string>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/solve_report.hpp>
#include <multitask/kernels/kronecker_dual.hpp>
#include <multitask/kernels/multitask_gram.hpp>
#include <multitask/kernels/solve_dual_cg.hpp>
#include <multitask/linalg/parallel_cholesky.hpp>

namespace multitask {

template <typename Scalar>
struct KernelRidgeProblem {
  KernelInputs<Scalar> inputs;
  Matrix<Scalar> B;        // (T, T) task kernel, symmetric PSD
  TaskLayout layout;
  Vector<Scalar> ridge;    // (T) r_t = alpha N / omega_t > 0
  Vector<Scalar> y;        // (N) targets stacked task by task
  bool fit_intercept = true;
};

template <typename Scalar>
struct KernelRidgeResult : SolveReport {  // residual: cg's final relative residual, NaN for a direct solve
  KernelRidgeResult() {
    n_iter = 1;
    converged = true;
    residual = std::numeric_limits<double>::quiet_NaN();
  }
  Vector<Scalar> dual_coef;  // (N) c, task by task
  Vector<Scalar> intercept;  // (T) b (zeros without intercept)
  std::string gram;          // cg only: how M was applied ("kronecker", "cached", "on_the_fly")
};

struct KernelRidgeOptions : SolverOptions {  // tol, max_iter: cg only
  std::string solver = "auto";   // "auto", "cholesky", "kronecker", "cg"
  double max_cache_bytes = 1 << 30;  // cg on per-task inputs: cache M when it fits, else recompute k
  Index max_cholesky_samples = 12000;  // "auto": cholesky up to this N, cg beyond
};

/// Dense solve of the (bordered) system with A = M + diag(ridge) given the lower
/// triangle of M in A (overwritten by the factor): A factorised in place by the
/// parallel blocked Cholesky, O(N^3 / 3). Intercepts by the Schur complement:
/// with c_0 = A^{-1} y and Z = A^{-1} E (T more right-hand sides),
/// b = (E^T Z)^{-1} E^T c_0 and c = c_0 - Z b.
template <typename Scalar>
void solve_bordered_cholesky(Matrix<Scalar>& A, const KernelRidgeProblem<Scalar>& problem, int n_threads,
                             KernelRidgeResult<Scalar>& result) {
  const TaskLayout& layout = problem.layout;
  const Index N = layout.n_samples(), T = layout.n_tasks();
  for (Index t = 0; t < T; ++t)
    A.diagonal().segment(layout.offsets[t], layout.offsets[t + 1] - layout.offsets[t]).array() += problem.ridge[t];
  // Lower triangle only (the upper one is unspecified); O(N^2) next to the O(N^3) factorisation.
  if (!lower_triangle_finite(A)) throw non_finite_kernel_matrix();
  // A pivot L_ii^2 at round-off level of the largest diagonal entry: singular to working precision.
  const double scale = static_cast<double>(A.diagonal().cwiseAbs().maxCoeff());
  const double floor = 64.0 * static_cast<double>(N) * std::numeric_limits<Scalar>::epsilon() * scale;
  if (!cholesky_in_place(A, n_threads) || !(static_cast<double>(A.diagonal().cwiseAbs2().minCoeff()) > floor))
    throw NumericalError("the multi-task kernel system is singular or not positive definite (increase alpha; a "
                         "precomputed or callable kernel must give a positive semidefinite matrix)");
  Matrix<Scalar> rhs = Matrix<Scalar>::Zero(N, problem.fit_intercept ? T + 1 : 1);
  rhs.col(0) = problem.y;
  if (problem.fit_intercept)
    for (Index t = 0; t < T; ++t)
      rhs.col(t + 1).segment(layout.offsets[t], layout.offsets[t + 1] - layout.offsets[t]).setOnes();
  cholesky_solve_in_place(A, rhs);
  result.dual_coef = rhs.col(0);
  result.intercept = Vector<Scalar>::Zero(T);
  if (!problem.fit_intercept) return;
  Matrix<double> schur(T, T);  // E^T Z: per-task sums of the columns of Z
  Vector<double> sums(T);      // E^T c_0
  for (Index s = 0; s < T; ++s) {
    const Index first = layout.offsets[s], count = layout.offsets[s + 1] - first;
    schur.row(s) = rhs.block(first, 1, count, T).colwise().sum().template cast<double>();
    sums[s] = static_cast<double>(rhs.col(0).segment(first, count).sum());
  }
  schur = (schur + schur.transpose()).eval() / 2;
  const Eigen::LLT<Matrix<double>> factor(schur);
  if (factor.info() != Eigen::Success) throw NumericalError("the intercept system is not positive definite");
  result.intercept = factor.solve(sums).template cast<Scalar>();
  result.dual_coef.noalias() -= rhs.rightCols(T) * result.intercept;
}

/// Dense solver: M formed (lower triangle), then solve_bordered_cholesky.
template <typename Scalar>
void solve_kernel_ridge_cholesky(const KernelRidgeProblem<Scalar>& problem, int n_threads,
                                 KernelRidgeResult<Scalar>& result) {
  Matrix<Scalar> A;
  multitask_gram_lower(problem.inputs, problem.B, problem.layout, A, n_threads);
  solve_bordered_cholesky(A, problem, n_threads, result);
}

/// Shared design: the Kronecker solver (kronecker_dual.hpp) on C (n, T), the
/// columns of c.
template <typename Scalar>
void solve_kernel_ridge_kronecker(const KernelRidgeProblem<Scalar>& problem, int n_threads,
                                  KernelRidgeResult<Scalar>& result) {
  const TaskLayout& layout = problem.layout;
  require(layout.shared, "solver='kronecker' needs a shared design: every task observed at the same inputs "
                         "(fit(X, Y) with Y of shape (n_samples, n_tasks))");
  const Index n = layout.n_inputs(), T = layout.n_tasks();
  Matrix<Scalar> gram;
  problem.inputs.gram_lower(gram, n_threads);
  const Matrix<Scalar> Y = Eigen::Map<const Matrix<Scalar>>(problem.y.data(), n, T);
  const Matrix<Scalar> C =
      solve_kronecker_dual(gram, problem.B, problem.ridge, Y, problem.fit_intercept, n_threads, result.intercept);
  result.dual_coef = Eigen::Map<const Vector<Scalar>>(C.data(), n * T);
}

/// Iterative solver: projected PCG (solve_dual_cg.hpp) with M applied as a
/// Kronecker product (shared design), from a cached M (when N^2 entries fit in
/// max_cache_bytes, or for a precomputed kernel) or recomputed block by block.
template <typename Scalar>
void solve_kernel_ridge_cg(const KernelRidgeProblem<Scalar>& problem, const KernelRidgeOptions& options,
                           KernelRidgeResult<Scalar>& result) {
  const TaskLayout& layout = problem.layout;
  const double N = static_cast<double>(layout.n_samples());
  std::unique_ptr<MultiTaskGramOperator<Scalar>> gram;
  if (layout.shared)
    gram = std::make_unique<KroneckerGramOperator<Scalar>>(problem.inputs.gram_full(options.n_threads), problem.B,
                                                          options.n_threads);
  else if (problem.inputs.precomputed() || N * N * sizeof(Scalar) <= options.max_cache_bytes)
    gram = std::make_unique<CachedGramOperator<Scalar>>(problem.inputs, problem.B, layout, options.n_threads);
  else
    gram = std::make_unique<OnTheFlyGramOperator<Scalar>>(problem.inputs, problem.B, layout, options.n_threads);
  result.gram = gram->name();
  const DualIterationReport report =
      solve_dual_cg(*gram, problem.ridge, layout, problem.y, problem.fit_intercept, options.tol, options.max_iter,
                    result.dual_coef, result.intercept);
  static_cast<SolveReport&>(result) = SolveReport{result.solver, report.n_iter, report.converged, report.residual};
}

/// InvalidArgument unless the problem's shapes are consistent and every ridge is > 0.
template <typename Scalar>
void check_kernel_ridge_problem(const KernelRidgeProblem<Scalar>& problem) {
  const TaskLayout& layout = problem.layout;
  const Index T = layout.n_tasks();
  require(T >= 1 && layout.offsets.front() == 0, "task offsets must start at 0");
  for (Index t = 0; t < T; ++t) require(layout.offsets[t + 1] > layout.offsets[t], "every task needs samples");
  require(!layout.shared || layout.n_samples() % T == 0, "a shared design has N = n T samples");
  require(problem.B.rows() == T && problem.B.cols() == T, "task_kernel must have shape (n_tasks, n_tasks)");
  require(problem.ridge.size() == T && (problem.ridge.array() > 0).all(), "the ridge of every task must be > 0");
  require(problem.y.size() == layout.n_samples(), "y must have one value per sample");
  require(problem.inputs.n_inputs() == layout.n_inputs(), "the kernel inputs do not match the samples");
  require(!problem.inputs.precomputed() || problem.inputs.gram.cols() == problem.inputs.gram.rows(),
          "a precomputed kernel must be square");
}

/// Checks the problem's shapes and runs the solver of `options.solver`
/// ("auto": kronecker for a shared design, cholesky up to max_cholesky_samples, cg beyond).
template <typename Scalar>
KernelRidgeResult<Scalar> fit_kernel_ridge(const KernelRidgeProblem<Scalar>& problem,
                                           const KernelRidgeOptions& options) {
  check_kernel_ridge_problem(problem);
  const TaskLayout& layout = problem.layout;
  std::string solver = options.solver;
  if (solver == "auto")
    solver = layout.shared ? "kronecker" : (layout.n_samples() <= options.max_cholesky_samples ? "cholesky" : "cg");
  KernelRidgeResult<Scalar> result;
  result.solver = solver;
  if (solver == "cholesky")
    solve_kernel_ridge_cholesky(problem, options.n_threads, result);
  else if (solver == "kronecker")
    solve_kernel_ridge_kronecker(problem, options.n_threads, result);
  else if (solver == "cg")
    solve_kernel_ridge_cg(problem, options, result);
  else
    throw InvalidArgument("solver must be 'auto', 'cholesky', 'kronecker' or 'cg', got '" + solver + "'");
  return result;
}

}  // namespace multitask
