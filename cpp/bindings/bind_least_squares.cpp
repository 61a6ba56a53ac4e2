// fit_least_squares: per-task arrays in, fitted model out, GIL released
// around the core. Python has already validated and converted every array to
// one C-contiguous dtype (float64 or float32), so no copy is made here.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <multitask/fit_least_squares.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

template <typename Scalar>
using CArray = py::array_t<Scalar, py::array::c_style>;

template <typename Scalar>
CArray<Scalar> checked_array(const py::handle& obj, const char* name) {
  if (!CArray<Scalar>::check_(obj))
    throw InvalidArgument(std::string(name) + " must be C-contiguous arrays of one floating dtype");
  return py::reinterpret_borrow<CArray<Scalar>>(obj);
}

/// A 1-D array of Scalar with any stride (e.g. a column of a row-major Y).
template <typename Scalar>
py::array_t<Scalar> checked_vector(const py::handle& obj, const char* name) {
  if (!py::array_t<Scalar>::check_(obj) || py::reinterpret_borrow<py::array>(obj).ndim() != 1)
    throw InvalidArgument(std::string(name) + " must be 1-D arrays of the same floating dtype as X");
  const auto array = py::reinterpret_borrow<py::array_t<Scalar>>(obj);
  require(array.strides(0) % static_cast<py::ssize_t>(sizeof(Scalar)) == 0 && array.strides(0) > 0,
          std::string(name) + " has a stride that is not a positive multiple of its item size");
  return array;
}

template <typename Scalar>
py::dict fit(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
             const py::array_t<double>& coupling, double alpha, bool fit_intercept, bool shared_design,
             const std::string& solver, double tol, int max_iter, int n_threads, const py::object& warm_start) {
  require(X_list.size() == y_list.size(), "X and y must hold the same number of tasks");
  const Index T = static_cast<Index>(X_list.size());
  std::vector<CArray<Scalar>> X_arrays;  // keep references alive
  std::vector<py::array_t<Scalar>> y_arrays;
  TaskData<Scalar> data;
  for (Index t = 0; t < T; ++t) {
    X_arrays.push_back(checked_array<Scalar>(X_list[t], "X"));
    y_arrays.push_back(checked_vector<Scalar>(y_list[t], "y"));
    const auto& X = X_arrays.back();
    const auto& y = y_arrays.back();
    require(X.ndim() == 2, "each task needs a 2-D X");
    data.X.emplace_back(X.data(), X.shape(0), X.shape(1));
    data.y.emplace_back(y.data(), y.shape(0), Eigen::InnerStride<>(y.strides(0) / sizeof(Scalar)));
  }
  const auto weights = sample_weight.unchecked<1>();
  require(weights.shape(0) == T, "sample_weight must have one entry per task");
  data.sample_weight.resize(T);
  for (Index t = 0; t < T; ++t) data.sample_weight[t] = static_cast<Scalar>(weights(t));
  data.fit_intercept = fit_intercept;
  data.shared_design = shared_design;

  const auto K = coupling.unchecked<2>();
  require(K.shape(0) == T && K.shape(1) == T, "coupling must have shape (n_tasks, n_tasks)");
  Matrix<Scalar> coupling_matrix(T, T);
  for (Index i = 0; i < T; ++i)
    for (Index j = 0; j < T; ++j) coupling_matrix(i, j) = static_cast<Scalar>(K(i, j));

  Matrix<Scalar> initial;
  const bool has_warm_start = !warm_start.is_none();
  if (has_warm_start) {
    // coef_ (T, d) row-major has the memory layout of W (d, T) column-major.
    const auto coef = checked_array<Scalar>(warm_start, "warm start coef");
    require(coef.ndim() == 2 && coef.shape(0) == T, "warm start coef must have shape (n_tasks, n_features)");
    initial = Eigen::Map<const Matrix<Scalar>>(coef.data(), coef.shape(1), coef.shape(0));
  }
  SolverOptions options;
  options.tol = tol;
  options.max_iter = max_iter;
  options.n_threads = n_threads;

  SolverResult<Scalar> result;
  {
    py::gil_scoped_release release;
    result = fit_least_squares(data, coupling_matrix, static_cast<Scalar>(alpha), solver, options,
                               has_warm_start ? &initial : nullptr);
  }
  const Index d = result.coef.rows();
  CArray<Scalar> coef({T, d});
  Eigen::Map<Matrix<Scalar>>(coef.mutable_data(), d, T) = result.coef;
  CArray<Scalar> intercept(T);
  Eigen::Map<Vector<Scalar>>(intercept.mutable_data(), T) = result.intercept;

  py::dict out;
  out["coef"] = coef;
  out["intercept"] = intercept;
  out["n_iter"] = result.n_iter;
  out["converged"] = result.converged;
  out["residual"] = result.residual;
  out["data_passes"] = result.data_passes;
  out["objective_history"] = py::array_t<double>(result.objective_history.size(), result.objective_history.data());
  out["solver"] = result.solver;
  out["preconditioner"] = result.preconditioner;
  return out;
}

}  // namespace

void bind_least_squares(py::module_& m) {
  m.def("fit_least_squares_f64", &fit<double>, py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("coupling"), py::arg("alpha"), py::arg("fit_intercept"), py::arg("shared_design"),
        py::arg("solver"), py::arg("tol"), py::arg("max_iter"), py::arg("n_threads"), py::arg("warm_start"),
        "Kernel-coupled least squares on float64 task blocks; returns a dict (coef, intercept, n_iter, ...).");
  m.def("fit_least_squares_f32", &fit<float>, py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("coupling"), py::arg("alpha"), py::arg("fit_intercept"), py::arg("shared_design"),
        py::arg("solver"), py::arg("tol"), py::arg("max_iter"), py::arg("n_threads"), py::arg("warm_start"),
        "Kernel-coupled least squares on float32 task blocks; returns a dict (coef, intercept, n_iter, ...).");
}

}  // namespace multitask::bindings
