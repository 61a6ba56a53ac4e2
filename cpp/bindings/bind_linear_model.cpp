// Kernel-coupled linear models with a pointwise loss (the classifier, and the
// regressor's squared and Huber losses on the data): fit, penalty_max, and the
// objective, gradient and Hessian-vector product (for tests against finite
// differences). `loss` names a type of pointwise_losses.hpp, `loss_parameter` is
// its parameter (Huber's delta; ignored by the others). Each task's
// design is a dense C-contiguous (n_t, d) array or a CSR tuple
// (data, indices, indptr, n_features) with int32 indices and row pointers
// starting at 0; either way the core maps the caller's buffers (no copy).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <multitask/fit_linear_model.hpp>
#include <multitask/objectives/penalty_max.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"
#include "design_conversion.hpp"
#include "explicit_instantiations.hpp"
#include "interrupt_hook.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

/// Builds the task views and calls body(data) with dense or sparse designs.
template <typename Scalar, typename Body>
auto with_linear_model_data(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
                              bool fit_intercept, Body&& body) {
  require(X_list.size() == y_list.size(), "X and y must hold the same number of tasks");
  require(X_list.size() > 0, "at least one task is required");
  const Index T = static_cast<Index>(X_list.size());
  KeepAlive keep;
  auto fill_common = [&](auto& data) {
    for (Index t = 0; t < T; ++t) {
      const auto y = checked_vector<Scalar>(y_list[t], "y");
      keep.arrays.push_back(y);
      data.y.push_back(vector_view(y));
    }
    data.sample_weight = sample_weight_vector<Scalar>(sample_weight, T);
    data.fit_intercept = fit_intercept;
  };
  if (is_sparse_block(X_list[0])) {
    TaskBlocks<Scalar, SparseDesign<Scalar>> data;
    for (Index t = 0; t < T; ++t) {
      require(is_sparse_block(X_list[t]), "X must be all sparse or all dense blocks");
      data.X.push_back(sparse_design<Scalar>(X_list[t], "X[" + std::to_string(t) + "]", keep));
    }
    fill_common(data);
    return body(data);
  }
  TaskBlocks<Scalar, DenseDesign<Scalar>> data;
  for (Index t = 0; t < T; ++t) {
    data.X.push_back(dense_design<Scalar>(X_list[t], "X", keep));
  }
  fill_common(data);
  return body(data);
}

template <typename Scalar>
py::dict fit(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
             const py::array_t<double>& coupling, double alpha, bool fit_intercept, const std::string& loss,
             double loss_parameter, double l1, double l21, double trace_norm, const std::string& solver, double tol,
             int max_iter, int n_threads, const py::object& warm_coef, const py::object& warm_intercept) {
  const Index T = static_cast<Index>(X_list.size());
  const Matrix<Scalar> K = coupling_matrix<Scalar>(coupling, T);
  const PointwiseLoss pointwise_loss = PointwiseLoss::from_name(loss, loss_parameter);
  const SparsityPenalty penalty = SparsityPenalty::from_weights(l1, l21, trace_norm);
  Matrix<Scalar> initial_coef;
  Vector<Scalar> initial_intercept;
  if (!warm_coef.is_none()) initial_coef = coef_matrix<Scalar>(warm_coef, T, "warm start coef");
  if (!warm_intercept.is_none()) {
    const auto b = checked_vector<Scalar>(warm_intercept, "warm start intercept");
    initial_intercept = vector_view(b);
  }
  const SolverOptions options = solver_options(tol, max_iter, n_threads);
  return with_linear_model_data<Scalar>(X_list, y_list, sample_weight, fit_intercept, [&](const auto& data) {
    return result_dict(call_core([&] {
      return fit_linear_model(data, pointwise_loss, K, static_cast<Scalar>(alpha), penalty, solver, options,
                              warm_coef.is_none() ? nullptr : &initial_coef,
                              warm_intercept.is_none() ? nullptr : &initial_intercept);
    }));
  });
}

/// x = [vec(W); b] from coef (T, d) and intercept (T).
Vector<double> packed_parameters(const py::handle& coef, const py::handle& intercept, Index T) {
  const Matrix<double> W = coef_matrix<double>(coef, T, "coef");
  const auto b = checked_vector<double>(intercept, "intercept");
  require(b.shape(0) == T, "intercept must have shape (n_tasks,)");
  Vector<double> x(W.size() + T);
  x << Eigen::Map<const Vector<double>>(W.data(), W.size()), vector_view(b);
  return x;
}

/// (coef (T, d), intercept (T)) arrays from a packed vector.
py::tuple unpacked_parameters(const Vector<double>& x, Index d, Index T) {
  const Matrix<double> W = Eigen::Map<const Matrix<double>>(x.data(), d, T);
  return py::make_tuple(coef_array(W), vector_array<double>(x.tail(T)));
}

/// body(objective, data) with the linear-model objective over the given data
/// (float64, one thread): what the test bindings below evaluate.
template <typename Body>
py::tuple with_objective(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
                         const py::array_t<double>& coupling, double alpha, bool fit_intercept,
                         const std::string& loss, double loss_parameter, Body&& body) {
  const Matrix<double> K = coupling_matrix<double>(coupling, static_cast<Index>(X_list.size()));
  return with_linear_model_data<double>(X_list, y_list, sample_weight, fit_intercept, [&](const auto& data) {
    const PointwiseLoss pointwise_loss = PointwiseLoss::from_name(loss, loss_parameter);
    data.validate(pointwise_loss.sign_labels());
    LinearModelObjective objective(data, pointwise_loss, K, alpha, 1);
    return body(objective, data);
  });
}

py::tuple objective(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
                    const py::array_t<double>& coupling, double alpha, bool fit_intercept, const std::string& loss,
                    double loss_parameter, const py::object& coef, const py::object& intercept) {
  const Index T = static_cast<Index>(X_list.size());
  const Vector<double> x = packed_parameters(coef, intercept, T);
  return with_objective(X_list, y_list, sample_weight, coupling, alpha, fit_intercept, loss, loss_parameter,
                        [&](auto& objective, const auto& data) {
    Vector<double> gradient;
    const double value = objective.value_and_gradient(x, gradient);
    const py::tuple parts = unpacked_parameters(gradient, data.n_features(), T);
    return py::make_tuple(value, parts[0], parts[1]);
  });
}

py::tuple hessian_product(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
                          const py::array_t<double>& coupling, double alpha, bool fit_intercept,
                          const std::string& loss, double loss_parameter, const py::object& coef,
                          const py::object& intercept,
                          const py::object& direction_coef, const py::object& direction_intercept) {
  const Index T = static_cast<Index>(X_list.size());
  const Vector<double> x = packed_parameters(coef, intercept, T);
  const Vector<double> v = packed_parameters(direction_coef, direction_intercept, T);
  return with_objective(X_list, y_list, sample_weight, coupling, alpha, fit_intercept, loss, loss_parameter,
                        [&](auto& objective, const auto& data) {
    Vector<double> product;
    objective.hessian_product(x, v, product);
    return unpacked_parameters(product, data.n_features(), T);
  });
}

/// The smallest weight of `penalty` with W = 0 optimal (penalty_max.hpp), the
/// other weights l1/l21 held fixed.
double penalty_max(const py::list& X_list, const py::list& y_list, const py::array_t<double>& sample_weight,
                   bool fit_intercept, const std::string& loss, double loss_parameter, double l1, double l21,
                   const std::string& penalty) {
  const SparsityPenalty fixed{RowSparsePenalty{l1, l21}, TraceNormPenalty{}};
  return with_linear_model_data<double>(X_list, y_list, sample_weight, fit_intercept, [&](const auto& data) {
    const PointwiseLoss pointwise_loss = PointwiseLoss::from_name(loss, loss_parameter);
    data.validate(pointwise_loss.sign_labels());
    return penalty_max_from_gradient(gradient_at_zero(data, pointwise_loss), fixed, penalty);
  });
}

}  // namespace

void bind_linear_model(py::module_& m) {
  // float64 only: float32 data are converted by the caller (multitask._fit_result.COMPUTED_IN_FLOAT64).
  {
    m.def("fit_linear_model_f64", &fit<double>, py::kw_only(), py::arg("X"),
          py::arg("y"), py::arg("sample_weight"), py::arg("coupling"), py::arg("alpha"), py::arg("fit_intercept"),
          py::arg("loss"), py::arg("loss_parameter") = 0.0, py::arg("l1"), py::arg("l21"), py::arg("trace_norm"),
          py::arg("solver"), py::arg("tol"), py::arg("max_iter"), py::arg("n_threads"),
          py::arg("warm_coef"), py::arg("warm_intercept"),
          "Kernel-coupled linear model with a pointwise loss (logistic/squared_hinge: labels -1/+1; squared, huber) "
          "and l1/l21/trace-norm penalties on dense or CSR task blocks; returns a dict (coef, intercept, n_iter, "
          "converged, residual, data_passes, objective_history, solver, dual_gap, screened).");
  }
  m.def("linear_model_objective", &objective, py::kw_only(), py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("coupling"), py::arg("alpha"), py::arg("fit_intercept"), py::arg("loss"),
        py::arg("loss_parameter") = 0.0, py::arg("coef"), py::arg("intercept"), "F(W, b) and its gradient (float64): (value, grad_coef (T, d), grad_intercept (T,)).");
  m.def("linear_model_hessian_product", &hessian_product, py::kw_only(), py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("coupling"), py::arg("alpha"), py::arg("fit_intercept"), py::arg("loss"),
        py::arg("loss_parameter") = 0.0, py::arg("coef"), py::arg("intercept"), py::arg("direction_coef"), py::arg("direction_intercept"),
        "Hessian of F at (coef, intercept) times a direction (float64): (hv_coef (T, d), hv_intercept (T,)).");
  m.def("penalty_max", &penalty_max, py::kw_only(), py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("fit_intercept"), py::arg("loss"), py::arg("loss_parameter") = 0.0, py::arg("l1"), py::arg("l21"),
        py::arg("penalty"),
        "The smallest weight of penalty ('l21', 'l1', 'trace_norm') at which W = 0 is optimal (float64).");
}

}  // namespace multitask::bindings
