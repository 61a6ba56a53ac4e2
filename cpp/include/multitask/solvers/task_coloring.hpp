// Groups of tasks that do not interact through the coupling K (K_st = 0 for
// every pair in a group): their blocks can be updated at the same time in a
// block Gauss-Seidel sweep with the same result as one after the other.
#pragma once

#include <vector>

#include <multitask/common/types.hpp>

namespace multitask {

/// Greedy colouring of the graph with an edge s-t wherever K_st != 0 (s != t),
/// in task order: each task takes the first colour none of its earlier
/// neighbours has. K = I gives one group; a dense K gives T groups of one.
template <typename Scalar>
std::vector<std::vector<Index>> independent_task_groups(const Matrix<Scalar>& coupling) {
  const Index T = coupling.rows();
  std::vector<Index> colour(T, -1);
  std::vector<std::vector<Index>> groups;
  for (Index t = 0; t < T; ++t) {
    std::vector<bool> taken(groups.size(), false);
    for (Index s = 0; s < t; ++s)
      if (coupling(s, t) != Scalar(0) || coupling(t, s) != Scalar(0)) taken[colour[s]] = true;
    Index c = 0;
    while (c < static_cast<Index>(taken.size()) && taken[c]) ++c;
    if (c == static_cast<Index>(groups.size())) groups.emplace_back();
    colour[t] = c;
    groups[c].push_back(t);
  }
  return groups;
}

}  // namespace multitask
