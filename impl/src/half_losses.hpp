// The class-index losses on half inputs read in place (kernels.cpp), for
// the half kernels (half_kernels.cpp): nll_loss<float> and
// cross_entropy<float> of the widened inputs, each element widened as it
// is read, without a float copy of the inputs. The arguments are checked
// by the caller, and o's weights are float already; outputs are float (the
// caller rounds them to the format). Rows' statistics come from
// fast::stats on the half rows (strided rows gathered first, as in float).
#pragma once

#include <softcheck/kernels.hpp>

namespace softcheck::detail {

template <class H>
Status nll_loss_half(Shape s, const H *logp, const int64_t *target, const LossOptions<float> &o,
                     float *out);
template <class H>
Status cross_entropy_half(Shape s, const H *logits, const int64_t *target,
                          const LossOptions<float> &o, float *out);

} // namespace softcheck::detail
