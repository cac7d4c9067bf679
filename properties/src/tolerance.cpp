#include "tolerance.hpp"

#include <softcheck/generators.hpp>
#include <softcheck/oracle.hpp>
#include <softcheck/properties.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <limits>

namespace softcheck::props {
namespace {

// D_w = sum_j e^{d_j} |d_j| / sum_j e^{d_j} over the non-max terms: how much
// the rounding of each x_j - max (relative error |d_j| u in its exp) moves
// the sum s (and so log1p(s)). At most max |d_j|, and usually small, since
// e^{d} |d| <= 1/e.
template <class T> long double amplification(const Case<T> &c, int64_t r, long double max) {
  if (!std::isfinite(max)) return 0;
  long double num = 0, den = 0;
  bool skipped_max = false;
  for (int64_t k = 0; k < c.shape.classes; ++k) {
    long double x = c.x[size_t(gen::index_of(c, r, k))];
    if (!skipped_max && x == max) {
      skipped_max = true;
      continue;
    }
    long double d = x - max;
    if (!std::isfinite(d)) continue;
    long double e = std::exp(d);
    num += e * std::abs(d);
    den += e;
  }
  return den > 0 ? num / den : 0;
}

// The |d| of the |d| u term that the rounding of d = x - max adds to the
// relative error of exp(d). Past -log(smallest subnormal) + 1 (746 for
// double, 105 for float) exp(d) is below the smallest subnormal, so its
// error, relative or not, is inside the 1-ulp term every bound has; capped
// there, the bound stays finite where x - max is past the format's range
// (x = [-DBL_MAX, DBL_MAX]: |d| = 2 DBL_MAX, inf as a double bound, and inf
// times a zero scale is NaN, which fails a correct 0).
template <class T> double rounding_of_d(long double d) {
  const long double cap = -std::log((long double)std::numeric_limits<T>::denorm_min()) + 1;
  d = std::abs(d);
  return std::isfinite(d) ? double(std::min(d, cap)) : 0.0;
}

bool is_class_loss(softcheck_op op) {
  return op == SOFTCHECK_OP_NLL_LOSS || op == SOFTCHECK_OP_CROSS_ENTROPY;
}

} // namespace

template <class T>
Tolerances<T>::Tolerances(const softcheck_kernel_set &set, const Case<T> &c) : c_(c) {
  const softcheck_op op = c.op;
  if (set.contract)
    declared_ = &(std::is_same_v<T, float> ? set.contract->f32 : set.contract->f64)[op];
  const bool forward = op <= SOFTCHECK_OP_LOGSUMEXP;
  const bool row_loss = c.is_loss() && !c.is_backward() && c.reduction == Reduction::none;
  scaled_ = !(forward || (row_loss && is_class_loss(op) && !has_signed_terms(c)));
  // A contract that declares only the other kind decides the kind.
  if (declared_ && !scaled_ && declared_->max_ulp < 0 && declared_->max_scaled_u >= 0)
    scaled_ = true;
  const int64_t n = c.shape.classes, R = c.rows();
  const size_t outputs = size_t(c.output_count());
  default_.assign(outputs, 0);
  scale_.assign(outputs, 0);
  underflow_.assign(outputs, 0);
  const bool smoothing = c.label_smoothing != 0, weighted = !c.weight.empty();
  // Per-row loss bounds, in u (shared by the ulp and the scaled forms).
  double row_bound = 0;
  if (op == SOFTCHECK_OP_NLL_LOSS) row_bound = smoothing ? double(n) + 5 : 3;
  if (op == SOFTCHECK_OP_CROSS_ENTROPY)
    row_bound = double(n) + 6 + (weighted ? 2 : 0) + (smoothing ? double(n) + 3 : 0);
  if (op == SOFTCHECK_OP_CROSS_ENTROPY_PROB) row_bound = 2 * double(n) + 12;
  if (scaled_ && is_class_loss(op)) row_bound = 2 * double(n) + 12;

  auto x_at = [&](int64_t r, int64_t k) {
    return (long double)c.x[size_t(gen::index_of(c, r, k))];
  };
  std::vector<LongRow> rows;
  if (op != SOFTCHECK_OP_SOFTMAX_BACKWARD && op != SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD &&
      op != SOFTCHECK_OP_NLL_LOSS && op != SOFTCHECK_OP_NLL_LOSS_BACKWARD)
    for (int64_t r = 0; r < R; ++r) rows.push_back(long_row(c, r));

  // Per-row term magnitudes sum_k |a_k logp_k| of the losses.
  auto row_terms = [&](int64_t r) {
    long double m = 0;
    for (int64_t k = 0; k < n; ++k) {
      long double a = loss_coefficient(c, r, k);
      if (a == 0) continue;
      long double lp = op == SOFTCHECK_OP_NLL_LOSS ? x_at(r, k) : rows[size_t(r)].logp(x_at(r, k));
      m += std::abs(a * lp);
    }
    return m;
  };

  switch (op) {
  case SOFTCHECK_OP_SOFTMAX:
  case SOFTCHECK_OP_LOG_SOFTMAX:
    for (int64_t r = 0; r < R; ++r) {
      const double dw = double(amplification(c, r, rows[size_t(r)].max));
      for (int64_t k = 0; k < n; ++k) {
        const double d = rounding_of_d<T>(x_at(r, k) - rows[size_t(r)].max);
        default_[size_t(gen::index_of(c, r, k))] =
            op == SOFTCHECK_OP_SOFTMAX ? d + dw + double(n) + 5 : dw + double(n) + 6;
      }
    }
    break;
  case SOFTCHECK_OP_LOGSUMEXP:
    for (int64_t r = 0; r < R; ++r) // times L/|y|, below
      default_[size_t(r)] = double(amplification(c, r, rows[size_t(r)].max)) + double(n) + 3;
    break;
  case SOFTCHECK_OP_SOFTMAX_BACKWARD:
  case SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD:
    for (int64_t r = 0; r < R; ++r) {
      long double dot = 0, sum = 0, signed_sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        long double y = c.x[size_t(gen::index_of(c, r, k))],
                    dy = c.aux[size_t(gen::index_of(c, r, k))];
        dot += std::abs(dy * y);
        sum += std::abs(dy);
        signed_sum += dy;
      }
      for (int64_t k = 0; k < n; ++k) {
        size_t i = size_t(gen::index_of(c, r, k));
        long double y = c.x[i], dy = c.aux[i];
        if (op == SOFTCHECK_OP_SOFTMAX_BACKWARD) {
          scale_[i] = std::abs(y) * (std::abs(dy) + dot);
          default_[i] = double(n) + 3;
          underflow_[i] = (long double)n * std::abs(y);
        } else {
          scale_[i] = std::abs(dy) + std::exp(y) * sum;
          default_[i] = double(n) + 4;
          underflow_[i] = std::abs(signed_sum) + 1;
        }
      }
    }
    break;
  case SOFTCHECK_OP_NLL_LOSS_BACKWARD:
  case SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD:
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD: {
    const long double den = c.reduction == Reduction::mean ? mean_denominator(c) : 1.0L;
    for (int64_t r = 0; r < R; ++r) {
      long double g = c.reduction == Reduction::none ? (long double)c.dout[size_t(r)]
                                                     : ieee_divide((long double)c.dout[0], den);
      long double s = 0;
      for (int64_t k = 0; k < n; ++k) s += std::abs(loss_coefficient(c, r, k));
      for (int64_t k = 0; k < n; ++k) {
        size_t i = size_t(gen::index_of(c, r, k));
        long double a = std::abs(loss_coefficient(c, r, k));
        if (op == SOFTCHECK_OP_NLL_LOSS_BACKWARD) {
          scale_[i] = std::abs(g) * a;
          default_[i] = 4;
          underflow_[i] = a;
        } else {
          long double p = rows[size_t(r)].p(x_at(r, k));
          scale_[i] = std::abs(g) * (s * (std::isnan(p) ? 1 : p) + a);
          // Either standard algorithm (tolerance.hpp): softmax directly, or
          // exp of the log-probability as autograd does.
          default_[i] = 2 * rounding_of_d<T>(x_at(r, k) - rows[size_t(r)].max) +
                        std::log(double(std::max<int64_t>(n, 1))) + double(n) + 7;
          underflow_[i] = std::abs(g) * (s + 1) + s + a;
        }
      }
    }
    break;
  }
  case SOFTCHECK_OP_NLL_LOSS:
  case SOFTCHECK_OP_CROSS_ENTROPY:
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB:
    if (c.reduction == Reduction::none) {
      for (int64_t r = 0; r < R; ++r) {
        default_[size_t(r)] =
            row_bound + (rows.empty() ? 0 : double(amplification(c, r, rows[size_t(r)].max)));
        scale_[size_t(r)] = row_terms(r);
        underflow_[size_t(r)] = (long double)n;
      }
    } else {
      long double m = 0, dw = 0;
      for (int64_t r = 0; r < R; ++r) {
        m += row_terms(r);
        if (!rows.empty()) dw = std::max(dw, amplification(c, r, rows[size_t(r)].max));
      }
      double k = row_bound + double(dw) + double(R) + 3;
      if (c.reduction == Reduction::mean) {
        m = ieee_divide(m, std::abs(mean_denominator(c)));
        k += double(R) + 2;
      }
      default_[0] = k;
      scale_[0] = m;
      underflow_[0] = (long double)n * (long double)R;
      if (c.reduction == Reduction::mean)
        underflow_[0] = ieee_divide(underflow_[0], std::abs(mean_denominator(c)));
    }
    break;
  case SOFTCHECK_OP_COUNT: break;
  }
}

template <class T> typename Tolerances<T>::Allowance Tolerances<T>::allowance(size_t i, T v) const {
  Allowance a;
  const long double u = unit_roundoff<T>();
  if (!scaled_) {
    if (declared_ && declared_->max_ulp >= 0) {
      a.ulp_distance = true;
      a.ulps = declared_->max_ulp;
      a.absolute = (long double)a.ulps * (long double)spacing(v);
    } else {
      a.ulps = default_[i];
      if (std::abs(v) < std::numeric_limits<T>::min()) a.ulps += 2;
      a.absolute = (long double)a.ulps * (long double)spacing(v);
      if (c_.op == SOFTCHECK_OP_LOGSUMEXP) {
        // Absolute: (n + 3 + D_w) u L + u |y|, plus 3 ulps of y; finite even
        // where y = max + L cancels to 0 (a relative bound is not).
        LongRow row = long_row(c_, int64_t(i));
        const long double L = std::abs((long double)v - row.max);
        a.absolute = ((long double)default_[i] * L + std::abs((long double)v)) * u +
                     3 * (long double)spacing(v);
        a.ulps = double(a.absolute / (long double)spacing(v));
      }
    }
    return a;
  }
  a.scaled = true;
  // An undefined scale (0 times an infinite upstream gradient) allows nothing
  // beyond the rounding; an infinite one allows anything finite.
  const long double m = std::isnan(scale_[i]) ? 0.0L : scale_[i];
  const bool declared = declared_ && declared_->max_scaled_u >= 0;
  const double k = declared ? declared_->max_scaled_u : default_[i];
  a.absolute = (m == 0 ? 0.0L : (long double)k * u * m) + (long double)spacing(v);
  // The default bound's underflow term (tolerance.hpp); a declared contract
  // says what the kernel keeps and gets none.
  const long double eta = (long double)std::numeric_limits<T>::denorm_min() / 2;
  if (!declared && std::isfinite(underflow_[i])) a.absolute += underflow_[i] * eta;
  return a;
}

template <class T> long double Tolerances<T>::abs_error(size_t i, T v) const {
  return allowance(i, v).absolute;
}

template <class T> std::string Tolerances<T>::judge(size_t i, T got, T ref) const {
  if (got == ref) return ""; // (+0 and -0 alike: the sign of a zero is not judged)
  const bool special = !std::isfinite(got) || !std::isfinite(ref);
  if (special) {
    if ((std::isnan(got) && std::isnan(ref)) || got == ref) return "";
    return fmt::format("{} (got {}, expected {})", mismatch_name(classify(c_.op, got, ref)),
                       format_value(got), format_value(ref));
  }
  Allowance a = allowance(i, ref);
  if (a.ulp_distance) {
    int64_t d = ulp_distance(got, ref);
    if (std::abs(double(d)) <= a.ulps) return "";
    return fmt::format("{} ulps from the correctly rounded value; the contract allows {:g}", d,
                       a.ulps);
  }
  long double err = std::abs((long double)got - (long double)ref);
  if (err <= a.absolute) return "";
  Mismatch m = classify(c_.op, got, ref);
  std::string kind = m == Mismatch::none ? "" : std::string(" (") + mismatch_name(m) + ")";
  if (!a.scaled)
    return fmt::format("{:.4g} ulps{}; the {} allows {:.4g}", ulp_error(got, ref), kind,
                       declared_ && declared_->max_ulp >= 0 ? "contract" : "default bound", a.ulps);
  return fmt::format("error {:.4g}{} exceeds the scaled bound {:.4g} (k u M + 1 ulp, M = {:.4g})",
                     double(err), kind, double(a.absolute), double(scale_[i]));
}

template <class T> std::string Tolerances<T>::describe() const {
  const bool contract =
      declared_ && (scaled_ ? declared_->max_scaled_u >= 0 : declared_->max_ulp >= 0);
  if (contract)
    return scaled_ ? fmt::format("declared {:g}u scaled", declared_->max_scaled_u)
                   : fmt::format("declared {:g} ulp", declared_->max_ulp);
  return scaled_ ? "default scaled bound (Blanchard et al. 2021, elementwise)"
                 : "default ulp bound (Blanchard et al. 2021, elementwise)";
}

template class Tolerances<float>;
template class Tolerances<double>;

namespace {

template <class D, class S> Case<D> convert_case(const Case<S> &c) {
  Case<D> d;
  d.op = c.op;
  d.shape = c.shape;
  auto up = [](const std::vector<S> &v) {
    std::vector<D> o(v.size());
    for (size_t i = 0; i < v.size(); ++i) o[i] = D(static_cast<float>(v[i])); // exact
    return o;
  };
  d.x = up(c.x);
  d.aux = up(c.aux);
  d.dout = up(c.dout);
  d.weight = up(c.weight);
  d.target = c.target;
  d.reduction = c.reduction;
  d.ignore_index = c.ignore_index;
  d.label_smoothing = c.label_smoothing;
  return d;
}

bool same_bits_or_equal(float g, float r) { return (g == r) || (std::isnan(g) && std::isnan(r)); }

const softcheck_kernel_set &no_contract() {
  static const softcheck_kernel_set none{};
  return none;
}

template <class H> const softcheck_bound *half_bounds(const softcheck_kernel_set &set) {
  if (set.half_contract == nullptr) return nullptr;
  return std::is_same_v<H, bf16> ? set.half_contract->bf16 : set.half_contract->f16;
}

} // namespace

template <class F>
Tolerances<Half<F>>::Tolerances(const softcheck_kernel_set &set, const Case<H> &c)
    : c_(c), promoted_(convert_case<float>(c)), float_(no_contract(), promoted_) {
  const Case<double> wide = convert_case<double>(c);
  exact_.assign(size_t(c.output_count()), 0.0);
  oracle::call(wide, exact_.data());
  if (const softcheck_bound *b = half_bounds<H>(set)) declared_ = &b[c.op];
  scaled_ = !float_.elementwise();
  if (declared_ && !scaled_ && declared_->max_ulp < 0 && declared_->max_scaled_u >= 0)
    scaled_ = true;
}

template <class F> long double Tolerances<Half<F>>::ulp_at(double x) {
  constexpr int emin = std::numeric_limits<H>::min_exponent - 1;
  constexpr int m = std::numeric_limits<H>::digits - 1;
  const int e = std::isfinite(x) && x != 0 ? std::ilogb(x) : emin;
  return std::ldexp(1.0L, std::max(e, emin) - m);
}

template <class F>
typename Tolerances<Half<F>>::Allowance Tolerances<Half<F>>::allowance(size_t i, H) const {
  Allowance a;
  a.scaled = scaled_;
  const double e = exact_[i];
  const long double uh = ulp_at(e);
  const long double reference = std::ldexp(std::abs((long double)e), -53);
  const long double float_bound =
      std::isfinite(e) ? float_.abs_error(i, static_cast<float>(e)) : 0.0L;
  if (!scaled_) {
    if (declared_ && declared_->max_ulp >= 0)
      a.absolute = (long double)declared_->max_ulp * uh;
    else
      a.absolute = uh / 2 + float_bound;
  } else {
    const long double m = std::isnan(float_.scale(i)) ? 0.0L : float_.scale(i);
    if (declared_ && declared_->max_scaled_u >= 0)
      a.absolute =
          (m == 0 ? 0.0L : (long double)declared_->max_scaled_u * unit_roundoff<H>() * m) + uh;
    else
      a.absolute = uh / 2 + float_bound;
  }
  a.absolute += reference;
  a.ulps = double(a.absolute / uh);
  return a;
}

template <class F> long double Tolerances<Half<F>>::error(size_t i, H got) const {
  const double e = exact_[i];
  const float g = got;
  if (std::isinf(g) && std::isfinite(e)) {
    if (std::signbit(g) != std::signbit(e)) return INFINITY;
    const long double mx = (float)std::numeric_limits<H>::max();
    const long double threshold = mx + ulp_at(double(mx)) / 2;
    return std::max(0.0L, threshold - std::abs((long double)e));
  }
  return std::abs((long double)g - (long double)e);
}

template <class F> std::string Tolerances<Half<F>>::judge(size_t i, H got, H ref) const {
  const float g = got, r = ref;
  if (g == r && !std::isnan(g)) return ""; // (+0 and -0 alike)
  if (std::isnan(g) && std::isnan(r)) return "";
  const double e = exact_[i];
  if (std::isnan(g) || std::isnan(r) || std::isinf(e))
    return fmt::format("{} (got {}, expected {})", mismatch_name(classify(c_.op, g, r)),
                       format_value(got), format_value(ref));
  const Allowance a = allowance(i, ref);
  const long double err = error(i, got);
  if (err <= a.absolute) return "";
  Mismatch m = classify(c_.op, g, r);
  std::string kind = m == Mismatch::none ? "" : std::string(" (") + mismatch_name(m) + ")";
  const bool contract =
      declared_ && (scaled_ ? declared_->max_scaled_u >= 0 : declared_->max_ulp >= 0);
  return fmt::format("{:.4g} ulps of {} from the exact {:.9g}{}; the {} allows {:.4g}",
                     double(err / ulp_at(e)), softcheck_dtype_name(dtype_of<H>), e, kind,
                     contract ? "contract" : "default bound", a.ulps);
}

template <class F> std::string Tolerances<Half<F>>::describe() const {
  const bool contract =
      declared_ && (scaled_ ? declared_->max_scaled_u >= 0 : declared_->max_ulp >= 0);
  if (contract)
    return scaled_ ? fmt::format("declared {:g}u scaled, against the exact result",
                                 declared_->max_scaled_u)
                   : fmt::format("declared {:g} ulp, against the exact result", declared_->max_ulp);
  return "default: float32 compute (Blanchard et al. 2021) rounded once, 1/2 ulp + the float32 "
         "bound";
}

template class Tolerances<bf16>;
template class Tolerances<f16>;

template <class T>
Judged judge(const softcheck_kernel_set &set, const Case<T> &c, const T *got, const T *given) {
  std::vector<T> adjusted(given, given + c.output_count());
  apply_conventions(set, c, got, adjusted.data()); // a declared NaN agrees
  const T *ref = adjusted.data();
  const Tolerances<T> t(set, c);
  const long double u = unit_roundoff<T>();
  Judged j;
  j.scaled = !t.elementwise();
  if constexpr (is_half_v<T>) {
    // Against the exact result; infinities past the overflow threshold are
    // an error like any other (tolerance.hpp).
    for (size_t i = 0; i < size_t(c.output_count()); ++i) {
      const float g = got[i], r = ref[i];
      if (same_bits_or_equal(g, r)) continue;
      const double e = t.exact(i);
      if (std::isnan(g) || std::isnan(r) || std::isinf(e)) {
        if (j.specials++ == 0) {
          j.special_output = int64_t(i);
          j.special_reason = t.judge(i, got[i], ref[i]);
        }
        continue;
      }
      const auto a = t.allowance(i, ref[i]);
      const long double err = t.error(i, got[i]);
      const double ratio = a.absolute > 0 ? double(err / a.absolute) : INFINITY;
      const long double unit = j.scaled ? t.scale(i) * u : Tolerances<T>::ulp_at(e);
      const double error = unit > 0 ? double(err / unit) : INFINITY;
      const double allowed = unit > 0 ? double(a.absolute / unit) : 0;
      if (ratio > j.ratio || j.output < 0) {
        j.ratio = ratio;
        j.output = int64_t(i);
        j.error = error;
        j.allowed = allowed;
        j.reason = ratio > 1 ? t.judge(i, got[i], ref[i]) : "";
      }
    }
    return j;
  }
  for (size_t i = 0; i < size_t(c.output_count()); ++i) {
    const T g = got[i], r = ref[i];
    if (g == r || (std::isnan(g) && std::isnan(r))) continue;
    double ratio, error, allowed;
    const auto a = t.allowance(i, r);
    if (!std::isfinite(g) || !std::isfinite(r)) {
      if (j.specials++ == 0) {
        j.special_output = int64_t(i);
        j.special_reason = t.judge(i, g, r);
      }
      continue;
    } else {
      const long double err = std::abs((long double)g - (long double)r);
      if (a.ulp_distance) {
        error = std::abs(double(ulp_distance(g, r)));
        ratio = a.ulps > 0 ? error / a.ulps : INFINITY;
        allowed = a.ulps;
      } else {
        ratio = a.absolute > 0 ? double(err / a.absolute) : INFINITY;
        if (a.scaled) {
          const long double m = t.scale(i) * u;
          const long double excess = err - (long double)spacing(r);
          error = excess <= 0 ? 0.0 : m > 0 ? double(excess / m) : INFINITY;
          allowed = m > 0 ? double((a.absolute - (long double)spacing(r)) / m) : 0;
        } else {
          error = ulp_error(g, r);
          allowed = a.ulps;
        }
      }
    }
    if (ratio > j.ratio || j.output < 0) {
      j.ratio = ratio;
      j.output = int64_t(i);
      j.error = error;
      j.allowed = allowed;
      j.reason = ratio > 1 ? t.judge(i, g, r) : "";
    }
  }
  return j;
}
template Judged judge(const softcheck_kernel_set &, const Case<float> &, const float *,
                      const float *);
template Judged judge(const softcheck_kernel_set &, const Case<double> &, const double *,
                      const double *);
template Judged judge(const softcheck_kernel_set &, const Case<bf16> &, const bf16 *, const bf16 *);
template Judged judge(const softcheck_kernel_set &, const Case<f16> &, const f16 *, const f16 *);

template <class T> std::vector<long double> scaled_magnitudes(const Case<T> &c) {
  const softcheck_kernel_set no_contract{};
  const Tolerances<T> t(no_contract, c);
  if (t.elementwise()) return {};
  std::vector<long double> m(size_t(c.output_count()));
  for (size_t i = 0; i < m.size(); ++i) m[i] = t.scale(i);
  return m;
}
template std::vector<long double> scaled_magnitudes(const Case<float> &);
template std::vector<long double> scaled_magnitudes(const Case<double> &);
template std::vector<long double> scaled_magnitudes(const Case<bf16> &);
template std::vector<long double> scaled_magnitudes(const Case<f16> &);

} // namespace softcheck::props
