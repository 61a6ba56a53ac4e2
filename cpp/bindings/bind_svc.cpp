// Multi-task SVM: the dual coordinate-descent fit. Python has validated and
// converted every array (float64, C-contiguous, samples stacked task by task),
// so no copy is made here; the GIL is released around the solver.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <multitask/kernels/svc_dual_cd.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"
#include "design_conversion.hpp"
#include "interrupt_hook.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

py::dict fit_svc(const py::object& X_obj, const py::object& gram_obj, const std::string& kernel_name, double gamma,
                 double coef0, int degree, const CArray<double>& task_kernel, const std::vector<Index>& offsets,
                 bool shared, const CArray<double>& y, const py::array_t<double>& upper,
                 const std::string& intercept, double tol, long long max_iter, double cache_bytes, bool shrinking,
                 int n_threads) {
  require(y.ndim() == 1, "y must be 1-D");
  require(task_kernel.ndim() == 2 && task_kernel.shape(0) == task_kernel.shape(1),
          "task_kernel must be a square matrix");
  const Index T = static_cast<Index>(offsets.size()) - 1;
  SvcProblem problem{
      kernel_inputs<double>(X_obj, gram_obj, kernel_name, gamma, coef0, degree),
      coupling_matrix<double>(task_kernel, T),
      TaskLayout{offsets, shared},
      Eigen::Map<const Vector<double>>(y.data(), y.shape(0)),
      sample_weight_vector<double>(upper, T),
      svc_intercept_from_name(intercept)};
  require(problem.inputs.n_inputs() == problem.layout.n_inputs(),
          "X must have one row per input of the task layout");
  SvcOptions options = solver_options<SvcOptions>(tol, max_iter, n_threads);
  options.cache_bytes = cache_bytes;
  options.shrinking = shrinking;
  const SvcResult result = call_core([&] { return solve_svc_dual(problem, options); });
  py::dict out = report_dict(result);
  out["dual"] = vector_array(result.dual);
  out["intercept"] = vector_array(result.intercept);
  return out;
}

}  // namespace

void bind_svc(py::module_& m) {
  m.def("fit_svc", &fit_svc, py::kw_only(), py::arg("X"), py::arg("gram"), py::arg("kernel"), py::arg("gamma"), py::arg("coef0"),
        py::arg("degree"), py::arg("task_kernel"), py::arg("offsets"), py::arg("shared"), py::arg("y"),
        py::arg("upper"), py::arg("intercept"), py::arg("tol"), py::arg("max_iter"), py::arg("cache_bytes"),
        py::arg("shrinking"), py::arg("n_threads"),
        "Multi-task SVM in the dual (float64); returns a dict (solver, n_iter, converged, residual, dual, intercept).");
}

}  // namespace multitask::bindings
