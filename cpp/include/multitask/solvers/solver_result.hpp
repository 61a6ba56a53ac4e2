// Options and result shared by every solver.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include <multitask/common/solve_report.hpp>
#include <multitask/common/types.hpp>

namespace multitask {

template <typename Scalar>
struct SolverResult : SolveReport {  // residual: the final relative KKT residual
  Matrix<Scalar> coef;                 // W (d, T)
  Vector<Scalar> intercept;            // b (T)
  long data_passes = 0;                // passes over the data after the statistics
  std::vector<double> objective_history;  // F after each iteration
  std::string preconditioner;          // cg only: "block_jacobi" or "kronecker"
  std::string exact_method;            // exact only: "sylvester", "low_rank_coupling" or "dense_cholesky"
  double dual_gap = std::numeric_limits<double>::quiet_NaN();  // row solver only: P(W) - D at the end
  double dual_gap_scale = std::numeric_limits<double>::quiet_NaN();  // row solver only: P(0), the gap's scale
  std::vector<char> screened;          // row solver only: (d) rows removed by gap-safe screening
};

/// A solver of H(W) = C with ||C|| = rhs_norm: for C = 0 the optimum is W = 0
/// whatever the start, which this sets (converged) before returning true.
template <typename Scalar>
bool solved_at_zero_rhs(double rhs_norm, SolverResult<Scalar>& result) {
  if (rhs_norm != 0) return false;
  result.coef.setZero();
  result.converged = true;
  return true;
}

}  // namespace multitask
