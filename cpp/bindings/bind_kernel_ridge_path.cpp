// Multi-task kernel ridge for many alphas at once (kernel_ridge_path.hpp). The
// path computes in float64: Python passes float64 arrays. The GIL is released
// around the core.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <multitask/kernels/kernel_ridge_path.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"
#include "explicit_instantiations.hpp"
#include "interrupt_hook.hpp"
#include "kernel_ridge_problem.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

/// A (rows, n_alphas) column-major path matrix as a new (n_alphas, rows) row-major array.
CArray<double> per_alpha_rows(const Matrix<double>& columns) {
  CArray<double> out({columns.cols(), columns.rows()});
  Eigen::Map<Matrix<double>>(out.mutable_data(), columns.rows(), columns.cols()) = columns;
  return out;
}

py::dict fit_path(const py::object& X_obj, const py::object& gram_obj, const std::string& kernel_name, double gamma,
                  double coef0, int degree, const py::array_t<double, py::array::c_style>& task_kernel,
                  const std::vector<Index>& offsets, bool shared, const py::array_t<double>& unit_ridge,
                  const py::object& y_obj, bool fit_intercept, const py::array_t<double>& alphas_array,
                  const std::string& method, int n_threads) {
  const KernelRidgeProblem<double> problem =
      kernel_ridge_problem<double>(X_obj, gram_obj, kernel_name, gamma, coef0, degree, task_kernel, offsets, shared,
                                   unit_ridge, y_obj, fit_intercept);
  require(alphas_array.ndim() == 1, "alphas must be 1-D");
  const auto view = checked_vector<double>(alphas_array, "alphas");
  const Vector<double> alphas = vector_view(view);
  const KernelRidgePath<double> path = call_core([&] { return fit_kernel_ridge_path(problem, alphas, method, n_threads); });
  py::dict out;
  out["dual_coefs"] = per_alpha_rows(path.dual_coefs);
  out["intercepts"] = per_alpha_rows(path.intercepts);
  out["method"] = path.method;
  return out;
}

}  // namespace

void bind_kernel_ridge_path(py::module_& m) {
  m.def("kernel_ridge_path_f64", &fit_path, py::kw_only(), py::arg("X"), py::arg("gram"), py::arg("kernel"), py::arg("gamma"),
        py::arg("coef0"), py::arg("degree"), py::arg("task_kernel"), py::arg("offsets"), py::arg("shared"),
        py::arg("unit_ridge"), py::arg("y"), py::arg("fit_intercept"), py::arg("alphas"), py::arg("method"),
        py::arg("n_threads"),
        "Multi-task kernel ridge at every alpha (ridge alpha * unit_ridge); returns a dict with dual_coefs "
        "(n_alphas, N), intercepts (n_alphas, T) and the method used.");
}

}  // namespace multitask::bindings
