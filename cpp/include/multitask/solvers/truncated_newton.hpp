// The pieces of a truncated Newton step shared by the linear-model solvers
// (block Newton over tasks, and Newton on all parameters at once).
//
// Direction: H p = -g solved approximately by conjugate gradient with a
// diagonal preconditioner, from p = 0, to ||H p + g|| <= eta ||g|| with the
// forcing term eta = min(1/2, sqrt(||g|| / ||grad F(0)||)) (Dembo & Steihaug
// 1983: loose far from the optimum, superlinear near it). Then an Armijo
// backtracking line search along p.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/types.hpp>

namespace multitask::truncated_newton {

constexpr int kMaxBacktracks = 40;
constexpr double kArmijo = 1e-4;
constexpr int kMaxCgIterations = 500;

/// eta = min(1/2, sqrt(||g|| / ||grad F(0)||)).
template <typename Scalar>
Scalar forcing_term(Scalar gradient_norm, double gradient_scale) {
  return static_cast<Scalar>(std::min(0.5, std::sqrt(static_cast<double>(gradient_norm) / gradient_scale)));
}

/// Floors a diagonal preconditioner at round-off of its largest entry (zero
/// curvature, e.g. no active squared-hinge terms, would divide by zero).
template <typename Scalar>
void floor_preconditioner(Vector<Scalar>& diagonal) {
  const Scalar floor = diagonal.maxCoeff() * std::numeric_limits<Scalar>::epsilon() + std::numeric_limits<Scalar>::min();
  diagonal = diagonal.cwiseMax(floor);
}

/// p ~ -H^{-1} g by preconditioned CG (hessian_product(v, hv_out): hv_out = H v).
/// Stops at ||r|| <= eta ||g||, after min(size, kMaxCgIterations) iterations,
/// or on a direction without positive curvature (H PSD but singular): then the
/// iterate so far, or the preconditioned steepest descent -M^{-1} g at the first iteration.
template <typename Scalar, typename HessianProduct>
Vector<Scalar> newton_direction(HessianProduct&& hessian_product, const Vector<Scalar>& gradient,
                                const Vector<Scalar>& preconditioner, Scalar eta) {
  const Index n = gradient.size();
  const Scalar target = eta * gradient.norm();
  Vector<Scalar> p = Vector<Scalar>::Zero(n), r = -gradient, z = r.cwiseQuotient(preconditioner), q = z, hq(n);
  Scalar rz = r.dot(z);
  const Index max_iter = std::min<Index>(n, kMaxCgIterations);
  for (Index k = 0; k < max_iter; ++k) {
    poll_interrupt();  // a product is two passes over the data
    hessian_product(q, hq);
    const Scalar qhq = q.dot(hq);
    if (!(qhq > 0)) {
      if (k == 0) p = z;
      break;
    }
    const Scalar step = rz / qhq;
    p += step * q;
    r -= step * hq;
    if (r.norm() <= target) break;
    z = r.cwiseQuotient(preconditioner);
    const Scalar rz_next = r.dot(z);
    q = z + (rz_next / rz) * q;
    rz = rz_next;
  }
  return p;
}

/// Armijo test with slack for round-off: accept when value <= start + c tau slope + round_off,
/// round_off = 100 eps |scale of the objective| (differences below it cannot be resolved).
template <typename Scalar>
bool armijo_holds(Scalar value, Scalar start, Scalar tau, Scalar slope, Scalar magnitude) {
  const Scalar round_off = Scalar(100) * std::numeric_limits<Scalar>::epsilon() * magnitude;
  return value <= start + Scalar(kArmijo) * tau * slope + round_off;
}

}  // namespace multitask::truncated_newton
