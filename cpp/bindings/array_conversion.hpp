// Conversions between numpy arrays and the core's Eigen views, shared by the
// binding translation units. Python has already validated and converted every
// array, so these only check what the core relies on and never copy data.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include <multitask/common/types.hpp>
#include <multitask/common/solve_report.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace multitask::bindings {

namespace py = pybind11;

template <typename Scalar>
using CArray = py::array_t<Scalar, py::array::c_style>;

/// obj as a C-contiguous array of Scalar; InvalidArgument naming `name` otherwise.
template <typename Scalar>
CArray<Scalar> checked_array(const py::handle& obj, const std::string& name) {
  if (!CArray<Scalar>::check_(obj))
    throw InvalidArgument(name + " must be C-contiguous arrays of one floating dtype");
  return py::reinterpret_borrow<CArray<Scalar>>(obj);
}

/// A 1-D array of Scalar with any positive stride (e.g. a column of a row-major Y).
template <typename Scalar>
py::array_t<Scalar> checked_vector(const py::handle& obj, const std::string& name) {
  if (!py::array_t<Scalar>::check_(obj) || py::reinterpret_borrow<py::array>(obj).ndim() != 1)
    throw InvalidArgument(name + " must be 1-D arrays of the same floating dtype as X");
  const auto array = py::reinterpret_borrow<py::array_t<Scalar>>(obj);
  require(array.strides(0) % static_cast<py::ssize_t>(sizeof(Scalar)) == 0 && array.strides(0) > 0,
          name + " has a stride that is not a positive multiple of its item size");
  return array;
}

/// Strided Eigen view of a checked 1-D array.
template <typename Scalar>
Eigen::Map<const Vector<Scalar>, 0, Eigen::InnerStride<>> vector_view(const py::array_t<Scalar>& array) {
  return {array.data(), array.shape(0), Eigen::InnerStride<>(array.strides(0) / static_cast<py::ssize_t>(sizeof(Scalar)))};
}

/// The (T, T) coupling as an Eigen matrix of Scalar.
template <typename Scalar>
Matrix<Scalar> coupling_matrix(const py::array_t<double>& coupling, Index n_tasks) {
  const auto K = coupling.unchecked<2>();
  require(K.shape(0) == n_tasks && K.shape(1) == n_tasks, "coupling must have shape (n_tasks, n_tasks)");
  Matrix<Scalar> out(n_tasks, n_tasks);
  for (Index i = 0; i < n_tasks; ++i)
    for (Index j = 0; j < n_tasks; ++j) out(i, j) = static_cast<Scalar>(K(i, j));
  return out;
}

/// Per-task sample weights s_t as a Vector of Scalar.
template <typename Scalar>
Vector<Scalar> sample_weight_vector(const py::array_t<double>& sample_weight, Index n_tasks) {
  const auto weights = sample_weight.unchecked<1>();
  require(weights.shape(0) == n_tasks, "sample_weight must have one entry per task");
  Vector<Scalar> out(n_tasks);
  for (Index t = 0; t < n_tasks; ++t) out[t] = static_cast<Scalar>(weights(t));
  return out;
}

/// A (T, d) row-major coef array as W (d, T) column-major (the same memory layout).
template <typename Scalar>
Matrix<Scalar> coef_matrix(const py::handle& obj, Index n_tasks, const std::string& name) {
  const auto coef = checked_array<Scalar>(obj, name);
  require(coef.ndim() == 2 && coef.shape(0) == n_tasks, name + " must have shape (n_tasks, n_features)");
  return Eigen::Map<const Matrix<Scalar>>(coef.data(), coef.shape(1), coef.shape(0));
}

/// W (d, T) as a new (T, d) row-major array.
template <typename Scalar>
CArray<Scalar> coef_array(const Matrix<Scalar>& W) {
  CArray<Scalar> coef({W.cols(), W.rows()});
  Eigen::Map<Matrix<Scalar>>(coef.mutable_data(), W.rows(), W.cols()) = W;
  return coef;
}

template <typename Scalar>
CArray<Scalar> vector_array(const Vector<Scalar>& v) {
  CArray<Scalar> out(v.size());
  Eigen::Map<Vector<Scalar>>(out.mutable_data(), v.size()) = v;
  return out;
}

/// Options of the kind every solver takes, with the common stopping rule set.
template <typename Options = SolverOptions>
Options solver_options(double tol, long long max_iter, int n_threads) {
  Options options;
  options.tol = tol;
  options.max_iter = max_iter;
  options.n_threads = n_threads;
  return options;
}

/// The report every solver gives (solver, n_iter, converged, residual), as the
/// first entries of the dict the Python estimators read.
inline py::dict report_dict(const SolveReport& report) {
  py::dict out;
  out["solver"] = report.solver;
  out["n_iter"] = report.n_iter;
  out["converged"] = report.converged;
  out["residual"] = report.residual;
  return out;
}

/// The fitted model and solver report as the dict the Python estimators read.
template <typename Scalar>
py::dict result_dict(const SolverResult<Scalar>& result) {
  py::dict out = report_dict(result);
  out["coef"] = coef_array(result.coef);
  out["intercept"] = vector_array(result.intercept);
  out["data_passes"] = result.data_passes;
  out["objective_history"] = py::array_t<double>(result.objective_history.size(), result.objective_history.data());
  out["preconditioner"] = result.preconditioner;
  out["exact_method"] = result.exact_method;
  out["dual_gap"] = result.dual_gap;
  out["dual_gap_scale"] = result.dual_gap_scale;  // tol bounds dual_gap / dual_gap_scale
  py::array_t<bool> screened(static_cast<py::ssize_t>(result.screened.size()));
  std::copy(result.screened.begin(), result.screened.end(), screened.mutable_data());
  out["screened"] = screened;
  return out;
}

}  // namespace multitask::bindings
