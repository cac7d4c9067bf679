#include "common.hpp"

#include <softcheck/host.hpp>
#include <softcheck/validate.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unistd.h>

namespace softcheck::sandbox {

bool write_all(int fd, const void *p, size_t n) {
  const char *c = static_cast<const char *>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= size_t(w);
  }
  return true;
}

bool read_all(int fd, void *p, size_t n) {
  char *c = static_cast<char *>(p);
  while (n > 0) {
    const ssize_t got = ::read(fd, c, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    c += got;
    n -= size_t(got);
  }
  return true;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

size_t element_size(int array, uint32_t dtype) {
  if (array == wire::kTarget) return sizeof(int64_t);
  switch (dtype) {
  case SOFTCHECK_F32: return sizeof(float);
  case SOFTCHECK_F64: return sizeof(double);
  default: return sizeof(uint16_t); // bf16, f16
  }
}

Counts counts_of(const wire::CallHeader &h) {
  using namespace wire;
  Counts c;
  const softcheck_op op = softcheck_op(h.op);
  const Shape s{h.outer, h.classes, h.inner};
  detail::Extent e;
  const Status st = h.dtype == SOFTCHECK_F32 ? detail::check_shape<float>(s, e)
                                             : detail::check_shape<double>(s, e);
  if (st != SOFTCHECK_OK || h.op >= SOFTCHECK_OP_COUNT) return c; // nothing to read
  constexpr int64_t kMax = int64_t(1) << 31;
  c.fits = e.elems <= kMax && e.rows <= kMax && h.classes <= kMax;
  if (!c.fits) return c;
  const bool loss = op >= SOFTCHECK_OP_NLL_LOSS;
  const bool backward =
      op == SOFTCHECK_OP_SOFTMAX_BACKWARD || op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD ||
      op == SOFTCHECK_OP_NLL_LOSS_BACKWARD || op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD ||
      op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
  const int64_t scalar_or_rows = h.reduction == SOFTCHECK_REDUCTION_NONE ? e.rows : 1;
  int64_t n[kArrays] = {};
  n[kX] = e.elems;
  n[kAux] = e.elems;
  n[kTarget] = e.rows;
  n[kDout] = scalar_or_rows;
  n[kWeight] = h.classes;
  n[kOut] = op == SOFTCHECK_OP_LOGSUMEXP ? e.rows : loss && !backward ? scalar_or_rows : e.elems;
  for (int a = 0; a < kArrays; ++a) c.n[a] = h.present[a] ? uint64_t(n[a]) : 0;
  return c;
}

wire::CallHeader header_of(uint32_t dtype, softcheck_op op, softcheck_shape shape,
                           const softcheck_loss_options *opt) {
  wire::CallHeader h;
  h.op = op;
  h.dtype = dtype;
  h.outer = shape.outer;
  h.classes = shape.classes;
  h.inner = shape.inner;
  if (opt) {
    h.has_options = 1;
    h.reduction = opt->reduction;
    h.ignore_index = opt->ignore_index;
    h.smoothing = opt->label_smoothing;
  }
  return h;
}

softcheck_status invoke(const softcheck_ops &ops, const wire::CallHeader &h,
                        void *const p[wire::kArrays]) {
  using namespace wire;
  const softcheck_loss_options options{h.reduction, h.ignore_index, p[kWeight], h.smoothing};
  const softcheck_loss_options *o = h.has_options ? &options : nullptr;
  const softcheck_shape s{h.outer, h.classes, h.inner};
  const void *x = p[kX], *aux = p[kAux], *dout = p[kDout];
  const auto *t = static_cast<const int64_t *>(p[kTarget]);
  void *out = p[kOut];
  switch (softcheck_op(h.op)) {
  case SOFTCHECK_OP_SOFTMAX:
    if (ops.softmax) return ops.softmax(s, x, out);
    break;
  case SOFTCHECK_OP_LOG_SOFTMAX:
    if (ops.log_softmax) return ops.log_softmax(s, x, out);
    break;
  case SOFTCHECK_OP_LOGSUMEXP:
    if (ops.logsumexp) return ops.logsumexp(s, x, out);
    break;
  case SOFTCHECK_OP_SOFTMAX_BACKWARD:
    if (ops.softmax_backward) return ops.softmax_backward(s, x, aux, out);
    break;
  case SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD:
    if (ops.log_softmax_backward) return ops.log_softmax_backward(s, x, aux, out);
    break;
  case SOFTCHECK_OP_NLL_LOSS:
    if (ops.nll_loss) return ops.nll_loss(s, x, t, o, out);
    break;
  case SOFTCHECK_OP_NLL_LOSS_BACKWARD:
    if (ops.nll_loss_backward) return ops.nll_loss_backward(s, t, o, dout, out);
    break;
  case SOFTCHECK_OP_CROSS_ENTROPY:
    if (ops.cross_entropy) return ops.cross_entropy(s, x, t, o, out);
    break;
  case SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD:
    if (ops.cross_entropy_backward) return ops.cross_entropy_backward(s, x, t, o, dout, out);
    break;
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB:
    if (ops.cross_entropy_prob) return ops.cross_entropy_prob(s, x, aux, o, out);
    break;
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD:
    if (ops.cross_entropy_prob_backward)
      return ops.cross_entropy_prob_backward(s, x, aux, o, dout, out);
    break;
  case SOFTCHECK_OP_COUNT: break;
  }
  return SOFTCHECK_ERR_UNSUPPORTED;
}

bool SetData::operator==(const SetData &o) const {
  return name == o.name && description == o.description && version == o.version &&
         has_description == o.has_description && has_version == o.has_version &&
         std::memcmp(provides, o.provides, sizeof provides) == 0 &&
         has_contract == o.has_contract && has_threads == o.has_threads &&
         input_padding == o.input_padding &&
         std::memcmp(conventions, o.conventions, sizeof conventions) == 0 &&
         (!has_contract || std::memcmp(&contract, &o.contract, sizeof contract) == 0) &&
         has_half_contract == o.has_half_contract &&
         (!has_half_contract ||
          std::memcmp(&half_contract, &o.half_contract, sizeof half_contract) == 0);
}

namespace {

// At most max bytes of a C string whose end is not trusted.
std::string bounded(const char *s, size_t max) {
  return s == nullptr ? std::string() : std::string(s, ::strnlen(s, max));
}

template <class T> void put(std::string &out, const T &v) {
  out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

} // namespace

SetData describe(const softcheck_kernel_set &set) {
  SetData d;
  d.name = bounded(set.name, 64);
  d.has_description = set.description != nullptr;
  d.description = bounded(set.description, wire::kMaxDescription);
  d.has_version = set.version != nullptr;
  d.version = bounded(set.version, wire::kMaxVersion);
  for (int dt = 0; dt < SOFTCHECK_DTYPE_COUNT; ++dt)
    for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op)
      if (provides(set, softcheck_dtype(dt), softcheck_op(op))) d.provides[dt] |= 1u << op;
  d.has_contract = set.contract != nullptr;
  if (d.has_contract) d.contract = *set.contract;
  d.has_half_contract = set.half_contract != nullptr;
  if (d.has_half_contract) d.half_contract = *set.half_contract;
  d.has_threads = set.set_num_threads != nullptr;
  d.input_padding = set.input_padding_bytes;
  std::memcpy(d.conventions, set.conventions, sizeof d.conventions);
  return d;
}

std::string encode_table(const std::string &plugin_name, const std::vector<SetData> &sets,
                         const Restrictions &restrictions) {
  std::string out;
  wire::TableHeader th;
  th.set_count = uint32_t(sets.size());
  th.plugin_name_len = uint32_t(plugin_name.size());
  th.landlock = restrictions.landlock;
  th.no_sockets = restrictions.no_sockets;
  put(out, th);
  out += plugin_name;
  for (const SetData &d : sets) {
    wire::SetRecord r;
    r.name_len = uint32_t(d.name.size());
    r.description_len = uint32_t(d.description.size());
    r.version_len = uint32_t(d.version.size());
    r.has_description = d.has_description;
    r.has_version = d.has_version;
    std::memcpy(r.provides, d.provides, sizeof r.provides);
    r.has_contract = d.has_contract;
    r.has_half_contract = d.has_half_contract;
    r.half_contract = d.half_contract;
    r.has_threads = d.has_threads;
    r.input_padding = d.input_padding;
    std::memcpy(r.conventions, d.conventions, sizeof r.conventions);
    r.contract = d.contract;
    put(out, r);
    out += d.name;
    out += d.description;
    out += d.version;
  }
  return out;
}

std::string decode_table(const std::string &payload, std::string &plugin_name,
                         std::vector<SetData> &sets, Restrictions &restrictions) {
  size_t at = 0;
  auto take = [&](void *p, size_t n) {
    if (payload.size() - at < n) return false;
    std::memcpy(p, payload.data() + at, n);
    at += n;
    return true;
  };
  auto text = [&](std::string &s, size_t n, size_t max) {
    if (n > max || payload.size() - at < n) return false;
    s.assign(payload.data() + at, n);
    at += n;
    return true;
  };
  wire::TableHeader th;
  if (!take(&th, sizeof th)) return "a truncated set table";
  restrictions.landlock = th.landlock >= 0 && th.landlock < 256 ? th.landlock : 0;
  restrictions.no_sockets = th.no_sockets == 1;
  if (th.set_count == 0 || th.set_count > kMaxKernelSets)
    return "a set table with " + std::to_string(th.set_count) + " sets";
  if (!text(plugin_name, th.plugin_name_len, wire::kMaxPluginName)) return "a bad plugin name";
  sets.clear();
  for (uint32_t i = 0; i < th.set_count; ++i) {
    wire::SetRecord r;
    SetData d;
    if (!take(&r, sizeof r) || !text(d.name, r.name_len, 64) ||
        !text(d.description, r.description_len, wire::kMaxDescription) ||
        !text(d.version, r.version_len, wire::kMaxVersion))
      return "a truncated set table";
    d.has_description = r.has_description != 0;
    d.has_version = r.has_version != 0;
    std::memcpy(d.provides, r.provides, sizeof d.provides);
    d.has_contract = r.has_contract != 0;
    d.has_half_contract = r.has_half_contract != 0;
    d.half_contract = r.half_contract;
    d.has_threads = r.has_threads != 0;
    d.input_padding = r.input_padding;
    std::memcpy(d.conventions, r.conventions, sizeof d.conventions);
    d.contract = r.contract;
    const uint32_t all_ops = (1u << SOFTCHECK_OP_COUNT) - 1;
    for (uint32_t bits : d.provides)
      if (bits & ~all_ops) return "a set table with unknown ops";
    if (d.input_padding > wire::kMaxPadding) return "a set table with a bad input padding";
    for (uint8_t v : d.conventions)
      if (v > SOFTCHECK_CONVENTION_NAN) return "a set table with an unknown convention";
    sets.push_back(std::move(d));
  }
  if (at != payload.size()) return "a set table with trailing bytes";
  return "";
}

} // namespace softcheck::sandbox
