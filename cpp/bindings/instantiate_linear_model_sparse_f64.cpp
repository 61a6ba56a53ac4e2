// fit_linear_model for float64 sparse designs: see explicit_instantiations.hpp.
#include "explicit_instantiations.hpp"

namespace multitask {
MULTITASK_INSTANTIATE_FIT_LINEAR_MODEL(, double, SparseDesign)
}  // namespace multitask
