#include <softcheck/generators.hpp>

#include <softcheck/oracle.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace softcheck::gen {

const char *regime_name(Regime r) {
  switch (r) {
  case Regime::normal1: return "N(0,1)";
  case Regime::normal30: return "N(0,30)";
  case Regime::normal1000: return "N(0,1000)";
  case Regime::uniform_wide: return "uniform wide";
  case Regime::near_max: return "near max";
  case Regime::dominant: return "dominant logit";
  case Regime::ties: return "ties";
  case Regime::near_ties: return "near ties";
  case Regime::tiny_differences: return "tiny differences";
  case Regime::lse_near_zero: return "lse near 0";
  case Regime::bit_patterns: return "bit patterns";
  case Regime::masked: return "masked";
  case Regime::fully_masked: return "fully masked";
  case Regime::nan_inside: return "NaN inside";
  case Regime::inf_inside: return "+inf inside";
  }
  return "?";
}

const char *regime_id(Regime r) {
  switch (r) {
  case Regime::normal1: return "normal1";
  case Regime::normal30: return "normal30";
  case Regime::normal1000: return "normal1000";
  case Regime::uniform_wide: return "uniform_wide";
  case Regime::near_max: return "near_max";
  case Regime::dominant: return "dominant";
  case Regime::ties: return "ties";
  case Regime::near_ties: return "near_ties";
  case Regime::tiny_differences: return "tiny_differences";
  case Regime::lse_near_zero: return "lse_near_zero";
  case Regime::bit_patterns: return "bit_patterns";
  case Regime::masked: return "masked";
  case Regime::fully_masked: return "fully_masked";
  case Regime::nan_inside: return "nan_inside";
  case Regime::inf_inside: return "inf_inside";
  }
  return "?";
}

bool regime_from_id(const std::string &id, Regime &out) {
  for (int i = 0; i < kRegimes; ++i)
    if (id == regime_id(Regime(i))) {
      out = Regime(i);
      return true;
    }
  return false;
}

bool is_special(Regime r) {
  return r == Regime::masked || r == Regime::fully_masked || r == Regime::nan_inside ||
         r == Regime::inf_inside;
}

std::vector<Regime> finite_regimes() {
  std::vector<Regime> v;
  for (int i = 0; i < kRegimes; ++i)
    if (!is_special(Regime(i))) v.push_back(Regime(i));
  return v;
}

std::vector<Regime> moderate_regimes() {
  return {Regime::normal1, Regime::normal30, Regime::ties, Regime::near_ties};
}

namespace {

template <class T> T from_bits(Draw &d) {
  using U = std::conditional_t<sizeof(T) == 2, uint16_t,
                               std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;
  for (;;) {
    U bits = U(d.rng());
    T v;
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) return v;
  }
}

// Classes: small and prime sizes most of the time, a thousand sometimes,
// and past 100k rarely (once RapidCheck's size has grown).
int64_t draw_classes(Draw &d, int size, const Spec &spec) {
  static constexpr int64_t menu[] = {1, 2, 3, 5, 7, 11, 13, 31, 64, 97, 128, 257, 1000};
  if (spec.large_rows && size >= 50 && d.chance(0.01)) return 100003;
  // Past 4096 classes, where a single accumulator in the working precision
  // drifts tens of ulps from the correctly rounded sum (a random walk of
  // about sqrt(n) roundings): drawn in every 25th case once the size has
  // grown, for the properties that ask (the oracle's comparison).
  if (spec.long_rows && size >= 20 && d.chance(0.04)) return d.chance(0.7) ? 4099 : 16411;
  const int64_t limit = 1 + (size * int64_t(std::size(menu))) / 100;
  return menu[d.below(std::min<int64_t>(limit + 1, std::size(menu)))];
}

} // namespace

template <class T> void fill_row(Draw &d, Regime r, T *row, int64_t n, int64_t stride) {
  const T big = std::numeric_limits<T>::max();
  auto at = [&](int64_t c) -> T & { return row[c * stride]; };
  switch (r) {
  case Regime::normal1:
  case Regime::normal30:
  case Regime::normal1000: {
    double s = r == Regime::normal1 ? 1 : r == Regime::normal30 ? 30 : 1000;
    for (int64_t c = 0; c < n; ++c) at(c) = T(d.normal(s));
    break;
  }
  case Regime::uniform_wide:
    for (int64_t c = 0; c < n; ++c) at(c) = T((d.uniform() * 2 - 1) * 1e4);
    break;
  case Regime::near_max:
    // Half within 1e-3 of +-big, half spread over the top 64 binades: rows
    // such as [DBL_MAX, 0.6 DBL_MAX] or [2^970, -DBL_MAX], whose x - max
    // is past the range, or inexact, or overflows inside an exact split.
    // (One draw per statement: the order of a call's arguments, or of the
    // operands of *, is unspecified, and compilers differ.)
    for (int64_t c = 0; c < n; ++c) {
      const double sign = d.chance(0.5) ? 1 : -1;
      if (d.chance(0.5)) {
        at(c) = T(sign * double(big) * (1 - d.uniform() * 1e-3));
      } else {
        const double mantissa = 0.5 + 0.5 * d.uniform();
        const int down = int(d.chance(0.5) ? d.below(3) : d.below(64));
        at(c) = T(sign * std::ldexp(double(big) * mantissa, -down));
      }
    }
    break;
  case Regime::dominant: {
    for (int64_t c = 0; c < n; ++c) at(c) = T(d.normal(1));
    at(d.below(n)) = T(15 + d.uniform() * 185);
    break;
  }
  case Regime::ties:
    for (int64_t c = 0; c < n; ++c) at(c) = T(std::round(d.normal(2)));
    break;
  case Regime::near_ties: {
    T base = T(d.normal(10));
    for (int64_t c = 0; c < n; ++c) {
      T v = base;
      for (int64_t k = d.below(4); k > 0; --k) v = next_toward(v, d.chance(0.5) ? big : T(-big));
      at(c) = v;
    }
    break;
  }
  case Regime::tiny_differences: {
    T base = d.chance(0.5) ? T(0) : T(d.normal(1));
    for (int64_t c = 0; c < n; ++c) {
      const T scale = T(d.normal(1)); // before the count, on every compiler
      at(c) = base + scale * std::numeric_limits<T>::denorm_min() * T(d.below(1000));
    }
    break;
  }
  case Regime::lse_near_zero: {
    // lse = m + log1p(exp(p - m) + ...) = 0 for the partner p = m +
    // log(expm1(-m)) when m is in (-log 2, 0); p is rounded and nudged a
    // few ulps, so lse is a tiny value made of terms near |m|: the sum
    // cancels by up to the format's whole precision and more. Any other
    // entries are far below (terms under 2^-60 of the partner's).
    const double fraction = d.uniform();
    const int down = int(d.below(60));
    const double m = double(T(-0.6931 * fraction * std::ldexp(1.0, -down)));
    T pm = T(m + std::log(std::expm1(-m)));
    for (int64_t k = d.below(5) - 2; k != 0; k += k > 0 ? -1 : 1)
      pm = next_toward(pm, k > 0 ? big : T(-big));
    for (int64_t c = 0; c < n; ++c) at(c) = T(double(pm) - 42 - 30 * d.uniform());
    const int64_t i = d.below(n);
    at(i) = T(m);
    if (n > 1) at((i + 1 + d.below(n - 1)) % n) = pm;
    break;
  }
  case Regime::bit_patterns:
    for (int64_t c = 0; c < n; ++c) at(c) = from_bits<T>(d);
    break;
  case Regime::masked:
    for (int64_t c = 0; c < n; ++c)
      at(c) = d.chance(0.4) ? -std::numeric_limits<T>::infinity() : T(d.normal(5));
    break;
  case Regime::fully_masked:
    for (int64_t c = 0; c < n; ++c) at(c) = -std::numeric_limits<T>::infinity();
    break;
  case Regime::nan_inside:
    for (int64_t c = 0; c < n; ++c) at(c) = T(d.normal(3));
    at(d.below(n)) = std::numeric_limits<T>::quiet_NaN();
    break;
  case Regime::inf_inside:
    for (int64_t c = 0; c < n; ++c) at(c) = T(d.normal(3));
    at(d.below(n)) = std::numeric_limits<T>::infinity();
    break;
  }
}

template <class T> Case<T> draw_case(Draw &d, softcheck_op op, const Spec &spec, int size) {
  Case<T> c;
  c.op = op;
  const int64_t classes = draw_classes(d, size, spec);
  const bool big = classes > 1000;
  const int64_t inner = !spec.inner || big || d.chance(0.7) ? 1 : 2 + d.below(2);
  const int64_t outer = big ? 1 : 1 + d.below(3);
  c.shape = {outer, classes, inner};
  c.x.resize(size_t(c.elems()));
  const auto &regimes = spec.regimes;
  for (int64_t r = 0; r < c.rows(); ++r) {
    Regime g = regimes.empty() ? Regime(d.below(kRegimes))
                               : regimes[size_t(d.below(int64_t(regimes.size())))];
    const int64_t o = r / inner, i = r % inner;
    fill_row(d, g, c.x.data() + o * classes * inner + i, classes, inner);
  }
  // Loss options.
  if (!spec.plain_options) {
    c.reduction = Reduction(d.below(3));
    double e = d.uniform();
    c.label_smoothing = e < 0.5 ? 0.0 : e < 0.6 ? 1.0 : d.uniform();
    if (d.chance(0.4)) {
      c.weight.resize(size_t(classes));
      for (T &w : c.weight) {
        if (d.chance(0.15)) {
          w = T(0);
          continue;
        }
        const double magnitude = d.uniform() * 3; // before the sign, on every compiler
        w = T(magnitude * (spec.nonnegative_weights || d.chance(0.9) ? 1 : -1));
      }
    }
  } else {
    c.reduction = Reduction::sum;
  }
  c.target.resize(size_t(c.rows()));
  for (int64_t &t : c.target) {
    double p = d.uniform();
    if (!spec.plain_options && p < 0.1)
      t = c.ignore_index;
    else if (p < 0.2)
      t = 0;
    else if (p < 0.3)
      t = classes - 1;
    else
      t = d.below(classes);
  }
  // dy for the softmax backward ops; probability targets.
  c.aux.resize(c.x.size());
  if (op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD) {
    for (int64_t r = 0; r < c.rows(); ++r) {
      const int64_t o = r / inner, i = r % inner;
      T *p = c.aux.data() + o * classes * inner + i;
      const double kind = d.uniform();
      double total = 0;
      for (int64_t k = 0; k < classes; ++k) {
        double v = kind < 0.3 ? 0.0 : d.uniform();
        p[k * inner] = T(v);
        total += v;
      }
      if (kind < 0.3)
        p[d.below(classes) * inner] = T(1); // one-hot
      else if (kind < 0.9)
        for (int64_t k = 0; k < classes; ++k) p[k * inner] = T(double(p[k * inner]) / total);
      // else: as drawn, not summing to 1 (used as written)
    }
  } else {
    for (T &v : c.aux) v = d.chance(0.1) ? T(0) : T(d.normal(1));
  }
  c.dout.resize(size_t(c.reduction == Reduction::none ? c.rows() : 1));
  for (T &v : c.dout) v = d.chance(0.5) ? T(1) : T(d.normal(1));
  // An ignore_index other than PyTorch's -100, half the time one that is a
  // class (then the rows whose target is that class are ignored, as in
  // PyTorch): a kernel that compares against -100, or skips the test for
  // targets in range, fails. Drawn last, so the draws above are those of a
  // case with the default.
  if (!spec.plain_options &&
      (op == SOFTCHECK_OP_NLL_LOSS || op == SOFTCHECK_OP_NLL_LOSS_BACKWARD ||
       op == SOFTCHECK_OP_CROSS_ENTROPY || op == SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD)) {
    const double p = d.uniform();
    if (p >= 0.6) {
      const int64_t ignore = p < 0.7 ? -1 : p < 0.8 ? 0 : p < 0.9 ? classes - 1 : d.below(classes);
      for (int64_t &t : c.target)
        if (t == c.ignore_index) t = ignore;
      c.ignore_index = ignore;
    }
  }
  oracle::logits_to_forward_output(c); // the softmax backward ops take a forward output
  return c;
}

namespace {

// Simpler versions of one value: 0, the integer part, fewer significant bits.
template <class T> std::vector<T> simpler(T v) {
  std::vector<T> out;
  if (!std::isfinite(v) || v == 0) return out;
  out.push_back(T(0));
  T t = std::trunc(v);
  if (t != v) out.push_back(t);
  for (int bits : {1, 2, 4, 8}) {
    int e = std::ilogb(v);
    T scale = std::ldexp(T(1), bits - 1 - e);
    if (!std::isfinite(scale) || scale == 0) continue;
    T r = std::round(v * scale) / scale;
    if (std::isfinite(r) && r != v && std::find(out.begin(), out.end(), r) == out.end())
      out.push_back(r);
  }
  return out;
}

} // namespace

template <class T> Case<T> only_rows(const Case<T> &c, const std::vector<int64_t> &keep) {
  Case<T> s = c;
  const int64_t K = c.shape.classes;
  s.shape = {int64_t(keep.size()), K, 1};
  s.x.clear();
  s.aux.clear();
  s.target.clear();
  for (int64_t r : keep) {
    for (int64_t k = 0; k < K; ++k) {
      s.x.push_back(c.x[size_t(index_of(c, r, k))]);
      if (!c.aux.empty()) s.aux.push_back(c.aux[size_t(index_of(c, r, k))]);
    }
    if (!c.target.empty()) s.target.push_back(c.target[size_t(r)]);
  }
  if (c.reduction == Reduction::none) {
    s.dout.clear();
    for (int64_t r : keep)
      if (size_t(r) < c.dout.size()) s.dout.push_back(c.dout[size_t(r)]);
  }
  return s;
}

namespace {

// The case without the classes in [from, to).
template <class T> Case<T> drop_classes(const Case<T> &c, int64_t from, int64_t to) {
  Case<T> s = c;
  const int64_t K = c.shape.classes, removed = to - from;
  s.shape.classes = K - removed;
  s.x.clear();
  s.aux.clear();
  for (int64_t o = 0; o < c.shape.outer; ++o)
    for (int64_t k = 0; k < K; ++k)
      if (k < from || k >= to)
        for (int64_t i = 0; i < c.shape.inner; ++i) {
          size_t at = size_t((o * K + k) * c.shape.inner + i);
          s.x.push_back(c.x[at]);
          if (!c.aux.empty()) s.aux.push_back(c.aux[at]);
        }
  if (!c.weight.empty()) {
    s.weight.clear();
    for (int64_t k = 0; k < K; ++k)
      if (k < from || k >= to) s.weight.push_back(c.weight[size_t(k)]);
  }
  for (int64_t &t : s.target) {
    if (t == c.ignore_index) continue;
    if (t >= to)
      t -= removed;
    else if (t >= from)
      t = 0;
  }
  return s;
}

} // namespace

template <class T> std::vector<Case<T>> shrink_candidates(const Case<T> &c) {
  std::vector<Case<T>> out;
  const int64_t rows = c.rows(), K = c.shape.classes;
  // Fewer rows: every row alone (the first 256), then each half, then every
  // row left out (up to 16 rows), so no row a failure does not need stays.
  if (rows > 1) {
    for (int64_t r = 0; r < std::min<int64_t>(rows, 256); ++r) out.push_back(only_rows(c, {r}));
    if (rows > 2) {
      std::vector<int64_t> first, second;
      for (int64_t r = 0; r < rows; ++r) (r < rows / 2 ? first : second).push_back(r);
      out.push_back(only_rows(c, first));
      out.push_back(only_rows(c, second));
    }
    if (rows > 2 && rows <= 16)
      for (int64_t leave = 0; leave < rows; ++leave) {
        std::vector<int64_t> keep;
        for (int64_t r = 0; r < rows; ++r)
          if (r != leave) keep.push_back(r);
        out.push_back(only_rows(c, keep));
      }
  } else if (c.shape.inner != 1) {
    out.push_back(only_rows(c, {0}));
  }
  // Fewer classes: halves of a big row, then single classes.
  if (K > 1) {
    if (K > 8) {
      out.push_back(drop_classes(c, K / 2, K));
      out.push_back(drop_classes(c, 0, K / 2));
    }
    for (int64_t k : {K - 1, int64_t(0), K / 2})
      if (k >= 0 && k < K && K <= 64) out.push_back(drop_classes(c, k, k + 1));
  }
  // Plainer options.
  if (c.is_loss()) {
    if (c.ignore_index != Case<T>{}.ignore_index) { // the default, for the rows it ignores
      Case<T> s = c;
      s.ignore_index = Case<T>{}.ignore_index;
      for (int64_t &t : s.target)
        if (t == c.ignore_index) t = s.ignore_index;
      out.push_back(std::move(s));
    }
    if (c.label_smoothing != 0) {
      out.push_back(c);
      out.back().label_smoothing = 0;
    }
    if (!c.weight.empty()) {
      out.push_back(c);
      out.back().weight.clear();
    }
    if (c.reduction != Reduction::none) {
      Case<T> s = c;
      s.reduction = Reduction::none;
      s.dout.assign(size_t(rows), c.dout.empty() ? T(1) : c.dout[0]);
      out.push_back(s);
    }
    bool any_dout = false;
    for (T v : c.dout) any_dout = any_dout || v != 1;
    if (any_dout) {
      out.push_back(c);
      std::fill(out.back().dout.begin(), out.back().dout.end(), T(1));
    }
  }
  // Rounder values: the whole row at once, then one value at a time.
  if (c.x.size() <= 64) {
    for (int bits : {1, 4}) {
      Case<T> s = c;
      bool changed = false;
      for (T &v : s.x)
        if (std::isfinite(v) && v != 0) {
          T scale = std::ldexp(T(1), bits - 1 - std::ilogb(v));
          T r = std::isfinite(scale) && scale != 0 ? T(std::round(v * scale) / scale) : v;
          if (std::isfinite(r) && r != v) v = r, changed = true;
        }
      if (changed) out.push_back(s);
    }
    for (size_t i = 0; i < c.x.size(); ++i)
      for (T v : simpler(c.x[i])) {
        out.push_back(c);
        out.back().x[i] = v;
      }
    if (c.op == SOFTCHECK_OP_SOFTMAX_BACKWARD || c.op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD)
      for (size_t i = 0; i < c.aux.size(); ++i)
        for (T v : simpler(c.aux[i])) {
          out.push_back(c);
          out.back().aux[i] = v;
        }
  }
  return out;
}

#define SOFTCHECK_GEN_INSTANTIATE(T)                                                               \
  template void fill_row<T>(Draw &, Regime, T *, int64_t, int64_t);                                \
  template Case<T> draw_case<T>(Draw &, softcheck_op, const Spec &, int);                          \
  template std::vector<Case<T>> shrink_candidates<T>(const Case<T> &);                             \
  template Case<T> only_rows<T>(const Case<T> &, const std::vector<int64_t> &);
SOFTCHECK_GEN_INSTANTIATE(float)
SOFTCHECK_GEN_INSTANTIATE(double)
SOFTCHECK_GEN_INSTANTIATE(bf16)
SOFTCHECK_GEN_INSTANTIATE(f16)
#undef SOFTCHECK_GEN_INSTANTIATE

} // namespace softcheck::gen
