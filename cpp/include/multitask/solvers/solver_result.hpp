// Options and result shared by every solver.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include <multitask/common/types.hpp>

namespace multitask {

/// Stopping rule of the iterative solvers (scale-free): stop at the first
/// iterate whose relative KKT residual ||grad F(W)||_F / ||grad F(0)||_F is at
/// most `tol`. For the squared loss grad F(W) = H(W) - C, so this is the
/// relative residual ||H(W) - C||_F / ||C||_F of the optimality system.
struct SolverOptions {
  double tol = 1e-8;
  int max_iter = 1000;
  int n_threads = 1;
};

template <typename Scalar>
struct SolverResult {
  Matrix<Scalar> coef;                 // W (d, T)
  Vector<Scalar> intercept;            // b (T)
  int n_iter = 0;                      // iterations (sweeps for bcd; 1 for exact)
  bool converged = false;
  double residual = 0;                 // final relative KKT residual
  long data_passes = 0;                // passes over the data after the statistics
  std::vector<double> objective_history;  // F after each iteration
  std::string solver;                  // the solver that ran
  std::string preconditioner;          // cg only: "block_jacobi" or "kronecker"
  double dual_gap = std::numeric_limits<double>::quiet_NaN();  // row solver only: P(W) - D at the end
  double dual_gap_scale = std::numeric_limits<double>::quiet_NaN();  // row solver only: P(0), the gap's scale
  std::vector<char> screened;          // row solver only: (d) rows removed by gap-safe screening
};

}  // namespace multitask
