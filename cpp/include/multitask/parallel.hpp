// OpenMP helpers: a parallel loop over tasks that captures exceptions thrown
// inside the parallel region and rethrows the first one after it.
#pragma once

#include <exception>
#include <mutex>

#include "types.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace multitask {

/// Whether the core was compiled with OpenMP.
inline bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

/// Threads worth using for a parallel loop of `work` flops in all: below about
/// 2e5 flops (tens of microseconds) waking threads, and competing with other
/// thread pools such as numpy's BLAS, costs more than the loop saves.
inline int threads_for_work(double work, int n_threads) { return work < 2e5 ? 1 : n_threads; }

/// Runs body(t) for t in [0, n_items), on up to n_threads threads.
///
/// Work items are independent, so the result does not depend on the thread
/// count. Dynamic scheduling balances tasks of unequal size. An exception
/// thrown by any item is rethrown on the calling thread after the loop.
template <typename Body>
void parallel_for(Index n_items, int n_threads, Body&& body) {
  std::exception_ptr first_error = nullptr;
  std::mutex error_mutex;
  auto guarded = [&](Index item) {
    try {
      body(item);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
    }
  };
#ifdef _OPENMP
  if (n_threads > 1 && n_items > 1) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads)
    for (Index item = 0; item < n_items; ++item) guarded(item);
  } else {
    for (Index item = 0; item < n_items; ++item) guarded(item);
  }
#else
  (void)n_threads;
  for (Index item = 0; item < n_items; ++item) guarded(item);
#endif
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace multitask
