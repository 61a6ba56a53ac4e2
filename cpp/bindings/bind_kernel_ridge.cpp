// Multi-task kernel ridge: the dual fit, kernel expansions for predict, and
// input kernel matrices (for tests). Python has validated and converted every
// array (one C-contiguous float dtype), so no copy is made here; the GIL is
// released around the core.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <multitask/kernels/kernel_ridge.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"
#include "design_conversion.hpp"
#include "explicit_instantiations.hpp"
#include "interrupt_hook.hpp"
#include "kernel_ridge_problem.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

template <typename Scalar>
py::dict fit(const py::object& X_obj, const py::object& gram_obj, const std::string& kernel_name, double gamma,
             double coef0, int degree, const py::array_t<double, py::array::c_style>& task_kernel,
             const std::vector<Index>& offsets, bool shared, const py::array_t<double>& ridge,
             const py::object& y_obj, bool fit_intercept, const std::string& solver, double tol, int max_iter,
             int n_threads, double max_cache_bytes) {
  const KernelRidgeProblem<Scalar> problem = kernel_ridge_problem<Scalar>(
      X_obj, gram_obj, kernel_name, gamma, coef0, degree, task_kernel, offsets, shared, ridge, y_obj, fit_intercept);
  KernelRidgeOptions options = solver_options<KernelRidgeOptions>(tol, max_iter, n_threads);
  options.solver = solver;
  options.max_cache_bytes = max_cache_bytes;

  const KernelRidgeResult<Scalar> result = call_core([&] { return fit_kernel_ridge(problem, options); });
  py::dict out = report_dict(result);
  out["dual_coef"] = vector_array(result.dual_coef);
  out["intercept"] = vector_array(result.intercept);
  out["gram"] = result.gram;
  return out;
}

/// k(X1, X2) W (n1, m), or k(X1, X2) itself when W is None; X1 and X2 both
/// dense arrays or both CSR tuples.
template <typename Scalar>
CArray<Scalar> kernel_values(const py::object& X1_obj, const py::object& X2_obj, const std::string& kernel_name,
                             double gamma, double coef0, int degree, const py::object& W_obj, int n_threads) {
  const bool sparse = is_sparse_block(X1_obj);
  require(sparse == is_sparse_block(X2_obj), "X1 and X2 must be both dense or both sparse");
  const InputKernel kernel = InputKernel::from_name(kernel_name, gamma, coef0, degree);
  KeepAlive keep;
  const DenseDesign<Scalar> W = W_obj.is_none() ? empty_dense_design<Scalar>() : dense_design<Scalar>(W_obj, "weights", keep);
  Matrix<Scalar> values;
  auto compute = [&](const auto& A, const auto& B) {
    require(A.cols() == B.cols(), "X1 and X2 must have the same number of features");
    require(W_obj.is_none() || W.rows() == B.rows(), "weights must have one row per row of X2");
    call_core([&] {
      if (W_obj.is_none())
        kernel_matrix<Scalar>(kernel, A, B, values, n_threads);
      else
        kernel_expansion<Scalar>(kernel, A, B, W, values, n_threads);
    });
  };
  if (sparse)
    compute(sparse_design<Scalar>(X1_obj, "X1", keep), sparse_design<Scalar>(X2_obj, "X2", keep));
  else
    compute(dense_design<Scalar>(X1_obj, "X1", keep), dense_design<Scalar>(X2_obj, "X2", keep));
  CArray<Scalar> out({values.rows(), values.cols()});
  Eigen::Map<RowMatrix<Scalar>>(out.mutable_data(), values.rows(), values.cols()) = values;
  return out;
}

template <typename Scalar>
void define(py::module_& m, const std::string& suffix) {
  m.def(("fit_kernel_ridge_" + suffix).c_str(), &fit<Scalar>, py::kw_only(), py::arg("X"), py::arg("gram"), py::arg("kernel"),
        py::arg("gamma"), py::arg("coef0"), py::arg("degree"), py::arg("task_kernel"), py::arg("offsets"),
        py::arg("shared"), py::arg("ridge"), py::arg("y"), py::arg("fit_intercept"), py::arg("solver"),
        py::arg("tol"), py::arg("max_iter"), py::arg("n_threads"), py::arg("max_cache_bytes"),
        "Multi-task kernel ridge in the dual; returns a dict (dual_coef, intercept, n_iter, ...).");
  m.def(("kernel_values_" + suffix).c_str(), &kernel_values<Scalar>, py::kw_only(), py::arg("X1"), py::arg("X2"),
        py::arg("kernel"), py::arg("gamma"), py::arg("coef0"), py::arg("degree"), py::arg("weights"),
        py::arg("n_threads"), "k(X1, X2) @ weights (n1, m), or k(X1, X2) when weights is None.");
}

}  // namespace

void bind_kernel_ridge(py::module_& m) {
  define<double>(m, "f64");
  define<float>(m, "f32");
}

}  // namespace multitask::bindings
