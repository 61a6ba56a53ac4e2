// fit_shared_subspace: per-task arrays (dense, or CSR tuples) in, the factors
// U, A and the intercepts out, GIL released around the core. Python has already
// validated the input and converted it to float64 (float32 data included).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <multitask/fit_shared_subspace.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"
#include "design_conversion.hpp"
#include "interrupt_hook.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

/// A (rows, cols) column-major matrix as a new C-contiguous array of the same shape.
CArray<double> matrix_array(const Matrix<double>& M) {
  CArray<double> out({M.rows(), M.cols()});
  Eigen::Map<RowMatrix<double>>(out.mutable_data(), M.rows(), M.cols()) = M;
  return out;
}

py::dict fit(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
             const py::array_t<double>& coupling, double alpha, double alpha_u, int n_components,
             bool fit_intercept, bool shared_design, double tol, long long max_iter, int n_threads,
             const py::object& initial_components) {
  require(X_list.size() == y_list.size(), "X and y must hold the same number of tasks");
  require(X_list.size() > 0, "at least one task is required");
  const Index T = static_cast<Index>(X_list.size());
  const Matrix<double> K = coupling_matrix<double>(coupling, T);
  KeepAlive keep;
  auto fill_targets = [&](auto& data) {
    for (Index t = 0; t < T; ++t) {
      const auto y = checked_vector<double>(y_list[t], "y");
      keep.arrays.push_back(y);
      data.y.push_back(vector_view(y));
    }
    data.sample_weight = sample_weight_vector<double>(sample_weight, T);
    data.fit_intercept = fit_intercept;
  };
  Matrix<double> initial;
  if (!initial_components.is_none()) {
    const auto U0 = checked_array<double>(initial_components, "initial_components");
    require(U0.ndim() == 2, "initial_components must be 2-D (n_features, n_components)");
    initial = Eigen::Map<const RowMatrix<double>>(U0.data(), U0.shape(0), U0.shape(1));
  }
  const SolverOptions options = solver_options(tol, max_iter, n_threads);
  const bool sparse = is_sparse_block(X_list[0]);
  TaskBlocks<double, SparseDesign<double>> sparse_data;
  TaskData<double> dense_data;
  for (Index t = 0; t < T; ++t) {
    const std::string name = "X[" + std::to_string(t) + "]";
    require(is_sparse_block(X_list[t]) == sparse, "X must be all sparse or all dense blocks");
    if (sparse) {
      sparse_data.X.push_back(sparse_design<double>(X_list[t], name, keep));
    } else {
      dense_data.X.push_back(dense_design<double>(X_list[t], name, keep));
    }
  }
  if (sparse) {
    fill_targets(sparse_data);
    sparse_data.validate(false);
  } else {
    fill_targets(dense_data);
    dense_data.shared_design = shared_design;
    dense_data.validate();
  }

  const SubspaceResult<double> result = call_core([&] {
    const std::vector<TaskStatistics<double>> stats =
        sparse ? subspace_statistics(sparse_data, shared_design) : subspace_statistics(dense_data, n_threads);
    return fit_shared_subspace(stats, K, alpha, alpha_u, static_cast<Index>(n_components), options,
                               initial_components.is_none() ? nullptr : &initial);
  });
  py::dict out = report_dict(result);
  out["components"] = matrix_array(result.components);
  out["heads"] = matrix_array(result.heads);
  out["intercept"] = vector_array(result.intercept);
  out["objective_history"] = py::array_t<double>(result.objective_history.size(), result.objective_history.data());
  out["alternating_sweeps"] = result.alternating_sweeps;
  out["hessian_products"] = result.hessian_products;
  out["zero_solution"] = result.zero_solution;
  return out;
}

}  // namespace

void bind_shared_subspace(py::module_& m) {
  m.def("fit_shared_subspace_f64", &fit, py::kw_only(), py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("coupling"), py::arg("alpha"), py::arg("alpha_u"), py::arg("n_components"),
        py::arg("fit_intercept"), py::arg("shared_design"), py::arg("tol"), py::arg("max_iter"),
        py::arg("n_threads"), py::arg("initial_components"),
        "SharedSubspaceRegressor on float64 task blocks (dense or CSR); returns a dict (components (d, r), "
        "heads (r, T), intercept, n_iter, converged, residual, objective_history, ...).");
}

}  // namespace multitask::bindings
