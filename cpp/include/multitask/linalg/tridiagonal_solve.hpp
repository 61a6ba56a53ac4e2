// Precision and pivots of the exact (factorisation-based) solvers, and
// shifted symmetric tridiagonal systems: shared by the least-squares exact
// solvers (solve_exact.hpp) and the kernel machines' Kronecker and path solvers.
#pragma once

#include <cmath>
#include <limits>

#include <multitask/common/types.hpp>

namespace multitask {

/// The exact solvers factor in double precision whatever the data's precision:
/// a float32 fit then loses nothing to the factorisation, and singularity is
/// judged against double round-off instead of rejecting merely ill-conditioned
/// float32 systems. The Grams are still formed in the data's precision.
using ExactScalar = double;

/// Pivots of a positive definite factorisation below this are treated as zero:
/// a system of size n whose largest diagonal entry is `scale`.
inline ExactScalar singular_pivot_floor(ExactScalar scale, Index n) {
  return ExactScalar(64) * ExactScalar(n) * std::numeric_limits<ExactScalar>::epsilon() * scale;
}

/// LDL^T pivots of the symmetric tridiagonal matrix (main, off) + shift I.
/// Returns false at the first non-positive pivot: the matrix is then not
/// positive definite (by Sylvester's law of inertia).
template <typename Scalar>
bool tridiagonal_pivots(const Vector<Scalar>& main, const Vector<Scalar>& off, Scalar shift, Vector<Scalar>& pivots) {
  pivots[0] = main[0] + shift;
  if (!(pivots[0] > 0)) return false;
  for (Index j = 1; j < main.size(); ++j) {
    pivots[j] = main[j] + shift - off[j - 1] * off[j - 1] / pivots[j - 1];
    if (!(pivots[j] > 0)) return false;
  }
  return true;
}

/// Solves ((main, off) + shift I) X = RHS in place, RHS (n, m), from the LDL^T
/// pivots of tridiagonal_pivots: forward L^{-1}, then (D L^T)^{-1}.
template <typename Scalar, typename Rhs>
void tridiagonal_solve_in_place(const Vector<Scalar>& off, const Vector<Scalar>& pivots, Rhs& rhs) {
  const Index n = pivots.size();
  for (Index j = 1; j < n; ++j) rhs.row(j) -= (off[j - 1] / pivots[j - 1]) * rhs.row(j - 1);
  rhs.row(n - 1) /= pivots[n - 1];
  for (Index j = n - 2; j >= 0; --j) rhs.row(j) = (rhs.row(j) - off[j] * rhs.row(j + 1)) / pivots[j];
}

}  // namespace multitask
