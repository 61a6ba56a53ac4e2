// Input kernels of the multi-task Gaussian process, with unit signal variance
// (the scale of each latent process lives in its task kernel B).
//
// Hyperparameters are log length-scales theta_j = log l_j: one per input
// dimension (ARD), one shared (isotropic), or none (the plain dot product). With
// D_j = x_j - x'_j and r^2 = sum_j D_j^2 / l_j^2:
//     rbf        k = exp(-r^2/2)                      dk/dtheta_j = k D_j^2/l_j^2
//     matern32   k = (1 + s r) exp(-s r), s = sqrt 3  dk/dtheta_j = 3 exp(-s r) D_j^2/l_j^2
//     matern52   k = (1 + s r + 5r^2/3) exp(-s r),    dk/dtheta_j = (5/3)(1 + s r) exp(-s r) D_j^2/l_j^2
//                s = sqrt 5
//     linear     k = sum_j x_j x'_j / l_j^2           dk/dtheta_j = -2 x_j x'_j / l_j^2
// The stationary derivatives are g(r) D_j^2/l_j^2 with g smooth at r = 0. An
// isotropic theta's derivative is the sum over j.
#pragma once

#include <cmath>
#include <string>

#include <multitask/common/types.hpp>

namespace multitask::gp {

enum class InputKernel { rbf, matern32, matern52, linear };

inline InputKernel input_kernel_from_name(const std::string& name) {
  if (name == "rbf") return InputKernel::rbf;
  if (name == "matern32") return InputKernel::matern32;
  if (name == "matern52") return InputKernel::matern52;
  if (name == "linear") return InputKernel::linear;
  throw InvalidArgument("kernel must be one of 'rbf', 'matern32', 'matern52', 'linear', got '" + name + "'");
}

/// One input kernel with its length-scales resolved: 1/l_j^2 for every input dimension.
struct InputKernelParams {
  InputKernel kind = InputKernel::rbf;
  Vector<double> inverse_squares;  // (d): 1 / l_j^2 (ones for a linear kernel without theta)
  Index n_theta = 0;               // 0, 1 (isotropic) or d (ARD)

  InputKernelParams() = default;
  InputKernelParams(InputKernel kernel, const Vector<double>& theta, Index n_features) : kind(kernel) {
    n_theta = theta.size();
    const bool allowed = n_theta == 1 || n_theta == n_features || (n_theta == 0 && kernel == InputKernel::linear);
    require(allowed, "theta must have 1 or n_features entries (or none for a linear kernel)");
    inverse_squares.resize(n_features);
    for (Index j = 0; j < n_features; ++j)
      inverse_squares[j] = n_theta == 0 ? 1.0 : std::exp(-2.0 * theta[n_theta == 1 ? 0 : j]);
  }

  bool stationary() const { return kind != InputKernel::linear; }

  /// k(a, b) for two input rows of length d.
  double value(const double* a, const double* b, Index d) const {
    if (!stationary()) {
      double dot = 0;
      for (Index j = 0; j < d; ++j) dot += a[j] * b[j] * inverse_squares[j];
      return dot;
    }
    double r2 = 0;
    for (Index j = 0; j < d; ++j) {
      const double diff = a[j] - b[j];
      r2 += diff * diff * inverse_squares[j];
    }
    return profile(r2, nullptr);
  }

  /// k(a, b), and `weight` * dk/dtheta_j added to gradient[j] for every theta_j.
  double value_and_gradient(const double* a, const double* b, Index d, double weight, double* gradient) const {
    if (!stationary()) {
      double dot = 0;
      for (Index j = 0; j < d; ++j) {
        const double term = a[j] * b[j] * inverse_squares[j];
        dot += term;
        if (n_theta > 1) gradient[j] -= 2.0 * weight * term;
      }
      if (n_theta == 1) gradient[0] -= 2.0 * weight * dot;
      return dot;
    }
    double r2 = 0;
    for (Index j = 0; j < d; ++j) {
      const double diff = a[j] - b[j];
      r2 += diff * diff * inverse_squares[j];
    }
    double g = 0;
    const double k = profile(r2, &g);
    if (n_theta == 1) {
      gradient[0] += weight * g * r2;
    } else if (n_theta > 1) {
      const double scaled = weight * g;
      for (Index j = 0; j < d; ++j) {
        const double diff = a[j] - b[j];
        gradient[j] += scaled * diff * diff * inverse_squares[j];
      }
    }
    return k;
  }

  /// The kernel between rows a0 .. a0 + m of the inputs F (n, d), stored feature-major
  /// (column j holds feature j of every row, so each feature is one contiguous
  /// vector), and the row xb: k (m). With `weights` (m) it also adds
  /// sum_a weights_a dk_a/dtheta_j to gradient[j]. Vectorised over a (Eigen's
  /// packet exp and sqrt): the pair loops' inner loop.
  void column(const Matrix<double>& F, Index a0, Index m, const double* xb, Eigen::ArrayXd& k,
              const Eigen::ArrayXd* weights, double* gradient) const {
    const Index d = F.cols();
    if (!stationary()) {
      k.setZero(m);
      for (Index j = 0; j < d; ++j) k += F.col(j).segment(a0, m).array() * (xb[j] * inverse_squares[j]);
      if (weights != nullptr && n_theta == 1) gradient[0] -= 2.0 * (*weights * k).sum();
      if (weights != nullptr && n_theta > 1)
        for (Index j = 0; j < d; ++j)
          gradient[j] -= 2.0 * xb[j] * inverse_squares[j] * (*weights * F.col(j).segment(a0, m).array()).sum();
      return;
    }
    Eigen::ArrayXd r2 = Eigen::ArrayXd::Zero(m);
    for (Index j = 0; j < d; ++j) r2 += (F.col(j).segment(a0, m).array() - xb[j]).square() * inverse_squares[j];
    Eigen::ArrayXd g;  // dk/dtheta_j = g D_j^2/l_j^2
    switch (kind) {
      case InputKernel::rbf:
        k = (-0.5 * r2).exp();
        if (weights != nullptr) g = k;
        break;
      case InputKernel::matern32: {
        const Eigen::ArrayXd sr = (3.0 * r2).sqrt(), e = (-sr).exp();
        k = (1.0 + sr) * e;
        if (weights != nullptr) g = 3.0 * e;
        break;
      }
      default: {  // matern52
        const Eigen::ArrayXd sr = (5.0 * r2).sqrt(), e = (-sr).exp();
        k = (1.0 + sr + (5.0 / 3.0) * r2) * e;
        if (weights != nullptr) g = (5.0 / 3.0) * (1.0 + sr) * e;
        break;
      }
    }
    if (weights == nullptr || n_theta == 0) return;
    g *= *weights;
    if (n_theta == 1) {
      gradient[0] += (g * r2).sum();
      return;
    }
    for (Index j = 0; j < d; ++j)
      gradient[j] += inverse_squares[j] * (g * (F.col(j).segment(a0, m).array() - xb[j]).square()).sum();
  }

 private:
  /// k(r) from r^2, and (when `g` is given) g(r) with dk/dtheta_j = g(r) D_j^2/l_j^2.
  double profile(double r2, double* g) const {
    switch (kind) {
      case InputKernel::rbf: {
        const double k = std::exp(-0.5 * r2);
        if (g) *g = k;
        return k;
      }
      case InputKernel::matern32: {
        const double sr = std::sqrt(3.0 * r2), e = std::exp(-sr);
        if (g) *g = 3.0 * e;
        return (1.0 + sr) * e;
      }
      default: {  // matern52
        const double sr = std::sqrt(5.0 * r2), e = std::exp(-sr);
        if (g) *g = (5.0 / 3.0) * (1.0 + sr) * e;
        return (1.0 + sr + (5.0 / 3.0) * r2) * e;
      }
    }
  }
};

}  // namespace multitask::gp
