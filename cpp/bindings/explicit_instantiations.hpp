// The core's entry points, compiled once per scalar (and design) each in a
// translation unit of its own (instantiate_*.cpp), instead of all of them in
// the binding unit that calls them. The binding units see the `extern`
// declarations below and do not instantiate these templates themselves. So the
// build runs the heavy units side by side, and no compiler process holds every
// solver at once (the whole linear-model binding took 3.6 GB and ~5 CPU
// minutes as one unit). The linear-model fits exist for float64 only (float32
// data are converted in Python), the kernel machines for both. The parts that
// work in float64 whatever the data (the Kronecker solver, the alpha path) are
// compiled once, in the float64 kernel-ridge unit, with the fit they share
// their helpers with (eigensolver, tridiagonal reduction, bordered Cholesky).
#pragma once

#include <multitask/fit_least_squares.hpp>
#include <multitask/fit_least_squares_path.hpp>
#include <multitask/fit_linear_model.hpp>
#include <multitask/kernels/kernel_ridge.hpp>
#include <multitask/kernels/kernel_ridge_path.hpp>

// MULTITASK_INSTANTIATE_<entry point>(prefix, ...): `extern` declares the
// instantiation, an empty prefix defines it.
#define MULTITASK_INSTANTIATE_FIT_LINEAR_MODEL(prefix, Scalar, Design)                                              \
  prefix template SolverResult<Scalar> fit_linear_model(                                                            \
      const TaskBlocks<Scalar, Design<Scalar>>&, PointwiseLoss, const Matrix<Scalar>&, Scalar,              \
      const SparsityPenalty&, std::string, const SolverOptions&, const Matrix<Scalar>*, const Vector<Scalar>*);
#define MULTITASK_INSTANTIATE_FIT_LEAST_SQUARES(prefix, Scalar)                                                    \
  prefix template SolverResult<Scalar> fit_least_squares(const TaskData<Scalar>&, const Matrix<Scalar>&, Scalar, \
                                                         std::string, const SolverOptions&, const Matrix<Scalar>*);
#define MULTITASK_INSTANTIATE_FIT_LEAST_SQUARES_PATH(prefix, Scalar)                                       \
  prefix template std::vector<SolverResult<Scalar>> fit_least_squares_path(                                  \
      const TaskData<Scalar>&, const Matrix<Scalar>&, const std::vector<double>&, std::string, const SolverOptions&);
#define MULTITASK_INSTANTIATE_FIT_KERNEL_RIDGE(prefix, Scalar) \
  prefix template KernelRidgeResult<Scalar> fit_kernel_ridge(const KernelRidgeProblem<Scalar>&, const KernelRidgeOptions&);
#define MULTITASK_INSTANTIATE_KERNEL_RIDGE_FLOAT64_PARTS(prefix)                                                       \
  prefix template Matrix<double> solve_kronecker_dual_in(Matrix<double>, const Matrix<double>&, const Vector<double>&, \
                                                         const Matrix<double>&, bool, int, Vector<double>&);          \
  prefix template KernelRidgePath<double> fit_kernel_ridge_path(const KernelRidgeProblem<double>&,                    \
                                                                const Vector<double>&, const std::string&, int);

namespace multitask {

MULTITASK_INSTANTIATE_FIT_LINEAR_MODEL(extern, double, DenseDesign)
MULTITASK_INSTANTIATE_FIT_LINEAR_MODEL(extern, double, SparseDesign)
MULTITASK_INSTANTIATE_FIT_LEAST_SQUARES(extern, double)
MULTITASK_INSTANTIATE_FIT_LEAST_SQUARES_PATH(extern, double)
MULTITASK_INSTANTIATE_FIT_KERNEL_RIDGE(extern, double)
MULTITASK_INSTANTIATE_FIT_KERNEL_RIDGE(extern, float)
MULTITASK_INSTANTIATE_KERNEL_RIDGE_FLOAT64_PARTS(extern)

}  // namespace multitask
