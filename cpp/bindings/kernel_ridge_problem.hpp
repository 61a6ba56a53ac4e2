// The multi-task kernel ridge problem from the arrays Python passes, shared by
// the fit and the path bindings. Python has validated and converted every array
// (one C-contiguous float dtype), so nothing is copied: the problem views the
// argument arrays, which the calling binding keeps alive.
#pragma once

#include <string>
#include <vector>

#include <multitask/kernel_ridge.hpp>

#include "array_conversion.hpp"

namespace multitask::bindings {

template <typename Scalar>
using RowMap = Eigen::Map<const RowMatrix<Scalar>>;

/// A checked 2-D C-contiguous array as a row-major Eigen map.
template <typename Scalar>
RowMap<Scalar> matrix_view(const CArray<Scalar>& array, const std::string& name) {
  require(array.ndim() == 2, name + " must be 2-D");
  return {array.data(), array.shape(0), array.shape(1)};
}

template <typename Scalar>
Matrix<Scalar> task_kernel_matrix(const py::array_t<double, py::array::c_style>& B) {
  require(B.ndim() == 2 && B.shape(0) == B.shape(1), "task_kernel must be a square matrix");
  return Eigen::Map<const RowMatrix<double>>(B.data(), B.shape(0), B.shape(1)).template cast<Scalar>();
}

/// The problem over X (inputs with a named kernel) or `gram` (a precomputed
/// input Gram; X is then ignored), B, the task offsets, per-task ridges and y (N).
template <typename Scalar>
KernelRidgeProblem<Scalar> kernel_ridge_problem(const py::object& X_obj, const py::object& gram_obj,
                                                const std::string& kernel_name, double gamma, double coef0,
                                                int degree, const py::array_t<double, py::array::c_style>& task_kernel,
                                                const std::vector<Index>& offsets, bool shared,
                                                const py::array_t<double>& ridge, const py::object& y_obj,
                                                bool fit_intercept) {
  const bool precomputed = !gram_obj.is_none();
  const RowMap<Scalar> empty(nullptr, 0, 0);
  // checked_array borrows: the maps point into the arguments' buffers.
  const RowMap<Scalar> X =
      precomputed ? empty : matrix_view(checked_array<Scalar>(X_obj, "X"), "X");
  const RowMap<Scalar> gram =
      precomputed ? matrix_view(checked_array<Scalar>(gram_obj, "the precomputed kernel"), "the precomputed kernel")
                  : empty;
  const CArray<Scalar> y = checked_array<Scalar>(y_obj, "y");
  require(y.ndim() == 1, "y must be 1-D");
  const InputKernel kernel =
      precomputed ? InputKernel{} : InputKernel::from_name(kernel_name, gamma, coef0, degree);
  return KernelRidgeProblem<Scalar>{KernelInputs<Scalar>{X, kernel, gram},
                                    task_kernel_matrix<Scalar>(task_kernel),
                                    TaskLayout{offsets, shared},
                                    sample_weight_vector<Scalar>(ridge, static_cast<Index>(offsets.size()) - 1),
                                    Eigen::Map<const Vector<Scalar>>(y.data(), y.shape(0)),
                                    fit_intercept};
}

}  // namespace multitask::bindings
