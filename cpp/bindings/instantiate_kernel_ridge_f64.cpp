// fit_kernel_ridge for float64, the Kronecker solver (float32 too) and the alpha path: see
// explicit_instantiations.hpp.
#include "explicit_instantiations.hpp"

namespace multitask {
MULTITASK_INSTANTIATE_FIT_KERNEL_RIDGE(, double)
MULTITASK_INSTANTIATE_KERNEL_RIDGE_FLOAT64_PARTS()
}  // namespace multitask
