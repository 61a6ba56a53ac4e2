// What every solver is given and what it reports besides its solution, one
// type each: the linear models', kernel ridge's and the SVM's options extend
// SolverOptions; their results (and the dual CG's report) extend SolveReport,
// whose entries the bindings return by one name.
#pragma once

#include <string>

namespace multitask {

/// Stopping rule of the iterative solvers: stop at the first iterate whose
/// convergence measure (SolveReport::residual, scale-free) is at most `tol`,
/// or after `max_iter` iterations. For the linear models it is the relative KKT
/// residual ||grad F(W)||_F / ||grad F(0)||_F; for the squared loss grad F(W) =
/// H(W) - C, so this is the relative residual ||H(W) - C||_F / ||C||_F.
struct SolverOptions {
  double tol = 1e-8;
  long long max_iter = 1000;
  int n_threads = 1;
};

struct SolveReport {
  std::string solver;    // the solver that ran
  long long n_iter = 0;  // its iterations (sweeps, working-set updates; 1 for a direct solve)
  bool converged = false;
  double residual = 0;   // the final convergence measure, the quantity `tol` bounds
};

}  // namespace multitask
