// fit_kernel_ridge for float64: see explicit_instantiations.hpp.
#include "explicit_instantiations.hpp"

namespace multitask {
MULTITASK_INSTANTIATE_FIT_KERNEL_RIDGE(, double)
}  // namespace multitask
