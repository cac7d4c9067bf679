// oneDNN's CPU softmax (2.6, softmax_v2 primitives) behind the plugin ABI:
// the set `onednn`, float32 and bfloat16 (oneDNN has no f64 softmax, and
// its f16 softmax is not a CPU one; the bf16 ops are tried once at load and
// left NULL where this CPU has no implementation). softmax and
// log_softmax are softmax_v2_forward with algorithm softmax_accurate and
// softmax_log; their backward ops softmax_v2_backward. The buffers are
// viewed as plain [outer, classes, inner] (format abc) with axis 1. No
// contract is declared: the suite's default bounds apply. The ABI's
// bad-input rules are checked first; an error from oneDNN is an internal
// error. Threads: oneDNN's OpenMP runtime.
#include <softcheck/plugin_util.h>

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <exception>

namespace {

using Shape = softcheck_shape;
using Status = softcheck_status;
using Extent = softcheck_extent;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine &engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::memory::desc desc_of(Shape s, dt type) {
  return {{s.outer, s.classes, s.inner}, type, tag::abc};
}
size_t size_of(dt type) { return type == dt::f32 ? 4 : 2; }

template <class F> Status guarded(F &&f) {
  try {
    return f();
  } catch (const std::exception &) {
    return SOFTCHECK_ERR_INTERNAL;
  }
}

Status forward(dnnl::algorithm alg, dt type, Shape s, const void *x, void *y) {
  Extent e;
  if (Status st = softcheck_check_shape(s, size_of(type), &e)) return st;
  if (softcheck_missing(x, e.elems) || softcheck_missing(y, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  if (e.elems == 0) return SOFTCHECK_OK;
  return guarded([&] {
    const auto md = desc_of(s, type);
    dnnl::softmax_v2_forward::primitive_desc pd({dnnl::prop_kind::forward_training, alg, md, md, 1},
                                                engine());
    dnnl::memory src(md, engine(), const_cast<void *>(x)), dst(md, engine(), y);
    dnnl::stream st(engine());
    dnnl::softmax_v2_forward(pd).execute(st, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    st.wait();
    return SOFTCHECK_OK;
  });
}

Status backward(dnnl::algorithm alg, dt type, Shape s, const void *y, const void *dy, void *dx) {
  Extent e;
  if (Status st = softcheck_check_shape(s, size_of(type), &e)) return st;
  if (softcheck_missing(y, e.elems) || softcheck_missing(dy, e.elems) ||
      softcheck_missing(dx, e.elems))
    return SOFTCHECK_ERR_NULL_POINTER;
  if (e.elems == 0) return SOFTCHECK_OK;
  return guarded([&] {
    const auto md = desc_of(s, type);
    dnnl::softmax_v2_forward::primitive_desc hint(
        {dnnl::prop_kind::forward_training, alg, md, md, 1}, engine());
    dnnl::softmax_v2_backward::primitive_desc pd({alg, md, md, md, 1}, engine(), hint);
    dnnl::memory dst(md, engine(), const_cast<void *>(y)),
        diff_dst(md, engine(), const_cast<void *>(dy)), diff_src(md, engine(), dx);
    dnnl::stream st(engine());
    dnnl::softmax_v2_backward(pd).execute(
        st, {{DNNL_ARG_DST, dst}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
    st.wait();
    return SOFTCHECK_OK;
  });
}

// softmax and log_softmax, forward and backward, on `type` data.
template <dt type> softcheck_ops table() {
  softcheck_ops k{};
  k.softmax = [](Shape sh, const void *x, void *y) {
    return forward(dnnl::algorithm::softmax_accurate, type, sh, x, y);
  };
  k.log_softmax = [](Shape sh, const void *x, void *y) {
    return forward(dnnl::algorithm::softmax_log, type, sh, x, y);
  };
  k.softmax_backward = [](Shape sh, const void *y, const void *dy, void *dx) {
    return backward(dnnl::algorithm::softmax_accurate, type, sh, y, dy, dx);
  };
  k.log_softmax_backward = [](Shape sh, const void *y, const void *dy, void *dx) {
    return backward(dnnl::algorithm::softmax_log, type, sh, y, dy, dx);
  };
  return k;
}

softcheck_status set_threads(int threads) {
  if (threads < 1) return SOFTCHECK_ERR_UNSUPPORTED;
  omp_set_num_threads(threads);
  return SOFTCHECK_OK;
}

const softcheck_kernel_set &set() {
  static const softcheck_kernel_set s = [] {
    softcheck_kernel_set k{};
    k.struct_size = sizeof(softcheck_kernel_set);
    k.name = "onednn";
    k.description = "oneDNN's softmax_v2 primitives (softmax_accurate, softmax_log), f32 and bf16";
    static const std::string version = [] {
      const dnnl_version_t *v = dnnl_version();
      return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
             std::to_string(v->patch);
    }();
    k.version = version.c_str();
    k.f32 = table<dt::f32>();
    k.bf16 = table<dt::bf16>();
    // Once on a 2 x 3 input (bf16 bit patterns of small values): an op this
    // CPU has no implementation of is not provided.
    const Shape sh{2, 3, 1};
    const uint16_t x[6] = {0x3f00, 0xbf80, 0x4000, 0x0000, 0x3f80, 0xbe80};
    uint16_t y[6];
    auto keep = [](auto &fn, Status st) {
      if (st != SOFTCHECK_OK) fn = nullptr;
    };
    keep(k.bf16.softmax, k.bf16.softmax(sh, x, y));
    keep(k.bf16.log_softmax, k.bf16.log_softmax(sh, x, y));
    keep(k.bf16.softmax_backward, k.bf16.softmax_backward(sh, x, x, y));
    keep(k.bf16.log_softmax_backward, k.bf16.log_softmax_backward(sh, x, x, y));
    k.half_contract = nullptr;
    k.contract = nullptr;
    k.set_num_threads = set_threads;
    // softmax_accurate subtracts the max: an all -inf row is NaN.
    k.conventions[SOFTCHECK_CLASS_MASKED_ROW] = SOFTCHECK_CONVENTION_NAN;
    return k;
  }();
  return s;
}

} // namespace

extern "C" SOFTCHECK_EXPORT const softcheck_plugin *softcheck_plugin_v1(void) {
  static const softcheck_plugin plugin{SOFTCHECK_ABI_VERSION, sizeof(softcheck_plugin), "onednn", 1,
                                       &set()};
  return &plugin;
}
