// The multi-task Gaussian process (cpp/include/multitask/gp): covariances, their
// weighted gradients, and the log marginal likelihood on per-task inputs (dense)
// and on a shared design (Kronecker). float64 only. The LCM covariance comes as
// four lists, one entry per ICM term: kernel names, L (T, r), log kappa (T) and
// theta (log length-scales). The GIL is released around the core.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <multitask/gp/kronecker_likelihood.hpp>

#include "array_conversion.hpp"
#include "bindings.hpp"
#include "interrupt_hook.hpp"

namespace py = pybind11;

namespace multitask::bindings {
namespace {

using gp::IcmTerm;
using gp::LcmCovariance;
using gp::TaskRows;
using SmallArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using TaskIds = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

Vector<double> small_vector(const SmallArray& array, const std::string& name) {
  require(array.ndim() == 1, name + " must be 1-D");
  return Eigen::Map<const Vector<double>>(array.data(), array.shape(0));
}

LcmCovariance lcm_covariance(const std::vector<std::string>& kernels, const std::vector<SmallArray>& Ls,
                             const std::vector<SmallArray>& log_kappas, const std::vector<SmallArray>& thetas,
                             Index n_features) {
  require(!kernels.empty(), "the covariance needs at least one term");
  require(Ls.size() == kernels.size() && log_kappas.size() == kernels.size() && thetas.size() == kernels.size(),
          "kernels, L, log_kappa and theta must have one entry per term");
  LcmCovariance covariance;
  covariance.n_features = n_features;
  for (std::size_t q = 0; q < kernels.size(); ++q) {
    require(Ls[q].ndim() == 2, "L must be 2-D (n_tasks, rank)");
    const Matrix<double> L = Eigen::Map<const RowMatrix<double>>(Ls[q].data(), Ls[q].shape(0), Ls[q].shape(1));
    const Vector<double> kappa = small_vector(log_kappas[q], "log_kappa").array().exp();
    if (q == 0) covariance.n_tasks = L.rows();
    require(L.rows() == covariance.n_tasks && kappa.size() == covariance.n_tasks,
            "every term's L and log_kappa must have one row per task");
    covariance.terms.emplace_back(
        gp::InputKernelParams(gp::input_kernel_from_name(kernels[q]), small_vector(thetas[q], "theta"), n_features),
        L, kappa);
  }
  return covariance;
}

/// Rows X (n, d) C-contiguous float64 with their task ids.
TaskRows task_rows(const CArray<double>& X, const TaskIds& tasks, const std::string& name) {
  require(X.ndim() == 2, name + " must be 2-D");
  require(tasks.ndim() == 1 && tasks.shape(0) == X.shape(0), "the task ids of " + name + " must have one entry per row");
  return TaskRows{X.data(), tasks.data(), X.shape(0), X.shape(1)};
}

gp::NoiseAndMean noise_and_mean(const SmallArray& log_noise, const SmallArray& mean, bool profile_mean,
                                Index n_tasks) {
  gp::NoiseAndMean out{small_vector(log_noise, "log_noise").array().exp(), small_vector(mean, "mean"), profile_mean};
  require(out.noise.size() == n_tasks && out.mean.size() == n_tasks, "log_noise and mean must have one entry per task");
  return out;
}

/// A column-major Eigen matrix moved into a new (rows, cols) Fortran-ordered array without a copy.
py::array_t<double> fortran_array(Matrix<double>&& matrix) {
  auto* owned = new Matrix<double>(std::move(matrix));
  py::capsule owner(owned, [](void* pointer) { delete static_cast<Matrix<double>*>(pointer); });
  return py::array_t<double>({owned->rows(), owned->cols()},
                             {static_cast<py::ssize_t>(sizeof(double)), static_cast<py::ssize_t>(sizeof(double) * owned->rows())},
                             owned->data(), owner);
}

py::array_t<double> vector_out(const Vector<double>& v) {
  py::array_t<double> out(v.size());
  std::copy(v.data(), v.data() + v.size(), out.mutable_data());
  return out;
}

#define MULTITASK_GP_TERMS                                                                                  \
  const std::vector<std::string>&kernels, const std::vector<SmallArray>&Ls,                                  \
      const std::vector<SmallArray>&log_kappas, const std::vector<SmallArray>&thetas

py::array_t<double> covariance(const py::object& X1_obj, const TaskIds& tasks1, const py::object& X2_obj,
                               const TaskIds& tasks2, MULTITASK_GP_TERMS, int n_threads) {
  const auto X1 = checked_array<double>(X1_obj, "X1"), X2 = checked_array<double>(X2_obj, "X2");
  const TaskRows A = task_rows(X1, tasks1, "X1"), B = task_rows(X2, tasks2, "X2");
  const LcmCovariance lcm = lcm_covariance(kernels, Ls, log_kappas, thetas, A.d);
  gp::check_rows(lcm, A, "X1");
  gp::check_rows(lcm, B, "X2");
  Matrix<double> K = call_core([&] {
    Matrix<double> out;
    gp::covariance_matrix(lcm, A, B, false, out, n_threads);
    return out;
  });
  return fortran_array(std::move(K));
}

py::array_t<double> covariance_diagonal(const py::object& X_obj, const TaskIds& tasks, MULTITASK_GP_TERMS) {
  const auto X = checked_array<double>(X_obj, "X");
  const TaskRows A = task_rows(X, tasks, "X");
  const LcmCovariance lcm = lcm_covariance(kernels, Ls, log_kappas, thetas, A.d);
  gp::check_rows(lcm, A, "X");
  return vector_out(gp::covariance_diagonal(lcm, A));
}

py::array_t<double> covariance_gradient(const py::object& X1_obj, const TaskIds& tasks1, const py::object& X2_obj,
                                        const TaskIds& tasks2, const py::array_t<double>& W_array, MULTITASK_GP_TERMS,
                                        int n_threads) {
  const auto X1 = checked_array<double>(X1_obj, "X1"), X2 = checked_array<double>(X2_obj, "X2");
  const TaskRows A = task_rows(X1, tasks1, "X1"), B = task_rows(X2, tasks2, "X2");
  const LcmCovariance lcm = lcm_covariance(kernels, Ls, log_kappas, thetas, A.d);
  gp::check_rows(lcm, A, "X1");
  gp::check_rows(lcm, B, "X2");
  require(W_array.ndim() == 2 && W_array.shape(0) == A.n && W_array.shape(1) == B.n, "W must have shape (n1, n2)");
  const auto view = W_array.unchecked<2>();
  Matrix<double> W(A.n, B.n);
  for (Index a = 0; a < A.n; ++a)
    for (Index b = 0; b < B.n; ++b) W(a, b) = view(a, b);
  return vector_out(call_core([&] {
    return gp::weighted_covariance_gradient(
        lcm, A, B, false,
        [&](Index b, Index a0, Index m, double* w) { Eigen::Map<Vector<double>>(w, m) = W.col(b).segment(a0, m); },
        n_threads);
  }));
}

py::array_t<double> diagonal_gradient(const py::object& X_obj, const TaskIds& tasks, const SmallArray& w,
                                      MULTITASK_GP_TERMS) {
  const auto X = checked_array<double>(X_obj, "X");
  const TaskRows A = task_rows(X, tasks, "X");
  const LcmCovariance lcm = lcm_covariance(kernels, Ls, log_kappas, thetas, A.d);
  gp::check_rows(lcm, A, "X");
  const Vector<double> weights = small_vector(w, "w");
  require(weights.size() == A.n, "w must have one entry per row of X");
  return vector_out(gp::weighted_diagonal_gradient(lcm, A, weights));
}

py::dict dense_likelihood(const py::object& X_obj, const TaskIds& tasks, const py::array_t<double>& y_array,
                          MULTITASK_GP_TERMS, const SmallArray& log_noise, const SmallArray& mean, bool profile_mean,
                          bool eval_gradient, bool keep_factor, int n_threads) {
  const auto X = checked_array<double>(X_obj, "X");
  const TaskRows rows = task_rows(X, tasks, "X");
  const LcmCovariance lcm = lcm_covariance(kernels, Ls, log_kappas, thetas, rows.d);
  const gp::NoiseAndMean noise_mean = noise_and_mean(log_noise, mean, profile_mean, lcm.n_tasks);
  const auto y = checked_array<double>(y_array, "y");
  require(y.ndim() == 1 && y.shape(0) == rows.n, "y must have one entry per row of X");
  gp::DenseLikelihood result = call_core([&] {
    return gp::dense_log_marginal_likelihood(lcm, noise_mean, rows, y.data(), eval_gradient, keep_factor, n_threads);
  });
  py::dict out;
  out["positive_definite"] = result.positive_definite;
  out["value"] = result.value;
  out["gradient"] = vector_out(result.gradient);
  out["alpha"] = vector_out(result.alpha);
  out["mean"] = vector_out(result.mean);
  out["factor"] = keep_factor && result.positive_definite ? py::object(fortran_array(std::move(result.factor)))
                                                          : py::object(py::none());
  return out;
}

py::dict kronecker_likelihood(const py::object& X_obj, const py::array_t<double>& Y_array, MULTITASK_GP_TERMS,
                              const SmallArray& log_noise, const SmallArray& mean, bool profile_mean,
                              bool eval_gradient, bool keep_factors, int n_threads) {
  const auto X = checked_array<double>(X_obj, "X");
  require(X.ndim() == 2, "X must be 2-D");
  const LcmCovariance lcm = lcm_covariance(kernels, Ls, log_kappas, thetas, X.shape(1));
  const gp::NoiseAndMean noise_mean = noise_and_mean(log_noise, mean, profile_mean, lcm.n_tasks);
  require(Y_array.ndim() == 2 && Y_array.shape(0) == X.shape(0), "Y must have shape (n_samples, n_tasks)");
  const auto Y_view = Y_array.unchecked<2>();
  Matrix<double> Y(Y_array.shape(0), Y_array.shape(1));
  for (Index i = 0; i < Y.rows(); ++i)
    for (Index t = 0; t < Y.cols(); ++t) Y(i, t) = Y_view(i, t);
  gp::KroneckerLikelihood result = call_core([&] {
    return gp::kronecker_log_marginal_likelihood(lcm, noise_mean, X.data(), Y, eval_gradient, keep_factors, n_threads);
  });
  py::dict out;
  out["value"] = result.value;
  out["gradient"] = vector_out(result.gradient);
  out["mean"] = vector_out(result.mean);
  if (keep_factors) {
    out["V"] = fortran_array(std::move(result.V));
    out["delta"] = vector_out(result.delta);
    out["U"] = fortran_array(std::move(result.U));
    out["lambda"] = vector_out(result.lambda);
    out["alpha"] = fortran_array(std::move(result.alpha));
  }
  return out;
}

}  // namespace

void bind_gp(py::module_& m) {
  const auto terms = [] {
    return std::make_tuple(py::arg("kernels"), py::arg("L"), py::arg("log_kappa"), py::arg("theta"));
  };
  const auto [k, l, lk, th] = terms();
  m.def("gp_covariance", &covariance, py::kw_only(), py::arg("X1"), py::arg("tasks1"), py::arg("X2"),
        py::arg("tasks2"), k, l, lk, th, py::arg("n_threads"),
        "The LCM latent covariance K(X1, X2) (n1, n2), Fortran-ordered.");
  m.def("gp_covariance_diagonal", &covariance_diagonal, py::kw_only(), py::arg("X"), py::arg("tasks"), k, l, lk, th,
        "diag K(X, X) (n,).");
  m.def("gp_covariance_gradient", &covariance_gradient, py::kw_only(), py::arg("X1"), py::arg("tasks1"),
        py::arg("X2"), py::arg("tasks2"), py::arg("W"), k, l, lk, th, py::arg("n_threads"),
        "sum_ab W_ab dK(X1, X2)_ab / d eta for every covariance hyperparameter eta.");
  m.def("gp_covariance_diagonal_gradient", &diagonal_gradient, py::kw_only(), py::arg("X"), py::arg("tasks"),
        py::arg("w"), k, l, lk, th, "sum_a w_a dK(X, X)_aa / d eta for every covariance hyperparameter eta.");
  m.def("gp_lml_dense", &dense_likelihood, py::kw_only(), py::arg("X"), py::arg("tasks"), py::arg("y"), k, l, lk, th,
        py::arg("log_noise"), py::arg("mean"), py::arg("profile_mean"), py::arg("eval_gradient"), py::arg("keep_factor"),
        py::arg("n_threads"),
        "Log marginal likelihood on per-task inputs: dict with positive_definite, value, gradient, alpha, mean, "
        "factor. With profile_mean the means are the GLS ones (the given mean is ignored).");
  m.def("gp_lml_kronecker", &kronecker_likelihood, py::kw_only(), py::arg("X"), py::arg("Y"), k, l, lk, th,
        py::arg("log_noise"), py::arg("mean"), py::arg("profile_mean"), py::arg("eval_gradient"),
        py::arg("keep_factors"), py::arg("n_threads"),
        "Log marginal likelihood on a shared design (one ICM term): dict with value, gradient, mean and, with "
        "keep_factors, V, delta, U, lambda, alpha.");
}

}  // namespace multitask::bindings
