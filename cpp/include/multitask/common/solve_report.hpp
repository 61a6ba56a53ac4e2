// What every solver reports besides its solution, in one type: the linear
// models' SolverResult, the kernel ridge and SVM results and the dual CG's
// report all extend it, and the bindings return these entries by one name.
#pragma once

#include <string>

namespace multitask {

struct SolveReport {
  std::string solver;    // the solver that ran
  long long n_iter = 0;  // its iterations (sweeps, working-set updates; 1 for a direct solve)
  bool converged = false;
  double residual = 0;   // the final convergence measure, the quantity `tol` bounds
};

}  // namespace multitask
