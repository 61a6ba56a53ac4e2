// The multi-task kernel ridge problem from the arrays Python passes, shared by
// the fit and the path bindings. Python has validated and converted every array
// (one C-contiguous float dtype), so nothing is copied: the problem views the
// argument arrays, which the calling binding keeps alive.
#pragma once

#include <string>
#include <vector>

#include <multitask/kernels/kernel_ridge.hpp>

#include "array_conversion.hpp"
#include "design_conversion.hpp"

namespace multitask::bindings {

template <typename Scalar>
Matrix<Scalar> task_kernel_matrix(const py::array_t<double, py::array::c_style>& B) {
  require(B.ndim() == 2 && B.shape(0) == B.shape(1), "task_kernel must be a square matrix");
  return Eigen::Map<const RowMatrix<double>>(B.data(), B.shape(0), B.shape(1)).template cast<Scalar>();
}

/// The problem over X (inputs, dense or a CSR tuple, with a named kernel) or
/// `gram` (a precomputed input Gram; X is then ignored), B, the task offsets,
/// per-task ridges and y (N).
template <typename Scalar>
KernelRidgeProblem<Scalar> kernel_ridge_problem(const py::object& X_obj, const py::object& gram_obj,
                                                const std::string& kernel_name, double gamma, double coef0,
                                                int degree, const py::array_t<double, py::array::c_style>& task_kernel,
                                                const std::vector<Index>& offsets, bool shared,
                                                const py::array_t<double>& ridge, const py::object& y_obj,
                                                bool fit_intercept) {
  const CArray<Scalar> y = checked_array<Scalar>(y_obj, "y");
  require(y.ndim() == 1, "y must be 1-D");
  return KernelRidgeProblem<Scalar>{kernel_inputs<Scalar>(X_obj, gram_obj, kernel_name, gamma, coef0, degree),
                                    task_kernel_matrix<Scalar>(task_kernel),
                                    TaskLayout{offsets, shared},
                                    sample_weight_vector<Scalar>(ridge, static_cast<Index>(offsets.size()) - 1),
                                    Eigen::Map<const Vector<Scalar>>(y.data(), y.shape(0)),
                                    fit_intercept};
}

}  // namespace multitask::bindings
