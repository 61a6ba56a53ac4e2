// OpenMP helpers: a parallel loop over tasks that captures exceptions thrown
// inside the parallel region and rethrows the first one after it.
#pragma once

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/types.hpp>

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

/// Work (about flops) per thread between two polls of parallel_for_interruptible:
/// ~10 ms on one core, long enough that the batches' barriers cost little.
constexpr double kInterruptBatchWork = 2e7;

/// parallel_for for long loops: the items run in batches of about
/// kInterruptBatchWork per thread (at least one item per thread), with
/// poll_interrupt() between batches on the calling thread (a parallel region
/// cannot be left by an exception, and the hook must not run in one).
/// `work_per_item`: about the flops of one item. Each item is still computed
/// by one thread alone, so the result does not depend on the batching.
template <typename Body>
void parallel_for_interruptible(Index n_items, int n_threads, double work_per_item, Body&& body) {
  const double per_thread = work_per_item > 0 ? std::max(1.0, std::floor(kInterruptBatchWork / work_per_item)) : 1e9;
  const double items = std::min(per_thread * std::max(n_threads, 1), static_cast<double>(std::max<Index>(n_items, 1)));
  const Index batch = static_cast<Index>(items);
  for (Index first = 0; first < n_items; first += batch) {
    const Index count = std::min(batch, n_items - first);
    parallel_for(count, n_threads, [&](Index k) { body(first + k); });
    poll_interrupt(work_per_item * static_cast<double>(count));
  }
}

}  // namespace multitask
