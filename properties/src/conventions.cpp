// Declared conventions (<softcheck/plugin.h>): which cases fall in a class
// where a set follows another convention than softcheck's, and which of
// their outputs may then be NaN.
#include <softcheck/generators.hpp>
#include <softcheck/properties.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace softcheck::props {
namespace {

std::array<int, SOFTCHECK_CLASS_COUNT> g_override = {-1, -1};

bool takes_logits(softcheck_op op) {
  return op == SOFTCHECK_OP_SOFTMAX || op == SOFTCHECK_OP_LOG_SOFTMAX ||
         op == SOFTCHECK_OP_CROSS_ENTROPY || op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD ||
         op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
}

bool prob_targets(softcheck_op op) {
  return op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
}

template <class T> bool ignored(const Case<T> &c, int64_t r) {
  return !prob_targets(c.op) && c.target[size_t(r)] == c.ignore_index;
}

template <class T> bool masked_row(const Case<T> &c, int64_t r) {
  if (c.shape.classes == 0) return false;
  for (int64_t k = 0; k < c.shape.classes; ++k)
    if (c.x[size_t(gen::index_of(c, r, k))] != -std::numeric_limits<T>::infinity()) return false;
  return true;
}

// Whether the log-probability of class k of row r is finite in T: nll_loss
// takes it as input; the logits ops give a non-finite one for a -inf logit,
// for every class of a row with a NaN or +inf, and where x_k - max is past
// the format's range (x = [-0.1 DBL_MAX, DBL_MAX]), which a kernel that
// evaluates x_k - max in T turns into -inf.
template <class T> bool finite_logp(const Case<T> &c, int64_t r, int64_t k) {
  if (c.op == SOFTCHECK_OP_NLL_LOSS || c.op == SOFTCHECK_OP_NLL_LOSS_BACKWARD)
    return std::isfinite(c.x[size_t(gen::index_of(c, r, k))]);
  long double max = -INFINITY;
  for (int64_t j = 0; j < c.shape.classes; ++j) {
    const T v = c.x[size_t(gen::index_of(c, r, j))];
    if (std::isnan(v) || v == std::numeric_limits<T>::infinity()) return false;
    max = std::max<long double>(max, v);
  }
  const long double d = (long double)c.x[size_t(gen::index_of(c, r, k))] - max;
  return std::isfinite(d) && d >= -(long double)std::numeric_limits<T>::max();
}

// A row with a term whose coefficient is zero by construction (plugin.h)
// and whose log-probability is not finite, or a zero coefficient under an
// infinite upstream gradient.
template <class T> bool zero_coefficient_row(const Case<T> &c, int64_t r) {
  if (!c.is_loss()) return false;
  const int64_t K = c.shape.classes;
  if (ignored(c, r)) {
    // Every coefficient of an ignored row is 0: its gradient is 0 times the
    // row's softmax, NaN where that is (an evaluated log_softmax backward).
    if (c.op != SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD) return false;
    for (int64_t k = 0; k < K; ++k)
      if (!finite_logp(c, r, k)) return true;
    return false;
  }
  const double eps = c.label_smoothing;
  auto w = [&](int64_t k) { return c.weight.empty() ? T(1) : c.weight[size_t(k)]; };
  bool some_zero = false;
  for (int64_t k = 0; k < K; ++k) {
    bool zero;
    if (prob_targets(c.op))
      zero = w(k) == 0 || (c.aux[size_t(gen::index_of(c, r, k))] == 0 && eps == 0);
    else
      // (eps = 0 leaves the smoothing terms out under both conventions:
      // libraries that evaluate the formula skip them too.)
      zero = w(k) == 0 || (k == c.target[size_t(r)] && eps == 1);
    some_zero = some_zero || zero;
    if (zero && !finite_logp(c, r, k)) return true;
  }
  if (!c.is_backward() || !some_zero || c.dout.empty()) return false;
  const T g = c.reduction == Reduction::none ? c.dout[size_t(r)] : c.dout[0];
  if (!std::isfinite(g)) return true;
  if (c.reduction != Reduction::mean) return false;
  long double den = 0; // the mean's denominator: a zero one makes g_r infinite
  for (int64_t j = 0; j < c.rows(); ++j)
    if (prob_targets(c.op))
      den += 1;
    else if (!ignored(c, j))
      den += w(c.target[size_t(j)]);
  return den == 0;
}

template <class T> bool in_class(const Case<T> &c, int64_t r, softcheck_convention_class k) {
  if (k == SOFTCHECK_CLASS_MASKED_ROW)
    return takes_logits(c.op) && masked_row(c, r) && (!c.is_loss() || !ignored(c, r));
  return zero_coefficient_row(c, r);
}

} // namespace

void set_convention_override(softcheck_convention_class k, softcheck_convention v) {
  g_override[size_t(k)] = int(v);
}

softcheck_convention convention_of(const softcheck_kernel_set &set, softcheck_convention_class k) {
  if (g_override[size_t(k)] >= 0) return softcheck_convention(g_override[size_t(k)]);
  return set.conventions[k] == SOFTCHECK_CONVENTION_NAN ? SOFTCHECK_CONVENTION_NAN
                                                        : SOFTCHECK_CONVENTION_SOFTCHECK;
}

const char *convention_class_id(softcheck_convention_class k) {
  return k == SOFTCHECK_CLASS_MASKED_ROW ? "masked" : "zero_coefficient";
}

const char *convention_class_text(softcheck_convention_class k) {
  return k == SOFTCHECK_CLASS_MASKED_ROW
             ? "fully masked rows (all -inf logits): softmax, log_softmax, and the row's losses "
               "and gradients are NaN"
             : "a zero coefficient (weight, label smoothing, probability target) times a "
               "non-finite log-probability or an infinite upstream gradient is evaluated: NaN";
}

std::vector<std::string> declared_conventions(const softcheck_kernel_set &set) {
  std::vector<std::string> v;
  for (int k = 0; k < SOFTCHECK_CLASS_COUNT; ++k)
    if (convention_of(set, softcheck_convention_class(k)) == SOFTCHECK_CONVENTION_NAN)
      v.push_back(std::string(convention_class_id(softcheck_convention_class(k))) +
                  "=nan: " + convention_class_text(softcheck_convention_class(k)));
  return v;
}

template <class T>
std::vector<char> convention_nan(const softcheck_kernel_set &set, const Case<T> &c) {
  std::vector<char> ok;
  for (int k = 0; k < SOFTCHECK_CLASS_COUNT; ++k) {
    const auto cls = softcheck_convention_class(k);
    if (convention_of(set, cls) != SOFTCHECK_CONVENTION_NAN) continue;
    for (int64_t r = 0; r < c.rows(); ++r) {
      if (!in_class(c, r, cls)) continue;
      ok.resize(size_t(c.output_count()), 0);
      if (c.is_loss() && !c.is_backward()) {
        ok[c.reduction == Reduction::none ? size_t(r) : 0] = 1;
      } else {
        for (int64_t j = 0; j < c.shape.classes; ++j) ok[size_t(gen::index_of(c, r, j))] = 1;
      }
    }
  }
  return ok;
}

template <class T> bool under_convention(const softcheck_kernel_set &set, const Case<T> &c) {
  return !convention_nan(set, c).empty();
}

template <class T>
int64_t apply_conventions(const softcheck_kernel_set &set, const Case<T> &c, const T *got, T *ref) {
  const std::vector<char> ok = convention_nan(set, c);
  int64_t n = 0;
  for (size_t i = 0; i < ok.size(); ++i)
    if (ok[i] && std::isnan(got[i]) && !std::isnan(ref[i])) {
      ref[i] = got[i];
      ++n;
    }
  return n;
}

template int64_t apply_conventions<float>(const softcheck_kernel_set &, const Case<float> &,
                                          const float *, float *);
template int64_t apply_conventions<double>(const softcheck_kernel_set &, const Case<double> &,
                                           const double *, double *);
template std::vector<char> convention_nan<float>(const softcheck_kernel_set &, const Case<float> &);
template std::vector<char> convention_nan<double>(const softcheck_kernel_set &,
                                                  const Case<double> &);
template bool under_convention<float>(const softcheck_kernel_set &, const Case<float> &);
template bool under_convention<double>(const softcheck_kernel_set &, const Case<double> &);
#define SOFTCHECK_CONVENTIONS_INSTANTIATE(T)                                                       \
  template int64_t apply_conventions<T>(const softcheck_kernel_set &, const Case<T> &, const T *,  \
                                        T *);                                                      \
  template std::vector<char> convention_nan<T>(const softcheck_kernel_set &, const Case<T> &);     \
  template bool under_convention<T>(const softcheck_kernel_set &, const Case<T> &);
SOFTCHECK_CONVENTIONS_INSTANTIATE(bf16)
SOFTCHECK_CONVENTIONS_INSTANTIATE(f16)
#undef SOFTCHECK_CONVENTIONS_INSTANTIATE

} // namespace softcheck::props
