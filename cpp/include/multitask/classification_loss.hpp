// Pointwise losses l(y, f) of a target y and a prediction f:
//   logistic       l(y, f) = log(1 + exp(-y f))     (labels y in {-1, +1})
//   squared hinge  l(y, f) = max(0, 1 - y f)^2      (labels y in {-1, +1})
//   squared        l(y, f) = (y - f)^2 / 2          (regression; used with the
//                  sparsity penalties, whose solvers work on these losses)
// with their first and second derivatives in f (for the squared hinge the
// second derivative is the generalised one, 2 [y f < 1]: semismooth Newton).
#pragma once

#include <cmath>
#include <string>

#include "types.hpp"

namespace multitask {

enum class PointwiseLoss { logistic, squared_hinge, squared };

inline PointwiseLoss pointwise_loss_from_name(const std::string& name) {
  if (name == "logistic") return PointwiseLoss::logistic;
  if (name == "squared_hinge") return PointwiseLoss::squared_hinge;
  if (name == "squared") return PointwiseLoss::squared;
  throw InvalidArgument("loss must be 'logistic', 'squared_hinge' or 'squared', got '" + name + "'");
}

/// Whether the loss takes labels in {-1, +1}.
inline bool takes_sign_labels(PointwiseLoss loss) { return loss != PointwiseLoss::squared; }

/// sum_i l(y_i, f_i) for labels y (n) and decision values f (n).
template <typename Scalar, typename Labels, typename Values>
Scalar pointwise_loss_sum(PointwiseLoss loss, const Labels& y, const Values& f) {
  Scalar total = 0;
  const Index n = y.size();
  if (loss == PointwiseLoss::logistic) {
    for (Index i = 0; i < n; ++i) {
      const Scalar m = y[i] * f[i];  // log(1 + e^-m), stable for either sign of m
      total += m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
    }
  } else if (loss == PointwiseLoss::squared_hinge) {
    for (Index i = 0; i < n; ++i) {
      const Scalar gap = std::max(Scalar(0), 1 - y[i] * f[i]);
      total += gap * gap;
    }
  } else {
    for (Index i = 0; i < n; ++i) total += (y[i] - f[i]) * (y[i] - f[i]) / 2;
  }
  return total;
}

/// first_out_i = dl/df (y_i, f_i); returns sum_i l(y_i, f_i).
template <typename Scalar, typename Labels, typename Values>
Scalar pointwise_loss_derivative(PointwiseLoss loss, const Labels& y, const Values& f, Vector<Scalar>& first_out) {
  const Index n = y.size();
  first_out.resize(n);
  Scalar total = 0;
  if (loss == PointwiseLoss::logistic) {
    for (Index i = 0; i < n; ++i) {
      const Scalar m = y[i] * f[i];
      // sigma(-m) = 1 / (1 + e^m), computed without overflow.
      const Scalar e = std::exp(-std::abs(m));
      const Scalar sigma_minus = m > 0 ? e / (1 + e) : 1 / (1 + e);
      total += m > 0 ? std::log1p(e) : -m + std::log1p(e);
      first_out[i] = -y[i] * sigma_minus;
    }
  } else if (loss == PointwiseLoss::squared_hinge) {
    for (Index i = 0; i < n; ++i) {
      const Scalar gap = std::max(Scalar(0), 1 - y[i] * f[i]);
      total += gap * gap;
      first_out[i] = -2 * y[i] * gap;
    }
  } else {
    for (Index i = 0; i < n; ++i) {
      first_out[i] = f[i] - y[i];
      total += first_out[i] * first_out[i] / 2;
    }
  }
  return total;
}

/// second_out_i = d2l/df2 (y_i, f_i): sigma(m) sigma(-m) for the logistic loss,
/// 2 [y_i f_i < 1] for the squared hinge, 1 for the squared loss.
template <typename Scalar, typename Labels, typename Values>
void pointwise_loss_curvature(PointwiseLoss loss, const Labels& y, const Values& f, Vector<Scalar>& second_out) {
  const Index n = y.size();
  second_out.resize(n);
  if (loss == PointwiseLoss::logistic) {
    for (Index i = 0; i < n; ++i) {
      const Scalar e = std::exp(-std::abs(y[i] * f[i]));
      second_out[i] = e / ((1 + e) * (1 + e));
    }
  } else if (loss == PointwiseLoss::squared_hinge) {
    for (Index i = 0; i < n; ++i) second_out[i] = y[i] * f[i] < 1 ? Scalar(2) : Scalar(0);
  } else {
    second_out.setOnes();
  }
}

}  // namespace multitask
