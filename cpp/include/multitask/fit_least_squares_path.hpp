// The squared-loss fit along a grid of alphas, the statistics formed once.
#pragma once

#include <algorithm>
#include <memory>
#include <numeric>
#include <vector>

#include <multitask/fit_least_squares.hpp>

namespace multitask {

/// The kernel-coupled least-squares fit (fit_least_squares) at every alpha of
/// `alphas` (each finite and > 0), with solver "auto", "exact", "cg" or
/// "task_bcd". The Gram statistics are formed once for the whole grid. The
/// alphas are fitted from the largest down, each iterative solve starting at
/// the previous solution (the solution moves little between neighbouring
/// alphas); the shared design's Sylvester solver reduces G and K once and only
/// re-shifts its tridiagonal factors per alpha (O(dT)); for per-task designs
/// the Woodbury solver of a coupling c I + low rank diagonalises the Grams once
/// (O(T d^3) per alpha after that), and the dense exact solver factorises its
/// (dT, dT) system per alpha. The results
/// are in the order of `alphas`.
template <typename Scalar>
std::vector<SolverResult<Scalar>> fit_least_squares_path(const TaskData<Scalar>& data, const Matrix<Scalar>& coupling,
                                                         const std::vector<double>& alphas, std::string solver,
                                                         const SolverOptions& options) {
  check_least_squares_arguments(data, coupling, options);
  require(!alphas.empty(), "alphas must not be empty");
  for (const double alpha : alphas) require(alpha > 0 && std::isfinite(alpha), "every alpha of a path must be > 0");
  if (solver == "auto") solver = choose_solver(data, coupling, *std::max_element(alphas.begin(), alphas.end()));
  require(solver == "exact" || solver == "cg" || solver == "task_bcd",
          "the path's solver must be one of 'auto', 'exact', 'cg', 'task_bcd', got '" + solver + "'");

  std::vector<size_t> order(alphas.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return alphas[a] > alphas[b]; });

  const bool dense_exact = solver == "exact" && !data.shared_design;
  CoupledSystem<Scalar> system(data, coupling, static_cast<Scalar>(alphas[order[0]]), options.n_threads, dense_exact);
  std::unique_ptr<ExactGramSolver<Scalar>> exact;
  if (solver == "exact")
    exact = std::make_unique<ExactGramSolver<Scalar>>(system, static_cast<Index>(alphas.size()));

  std::vector<SolverResult<Scalar>> results(alphas.size());
  Matrix<Scalar> start = Matrix<Scalar>::Zero(data.n_features(), data.n_tasks());
  for (const size_t k : order) {
    poll_interrupt();
    const Scalar alpha = static_cast<Scalar>(alphas[k]);
    system.set_alpha(alpha);
    if (exact) exact->set_alpha(alpha);
    SolverResult<Scalar>& result = results[k];
    result.solver = solver;
    result.coef = start;
    solve_gram_system(system, solver, options, result, exact.get());
    start = result.coef;
  }
  return results;
}

}  // namespace multitask
