// One call of one op with all of its inputs: what properties generate, the
// fuzzer mutates, reports keep as worst cases and `softcheck eval` reads.
// `call` runs a case through a plugin ABI table, so every kernel (built-in,
// oracle, a user's) is called the same way.
#pragma once

#include <softcheck/types.hpp>

#include <cstdint>
#include <vector>

namespace softcheck {

template <class T> struct Case {
  softcheck_op op = SOFTCHECK_OP_SOFTMAX;
  Shape shape{1, 1, 1};
  // Primary input: logits (forward ops, cross-entropy), log-probabilities
  // (nll_loss), or the forward output y (softmax/log_softmax backward).
  std::vector<T> x;
  // dy (softmax/log_softmax backward) or probability targets
  // (cross_entropy_prob*), shaped like x.
  std::vector<T> aux;
  std::vector<int64_t> target; // class-index targets [outer, inner]
  std::vector<T> dout;         // gradient of a loss output (loss backward ops)
  std::vector<T> weight;       // per-class weights; empty: none
  Reduction reduction = Reduction::mean;
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;

  int64_t rows() const { return shape.outer * shape.inner; }
  int64_t elems() const { return rows() * shape.classes; }
  bool is_loss() const { return op >= SOFTCHECK_OP_NLL_LOSS; }
  bool is_backward() const {
    return op == SOFTCHECK_OP_SOFTMAX_BACKWARD || op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD ||
           op == SOFTCHECK_OP_NLL_LOSS_BACKWARD || op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD ||
           op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
  }
  // Number of output elements the op writes.
  int64_t output_count() const {
    if (op == SOFTCHECK_OP_LOGSUMEXP) return rows();
    if (is_loss() && !is_backward()) return reduction == Reduction::none ? rows() : 1;
    return elems();
  }
  softcheck_loss_options options() const {
    return {static_cast<int32_t>(reduction), ignore_index, weight.empty() ? nullptr : weight.data(),
            label_smoothing};
  }
};

// The buffers of one call: a case's data, or copies of it placed elsewhere
// (at an offset, say) by the caller.
template <class T> struct CallData {
  const T *x = nullptr, *aux = nullptr, *dout = nullptr, *weight = nullptr;
  const int64_t *target = nullptr;
};

template <class T> CallData<T> data_of(const Case<T> &c) {
  return {c.x.data(), c.aux.data(), c.dout.data(), c.weight.empty() ? nullptr : c.weight.data(),
          c.target.data()};
}

// Runs c.op of `ops` (the table of T's dtype) with the case's shape and
// options on `d`; `out` must hold c.output_count() elements. A NULL entry
// gives SOFTCHECK_ERR_UNSUPPORTED.
template <class T>
Status call(const softcheck_ops &ops, const Case<T> &c, const CallData<T> &d, T *out) {
  softcheck_loss_options o = c.options();
  o.weight = d.weight;
  const T *x = d.x, *aux = d.aux, *dout = d.dout;
  const int64_t *t = d.target;
  const Shape s = c.shape;
  auto have = [](auto fn) { return fn != nullptr; };
  switch (c.op) {
  case SOFTCHECK_OP_SOFTMAX:
    return have(ops.softmax) ? ops.softmax(s, x, out) : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_LOG_SOFTMAX:
    return have(ops.log_softmax) ? ops.log_softmax(s, x, out) : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_LOGSUMEXP:
    return have(ops.logsumexp) ? ops.logsumexp(s, x, out) : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_SOFTMAX_BACKWARD:
    return have(ops.softmax_backward) ? ops.softmax_backward(s, x, aux, out)
                                      : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD:
    return have(ops.log_softmax_backward) ? ops.log_softmax_backward(s, x, aux, out)
                                          : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_NLL_LOSS:
    return have(ops.nll_loss) ? ops.nll_loss(s, x, t, &o, out) : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_NLL_LOSS_BACKWARD:
    return have(ops.nll_loss_backward) ? ops.nll_loss_backward(s, t, &o, dout, out)
                                       : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_CROSS_ENTROPY:
    return have(ops.cross_entropy) ? ops.cross_entropy(s, x, t, &o, out)
                                   : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD:
    return have(ops.cross_entropy_backward) ? ops.cross_entropy_backward(s, x, t, &o, dout, out)
                                            : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB:
    return have(ops.cross_entropy_prob) ? ops.cross_entropy_prob(s, x, aux, &o, out)
                                        : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD:
    return have(ops.cross_entropy_prob_backward)
               ? ops.cross_entropy_prob_backward(s, x, aux, &o, dout, out)
               : SOFTCHECK_ERR_UNSUPPORTED;
  case SOFTCHECK_OP_COUNT: break;
  }
  return SOFTCHECK_ERR_UNSUPPORTED;
}

template <class T> const softcheck_ops &ops_of(const softcheck_kernel_set &set) {
  return ops_of(set, dtype_of<T>);
}

// The call of c.op of `set` on buffers the harness builds for every kernel
// it tests: each array is a copy placed with its last byte against a
// PROT_NONE guard page (guarded.hpp), so reading or writing past any end
// faults at once; an input of a set that declares input_padding_bytes ends
// that many readable bytes (0xFF) before the guard, so a read beyond them
// faults. The output starts as `out` holds it and is copied back. A kernel
// that writes into an input changes the case's own vector, as it would have
// in place.
template <class T> Status call(const softcheck_kernel_set &set, const Case<T> &c, T *out);

} // namespace softcheck
