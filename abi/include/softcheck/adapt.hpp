// Builds a plugin ABI table from C++ kernels (C++20, header only). K is a
// class with static member templates named after every op of
// softcheck_ops, taking plugin.h's arguments with typed pointers (const T *
// inputs, T * outputs) and LossOptions<T> (types.hpp) for the loss options.
#pragma once

#include <softcheck/types.hpp>

namespace softcheck {

template <class K, class T> softcheck_ops make_ops() {
  softcheck_ops ops{};
  ops.softmax = [](Shape s, const void *x, void *y) {
    return K::template softmax<T>(s, static_cast<const T *>(x), static_cast<T *>(y));
  };
  ops.log_softmax = [](Shape s, const void *x, void *y) {
    return K::template log_softmax<T>(s, static_cast<const T *>(x), static_cast<T *>(y));
  };
  ops.logsumexp = [](Shape s, const void *x, void *y) {
    return K::template logsumexp<T>(s, static_cast<const T *>(x), static_cast<T *>(y));
  };
  ops.softmax_backward = [](Shape s, const void *y, const void *dy, void *dx) {
    return K::template softmax_backward<T>(s, static_cast<const T *>(y), static_cast<const T *>(dy),
                                           static_cast<T *>(dx));
  };
  ops.log_softmax_backward = [](Shape s, const void *y, const void *dy, void *dx) {
    return K::template log_softmax_backward<T>(s, static_cast<const T *>(y),
                                               static_cast<const T *>(dy), static_cast<T *>(dx));
  };
  ops.nll_loss = [](Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                    void *y) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return K::template nll_loss<T>(s, static_cast<const T *>(x), t, lo, static_cast<T *>(y));
  };
  ops.nll_loss_backward = [](Shape s, const int64_t *t, const softcheck_loss_options *o,
                             const void *dout, void *dx) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return K::template nll_loss_backward<T>(s, t, lo, static_cast<const T *>(dout),
                                            static_cast<T *>(dx));
  };
  ops.cross_entropy = [](Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                         void *y) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return K::template cross_entropy<T>(s, static_cast<const T *>(x), t, lo, static_cast<T *>(y));
  };
  ops.cross_entropy_backward = [](Shape s, const void *x, const int64_t *t,
                                  const softcheck_loss_options *o, const void *dout, void *dx) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return K::template cross_entropy_backward<T>(
        s, static_cast<const T *>(x), t, lo, static_cast<const T *>(dout), static_cast<T *>(dx));
  };
  ops.cross_entropy_prob = [](Shape s, const void *x, const void *t,
                              const softcheck_loss_options *o, void *y) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return K::template cross_entropy_prob<T>(s, static_cast<const T *>(x),
                                             static_cast<const T *>(t), lo, static_cast<T *>(y));
  };
  ops.cross_entropy_prob_backward = [](Shape s, const void *x, const void *t,
                                       const softcheck_loss_options *o, const void *dout,
                                       void *dx) {
    LossOptions<T> lo;
    if (!to_loss_options(o, lo)) return SOFTCHECK_ERR_NULL_POINTER;
    return K::template cross_entropy_prob_backward<T>(
        s, static_cast<const T *>(x), static_cast<const T *>(t), lo, static_cast<const T *>(dout),
        static_cast<T *>(dx));
  };
  return ops;
}

} // namespace softcheck

// Defines struct NAME whose static member templates forward to the free
// function templates softmax<T>, ..., of namespace NS (the shape make_ops
// wants).
#define SOFTCHECK_KERNELS_OF_NAMESPACE(NAME, NS)                                                   \
  struct NAME {                                                                                    \
    template <class T> static Status softmax(Shape s, const T *x, T *y) {                          \
      return NS::softmax<T>(s, x, y);                                                              \
    }                                                                                              \
    template <class T> static Status log_softmax(Shape s, const T *x, T *y) {                      \
      return NS::log_softmax<T>(s, x, y);                                                          \
    }                                                                                              \
    template <class T> static Status logsumexp(Shape s, const T *x, T *y) {                        \
      return NS::logsumexp<T>(s, x, y);                                                            \
    }                                                                                              \
    template <class T> static Status softmax_backward(Shape s, const T *y, const T *dy, T *dx) {   \
      return NS::softmax_backward<T>(s, y, dy, dx);                                                \
    }                                                                                              \
    template <class T>                                                                             \
    static Status log_softmax_backward(Shape s, const T *y, const T *dy, T *dx) {                  \
      return NS::log_softmax_backward<T>(s, y, dy, dx);                                            \
    }                                                                                              \
    template <class T>                                                                             \
    static Status nll_loss(Shape s, const T *x, const int64_t *t, const LossOptions<T> &o, T *y) { \
      return NS::nll_loss<T>(s, x, t, o, y);                                                       \
    }                                                                                              \
    template <class T>                                                                             \
    static Status nll_loss_backward(Shape s, const int64_t *t, const LossOptions<T> &o,            \
                                    const T *dout, T *dx) {                                        \
      return NS::nll_loss_backward<T>(s, t, o, dout, dx);                                          \
    }                                                                                              \
    template <class T>                                                                             \
    static Status cross_entropy(Shape s, const T *x, const int64_t *t, const LossOptions<T> &o,    \
                                T *y) {                                                            \
      return NS::cross_entropy<T>(s, x, t, o, y);                                                  \
    }                                                                                              \
    template <class T>                                                                             \
    static Status cross_entropy_backward(Shape s, const T *x, const int64_t *t,                    \
                                         const LossOptions<T> &o, const T *dout, T *dx) {          \
      return NS::cross_entropy_backward<T>(s, x, t, o, dout, dx);                                  \
    }                                                                                              \
    template <class T>                                                                             \
    static Status cross_entropy_prob(Shape s, const T *x, const T *t, const LossOptions<T> &o,     \
                                     T *y) {                                                       \
      return NS::cross_entropy_prob<T>(s, x, t, o, y);                                             \
    }                                                                                              \
    template <class T>                                                                             \
    static Status cross_entropy_prob_backward(Shape s, const T *x, const T *t,                     \
                                              const LossOptions<T> &o, const T *dout, T *dx) {     \
      return NS::cross_entropy_prob_backward<T>(s, x, t, o, dout, dx);                             \
    }                                                                                              \
  };
