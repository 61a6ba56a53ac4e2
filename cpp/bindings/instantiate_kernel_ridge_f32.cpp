// fit_kernel_ridge for float32: see explicit_instantiations.hpp.
#include "explicit_instantiations.hpp"

namespace multitask {
MULTITASK_INSTANTIATE_FIT_KERNEL_RIDGE(, float)
}  // namespace multitask
