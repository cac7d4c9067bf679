// PyTorch's CPU kernels (libtorch 1.13) behind the plugin ABI: the set
// `pytorch`, float and double, and bfloat16 and float16 where this libtorch
// has a CPU kernel for the op (each half op is tried once on a small input
// at load; one that throws, "not implemented for 'Half'", is left NULL: not
// provided). Each op is the call a PyTorch user makes, on
// tensors viewing the ABI's buffers as [outer, classes] (inner = 1) or
// [outer, classes, inner], with dim = 1:
// softmax, log_softmax, logsumexp; the native backward functions of softmax
// and log_softmax; nll_loss (nll_loss_nd) and cross_entropy (class-index or
// probability targets, with weight, ignore_index, label_smoothing and every
// reduction); the loss gradients through autograd. No contract is declared:
// the suite's default bounds apply. The ABI's bad-input rules (sizes, null
// pointers, options, target range) are checked first, since a tensor
// cannot see them; an option PyTorch does not offer (nll_loss with label
// smoothing) is declined; an exception from PyTorch is an internal error.
#include <softcheck/plugin_util.h>
#include <softcheck/types.hpp> // LossOptions<T>: the options with typed weights

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/version.h>

#include <cstring>
#include <exception>
#include <vector>

namespace {

using softcheck::LossOptions;
using softcheck::Shape;
using softcheck::Status;
using Extent = softcheck_extent;

template <class T> constexpr at::ScalarType kType = at::kFloat;
template <> constexpr at::ScalarType kType<double> = at::kDouble;
template <> constexpr at::ScalarType kType<softcheck::bf16> = at::kBFloat16;
template <> constexpr at::ScalarType kType<softcheck::f16> = at::kHalf;

template <class T> at::Tensor view(const void *p, std::vector<int64_t> sizes) {
  static T dummy = 0; // from_blob wants a pointer even for empty tensors
  void *data = p ? const_cast<void *>(p) : &dummy;
  return at::from_blob(data, sizes, at::TensorOptions().dtype(kType<T>));
}
// [outer, classes] when inner = 1, the way logits usually come (PyTorch
// then runs its kernels for the last dimension); else [outer, classes, inner].
std::vector<int64_t> dims(Shape s) {
  if (s.inner == 1) return {s.outer, s.classes};
  return {s.outer, s.classes, s.inner};
}
std::vector<int64_t> row_dims(Shape s) {
  if (s.inner == 1) return {s.outer};
  return {s.outer, s.inner};
}
at::Tensor targets(const int64_t *t, Shape s) {
  static int64_t dummy = 0;
  return at::from_blob(t ? const_cast<int64_t *>(t) : &dummy, row_dims(s),
                       at::TensorOptions().dtype(at::kLong));
}

template <class T> void put(const at::Tensor &r, void *out, int64_t count) {
  if (count == 0) return;
  const at::Tensor c = r.to(kType<T>).contiguous();
  std::memcpy(out, c.data_ptr(), size_t(count) * sizeof(T));
}

template <class F> Status guarded(F &&f) {
  try {
    return f();
  } catch (const std::exception &) {
    return SOFTCHECK_ERR_INTERNAL;
  }
}

template <class T> int64_t reduction_of(const LossOptions<T> &o) {
  switch (o.reduction) {
  case softcheck::Reduction::none: return at::Reduction::None;
  case softcheck::Reduction::sum: return at::Reduction::Sum;
  default: return at::Reduction::Mean;
  }
}

template <class T> c10::optional<at::Tensor> weight_of(const LossOptions<T> &o, Shape s) {
  if (!o.weight) return c10::nullopt;
  return view<T>(o.weight, {s.classes});
}

// ------------------------------------------------------------------ forward

template <class T> Status softmax(Shape s, const void *x, void *y) {
  Extent e;
  if (Status st = softcheck_check_shape(s, sizeof(T), &e)) return st;
  if (softcheck_missing(x, e.elems) || softcheck_missing(y, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return guarded([&] {
    put<T>(at::softmax(view<T>(x, dims(s)), 1), y, e.elems);
    return SOFTCHECK_OK;
  });
}

template <class T> Status log_softmax(Shape s, const void *x, void *y) {
  Extent e;
  if (Status st = softcheck_check_shape(s, sizeof(T), &e)) return st;
  if (softcheck_missing(x, e.elems) || softcheck_missing(y, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return guarded([&] {
    put<T>(at::log_softmax(view<T>(x, dims(s)), 1), y, e.elems);
    return SOFTCHECK_OK;
  });
}

template <class T> Status logsumexp(Shape s, const void *x, void *out) {
  Extent e;
  if (Status st = softcheck_check_shape(s, sizeof(T), &e)) return st;
  if (softcheck_missing(x, e.elems) || softcheck_missing(out, e.rows))
    return SOFTCHECK_ERR_NULL_POINTER;
  return guarded([&] {
    put<T>(at::logsumexp(view<T>(x, dims(s)), {1}, false), out, e.rows);
    return SOFTCHECK_OK;
  });
}

template <class T> Status softmax_backward(Shape s, const void *y, const void *dy, void *dx) {
  Extent e;
  if (Status st = softcheck_check_shape(s, sizeof(T), &e)) return st;
  if (softcheck_missing(y, e.elems) || softcheck_missing(dy, e.elems) ||
      softcheck_missing(dx, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return guarded([&] {
    put<T>(at::_softmax_backward_data(view<T>(dy, dims(s)), view<T>(y, dims(s)), 1, kType<T>), dx,
           e.elems);
    return SOFTCHECK_OK;
  });
}

template <class T> Status log_softmax_backward(Shape s, const void *y, const void *dy, void *dx) {
  Extent e;
  if (Status st = softcheck_check_shape(s, sizeof(T), &e)) return st;
  if (softcheck_missing(y, e.elems) || softcheck_missing(dy, e.elems) ||
      softcheck_missing(dx, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  return guarded([&] {
    put<T>(at::_log_softmax_backward_data(view<T>(dy, dims(s)), view<T>(y, dims(s)), 1, kType<T>),
           dx, e.elems);
    return SOFTCHECK_OK;
  });
}

// ------------------------------------------------------------------- losses

// The checks every loss shares; `target_full`: probability targets.
template <class T>
Status loss_checks(Shape s, const void *input, const void *target, bool target_full,
                   const softcheck_loss_options *opt, const LossOptions<T> &o, const void *out,
                   Extent &e) {
  if (Status st = softcheck_check_shape(s, sizeof(T), &e)) return st;
  if (softcheck_missing(input, e.elems) ||
      softcheck_missing(target, target_full ? e.elems : e.rows) ||
      softcheck_missing(out, (o.reduction == softcheck::Reduction::none ? e.rows : 1)))
    return SOFTCHECK_ERR_NULL_POINTER;
  if (Status st = softcheck_check_options(s, sizeof(T), opt)) return st;
  if (!target_full)
    if (Status st = softcheck_check_targets(static_cast<const int64_t *>(target), e.rows, s.classes,
                                            o.ignore_index))
      return st;
  return SOFTCHECK_OK;
}

// loss(input) as PyTorch computes it. kind: 0 nll_loss, 1 cross_entropy
// with class indices, 2 cross_entropy with probabilities.
template <class T>
at::Tensor loss_of(int kind, const at::Tensor &input, const void *target, Shape s,
                   const LossOptions<T> &o) {
  const int64_t red = reduction_of(o);
  const auto w = weight_of(o, s);
  if (kind == 0)
    return at::nll_loss_nd(input, targets(static_cast<const int64_t *>(target), s), w, red,
                           o.ignore_index);
  if (kind == 1)
    return at::cross_entropy_loss(input, targets(static_cast<const int64_t *>(target), s), w, red,
                                  o.ignore_index, double(o.label_smoothing));
  return at::cross_entropy_loss(input, view<T>(target, dims(s)), w, red, o.ignore_index,
                                double(o.label_smoothing));
}

template <class T>
Status loss(int kind, Shape s, const void *input, const void *target,
            const softcheck_loss_options *opt, void *out) {
  LossOptions<T> o;
  if (!softcheck::to_loss_options(opt, o)) return SOFTCHECK_ERR_NULL_POINTER;
  Extent e;
  if (Status st = loss_checks<T>(s, input, target, kind == 2, opt, o, out, e)) return st;
  if (kind == 0 && o.label_smoothing != 0) return SOFTCHECK_ERR_UNSUPPORTED; // not a torch option
  return guarded([&] {
    at::NoGradGuard no_grad;
    put<T>(loss_of<T>(kind, view<T>(input, dims(s)), target, s, o), out,
           (o.reduction == softcheck::Reduction::none ? e.rows : 1));
    return SOFTCHECK_OK;
  });
}

// d loss / d input through autograd, the loss's gradient being dout.
template <class T>
Status loss_backward(int kind, Shape s, const void *input, const void *target,
                     const softcheck_loss_options *opt, const void *dout, void *dinput) {
  LossOptions<T> o;
  if (!softcheck::to_loss_options(opt, o)) return SOFTCHECK_ERR_NULL_POINTER;
  Extent e;
  if (Status st = loss_checks<T>(s, input ? input : dinput, target, kind == 2, opt, o, dout, e))
    return st;
  if (softcheck_missing(dinput, e.elems)) return SOFTCHECK_ERR_NULL_POINTER;
  if (kind == 0 && o.label_smoothing != 0) return SOFTCHECK_ERR_UNSUPPORTED;
  return guarded([&] {
    c10::AutoGradMode enable_grad(true);
    // nll_loss's gradient does not depend on its input: zeros stand for it.
    at::Tensor leaf = input ? view<T>(input, dims(s)).clone()
                            : at::zeros(dims(s), at::TensorOptions().dtype(kType<T>));
    leaf.requires_grad_(true);
    at::Tensor l = loss_of<T>(kind, leaf, target, s, o);
    at::Tensor g =
        o.reduction == softcheck::Reduction::none ? view<T>(dout, row_dims(s)) : view<T>(dout, {});
    l.backward(g.clone());
    const at::Tensor grad = leaf.grad();
    if (grad.defined())
      put<T>(grad, dinput, e.elems);
    else if (e.elems)
      std::memset(dinput, 0, size_t(e.elems) * sizeof(T));
    return SOFTCHECK_OK;
  });
}

template <class T> softcheck_ops ops() {
  softcheck_ops k{};
  k.softmax = softmax<T>;
  k.log_softmax = log_softmax<T>;
  k.logsumexp = logsumexp<T>;
  k.softmax_backward = softmax_backward<T>;
  k.log_softmax_backward = log_softmax_backward<T>;
  k.nll_loss = [](Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                  void *y) { return loss<T>(0, s, x, t, o, y); };
  k.nll_loss_backward = [](Shape s, const int64_t *t, const softcheck_loss_options *o,
                           const void *dout,
                           void *dx) { return loss_backward<T>(0, s, nullptr, t, o, dout, dx); };
  k.cross_entropy = [](Shape s, const void *x, const int64_t *t, const softcheck_loss_options *o,
                       void *y) { return loss<T>(1, s, x, t, o, y); };
  k.cross_entropy_backward = [](Shape s, const void *x, const int64_t *t,
                                const softcheck_loss_options *o, const void *dout,
                                void *dx) { return loss_backward<T>(1, s, x, t, o, dout, dx); };
  k.cross_entropy_prob = [](Shape s, const void *x, const void *t, const softcheck_loss_options *o,
                            void *y) { return loss<T>(2, s, x, t, o, y); };
  k.cross_entropy_prob_backward = [](Shape s, const void *x, const void *t,
                                     const softcheck_loss_options *o, const void *dout, void *dx) {
    return loss_backward<T>(2, s, x, t, o, dout, dx);
  };
  return k;
}

// The half table: the ops this libtorch runs on the CPU in T (one call on a
// 2 x 3 input each; an op that throws is not provided).
template <class T> softcheck_ops probed() {
  softcheck_ops k = ops<T>();
  const Shape s{2, 3, 1};
  const T x[6] = {T(0.5f), T(-1), T(2), T(0), T(1), T(-0.25f)};
  const T p[6] = {T(0.25f), T(0.5f), T(0.25f), T(1), T(0), T(0)};
  const T dy[6] = {T(1), T(0), T(-1), T(0.5f), T(0.5f), T(0)};
  const T dout[2] = {T(1), T(1)};
  const int64_t t[2] = {1, 0};
  softcheck_loss_options o{};
  o.reduction = SOFTCHECK_REDUCTION_NONE;
  o.ignore_index = -100;
  T y[6];
  auto keep = [](auto &fn, Status st) {
    if (st != SOFTCHECK_OK) fn = nullptr;
  };
  keep(k.softmax, k.softmax(s, x, y));
  keep(k.log_softmax, k.log_softmax(s, x, y));
  keep(k.logsumexp, k.logsumexp(s, x, y));
  keep(k.softmax_backward, k.softmax_backward(s, p, dy, y));
  keep(k.log_softmax_backward, k.log_softmax_backward(s, x, dy, y));
  keep(k.nll_loss, k.nll_loss(s, x, t, &o, y));
  keep(k.nll_loss_backward, k.nll_loss_backward(s, t, &o, dout, y));
  keep(k.cross_entropy, k.cross_entropy(s, x, t, &o, y));
  keep(k.cross_entropy_backward, k.cross_entropy_backward(s, x, t, &o, dout, y));
  keep(k.cross_entropy_prob, k.cross_entropy_prob(s, x, p, &o, y));
  keep(k.cross_entropy_prob_backward, k.cross_entropy_prob_backward(s, x, p, &o, dout, y));
  return k;
}

softcheck_status set_threads(int threads) {
  if (threads < 1) return SOFTCHECK_ERR_UNSUPPORTED;
  return guarded([&] {
    at::set_num_threads(threads);
    return SOFTCHECK_OK;
  });
}

const softcheck_kernel_set &set() {
  static const softcheck_kernel_set s = [] {
    softcheck_kernel_set k{};
    k.struct_size = sizeof(softcheck_kernel_set);
    k.name = "pytorch";
    k.description = "PyTorch's CPU kernels (libtorch, ATen), as a PyTorch user calls them; "
                    "bf16 and f16 where ATen has a CPU kernel";
    k.version = TORCH_VERSION;
    k.f32 = ops<float>();
    k.f64 = ops<double>();
    k.bf16 = probed<softcheck::bf16>();
    k.f16 = probed<softcheck::f16>();
    k.half_contract = nullptr;
    k.contract = nullptr;
    k.set_num_threads = set_threads;
    // ATen evaluates the formulas in IEEE: exp(x - max) of an all -inf row
    // is NaN, and w * logp with w = 0 is evaluated (0 * -inf = NaN).
    k.conventions[SOFTCHECK_CLASS_MASKED_ROW] = SOFTCHECK_CONVENTION_NAN;
    k.conventions[SOFTCHECK_CLASS_ZERO_COEFFICIENT] = SOFTCHECK_CONVENTION_NAN;
    return k;
  }();
  return s;
}

} // namespace

extern "C" SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) {
  static const softcheck_plugin plugin{SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "pytorch",
                                       1, &set()};
  return &plugin;
}
