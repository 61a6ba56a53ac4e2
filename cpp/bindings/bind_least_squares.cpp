// fit_least_squares and its alpha path: per-task arrays in, fitted models out, GIL released
// around the core. Python has already validated and converted every array to
// one C-contiguous dtype (float64 or float32), so no copy is made here.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <multitask/fit_least_squares.hpp>
#include <multitask/fit_least_squares_path.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"
#include "explicit_instantiations.hpp"
#include "interrupt_hook.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

/// The task blocks as TaskData viewing the Python arrays (kept alive in `X_arrays`, `y_arrays`).
template <typename Scalar>
TaskData<Scalar> task_data(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
                           bool fit_intercept, bool shared_design, std::vector<CArray<Scalar>>& X_arrays,
                           std::vector<py::array_t<Scalar>>& y_arrays) {
  require(X_list.size() == y_list.size(), "X and y must hold the same number of tasks");
  const Index T = static_cast<Index>(X_list.size());
  TaskData<Scalar> data;
  for (Index t = 0; t < T; ++t) {
    X_arrays.push_back(checked_array<Scalar>(X_list[t], "X"));
    y_arrays.push_back(checked_vector<Scalar>(y_list[t], "y"));
    const auto& X = X_arrays.back();
    const auto& y = y_arrays.back();
    require(X.ndim() == 2, "each task needs a 2-D X");
    data.X.emplace_back(X.data(), X.shape(0), X.shape(1));
    data.y.push_back(vector_view(y));
  }
  data.sample_weight = sample_weight_vector<Scalar>(sample_weight, T);
  data.fit_intercept = fit_intercept;
  data.shared_design = shared_design;
  return data;
}

template <typename Scalar>
py::dict fit(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
             const py::array_t<double>& coupling, double alpha, bool fit_intercept, bool shared_design,
             const std::string& solver, double tol, int max_iter, int n_threads, const py::object& warm_start) {
  std::vector<CArray<Scalar>> X_arrays;  // keep references alive
  std::vector<py::array_t<Scalar>> y_arrays;
  const TaskData<Scalar> data =
      task_data<Scalar>(X_list, y_list, sample_weight, fit_intercept, shared_design, X_arrays, y_arrays);
  const Index T = data.n_tasks();
  const Matrix<Scalar> K = coupling_matrix<Scalar>(coupling, T);

  Matrix<Scalar> initial;
  const bool has_warm_start = !warm_start.is_none();
  if (has_warm_start) initial = coef_matrix<Scalar>(warm_start, T, "warm start coef");
  const SolverOptions options = solver_options(tol, max_iter, n_threads);

  return result_dict(call_core([&] {
    return fit_least_squares(data, K, static_cast<Scalar>(alpha), solver, options, has_warm_start ? &initial : nullptr);
  }));
}

template <typename Scalar>
py::list fit_path(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
                  const py::array_t<double>& coupling, const std::vector<double>& alphas, bool fit_intercept,
                  bool shared_design, const std::string& solver, double tol, int max_iter, int n_threads) {
  std::vector<CArray<Scalar>> X_arrays;  // keep references alive
  std::vector<py::array_t<Scalar>> y_arrays;
  const TaskData<Scalar> data =
      task_data<Scalar>(X_list, y_list, sample_weight, fit_intercept, shared_design, X_arrays, y_arrays);
  const Matrix<Scalar> K = coupling_matrix<Scalar>(coupling, data.n_tasks());
  const SolverOptions options = solver_options(tol, max_iter, n_threads);
  const std::vector<SolverResult<Scalar>> results =
      call_core([&] { return fit_least_squares_path(data, K, alphas, solver, options); });
  py::list out;
  for (const SolverResult<Scalar>& result : results) out.append(result_dict(result));
  return out;
}

}  // namespace

void bind_least_squares(py::module_& m) {
  // float64 only: float32 data are converted by the caller (multitask._fit_result.COMPUTED_IN_FLOAT64).
  m.def("fit_least_squares_f64", &fit<double>, py::kw_only(), py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("coupling"), py::arg("alpha"), py::arg("fit_intercept"), py::arg("shared_design"),
        py::arg("solver"), py::arg("tol"), py::arg("max_iter"), py::arg("n_threads"), py::arg("warm_start"),
        "Kernel-coupled least squares on float64 task blocks; returns a dict (coef, intercept, n_iter, ...).");
  m.def("fit_least_squares_path_f64", &fit_path<double>, py::kw_only(), py::arg("X"), py::arg("y"),
        py::arg("sample_weight"), py::arg("coupling"), py::arg("alphas"), py::arg("fit_intercept"),
        py::arg("shared_design"), py::arg("solver"), py::arg("tol"), py::arg("max_iter"), py::arg("n_threads"),
        "fit_least_squares_f64 at every alpha of a grid, the statistics formed once; a list of result dicts.");
}

}  // namespace multitask::bindings
