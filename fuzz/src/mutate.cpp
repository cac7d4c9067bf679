#include "mutate.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace softcheck::fuzz {
namespace {

constexpr int64_t kMaxClasses = 1024;

template <class T> T special_value(gen::Draw &d) {
  using L = std::numeric_limits<T>;
  const T values[] = {-L::infinity(),  L::quiet_NaN(),   L::infinity(), L::max(), -L::max(),
                      L::denorm_min(), -L::denorm_min(), L::min(),      T(-0.0),  T(0)};
  return values[d.below(std::size(values))];
}

template <class T> T flip_bit(T v, gen::Draw &d) {
  using U = std::conditional_t<sizeof(T) == 2, uint16_t,
                               std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;
  U bits;
  std::memcpy(&bits, &v, sizeof v);
  bits = U(bits ^ (U(1) << d.below(sizeof(T) * 8)));
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

template <class T> T row_max(const Case<T> &c, int64_t r) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t k = 0; k < c.shape.classes; ++k)
    m = std::max(m, c.x[size_t(gen::index_of(c, r, k))]);
  return m;
}

// Inserts a copy of class `from` at `at`, or (remove) drops class `at`.
template <class T> void change_classes(Case<T> &c, int64_t at, int64_t from, bool remove) {
  const int64_t K = c.shape.classes, inner = c.shape.inner, K2 = remove ? K - 1 : K + 1;
  auto remap = [&](std::vector<T> &v) {
    if (v.empty()) return;
    std::vector<T> out;
    out.reserve(size_t(c.shape.outer * K2 * inner));
    for (int64_t o = 0; o < c.shape.outer; ++o)
      for (int64_t k = 0; k < K2; ++k) {
        const int64_t src = remove ? (k < at ? k : k + 1) : (k < at ? k : k == at ? from : k - 1);
        for (int64_t i = 0; i < inner; ++i) out.push_back(v[size_t((o * K + src) * inner + i)]);
      }
    v = std::move(out);
  };
  remap(c.x);
  remap(c.aux);
  if (!c.weight.empty()) {
    if (remove)
      c.weight.erase(c.weight.begin() + at);
    else
      c.weight.insert(c.weight.begin() + at, c.weight[size_t(from)]);
  }
  for (int64_t &t : c.target) {
    if (t == c.ignore_index || t < 0 || t >= K) continue;
    if (remove)
      t = t == at ? 0 : t > at ? t - 1 : t;
    else
      t = t >= at ? t + 1 : t;
  }
  c.shape.classes = K2;
}

// Values of the input arrays the selection does not admit.
template <class T> int64_t outside(const Case<T> &c, const Admits &a) {
  int64_t n = 0;
  auto count = [&](const std::vector<T> &v) {
    for (T e : v)
      if (std::isnan(e) ? !a.nan : std::isinf(e) ? !(e > 0 ? a.pos_inf : a.neg_inf) : false) ++n;
  };
  count(c.x);
  count(c.aux);
  count(c.dout);
  count(c.weight);
  return n;
}

template <class T> const char *mutate_once(Case<T> &c, gen::Draw &d, const Admits &admits) {
  const int64_t K = c.shape.classes, rows = c.rows();
  const bool have_x = !c.x.empty();
  auto any = [&] { return size_t(d.below(int64_t(c.x.size()))); };
  switch (d.below(13)) {
  case 0: {
    if (!have_x) break;
    T &v = c.x[any()];
    v = flip_bit(v, d);
    return "bit flip";
  }
  case 1: {
    if (!have_x) break;
    T &v = c.x[any()];
    v = std::ldexp(v, int(d.below(129)) - 64);
    return "exponent jump";
  }
  case 2:
    if (!have_x) break;
    c.x[any()] = special_value<T>(d);
    return "special value";
  case 3: {
    if (!have_x) break;
    const int64_t r = d.below(rows);
    T v = row_max(c, r);
    if (!std::isfinite(v)) break;
    for (int64_t k = d.below(4); k > 0; --k) v = next_toward(v, T(-std::numeric_limits<T>::max()));
    c.x[size_t(gen::index_of(c, r, d.below(K)))] = v;
    return "toward a tie";
  }
  case 4: {
    if (!have_x) break;
    // Where exp of the gap under- or overflows in float and double, and in
    // f16 (exp overflows past 11.09, is subnormal below -9.70 and 0 below
    // -17.33; bf16 has float's range).
    static constexpr double gaps[] = {15, 30, 60, 87.5, 88.7, 103.5, 104, 110, 200, 708, 745, 746};
    static constexpr double half_gaps[] = {9.7, 11.09, 11.1, 15, 16.6, 17.33, 17.4, 30, 87.5, 88.7};
    const int64_t r = d.below(rows);
    const T m = row_max(c, r);
    if (!std::isfinite(m)) break;
    // One draw a statement: the order of operands is unspecified.
    const double gap = std::is_same_v<T, f16> ? half_gaps[d.below(std::size(half_gaps))]
                                              : gaps[d.below(std::size(gaps))];
    const double g = gap * (d.chance(0.5) ? 1 : -1);
    c.x[size_t(gen::index_of(c, r, d.below(K)))] = T(double(m) + g);
    return "large gap";
  }
  case 5: {
    if (!have_x) break;
    static constexpr double scales[] = {2, 0.5, 16, 0.0625, 1e3, 1e-3, -1, 1e30, 1e-30};
    const int64_t r = d.below(rows);
    const T s = T(scales[d.below(std::size(scales))]);
    for (int64_t k = 0; k < K; ++k) c.x[size_t(gen::index_of(c, r, k))] *= s;
    return "scale a row";
  }
  case 6: {
    if (!have_x) break;
    const int64_t r = d.below(rows);
    const int64_t o = r / c.shape.inner, i = r % c.shape.inner;
    const gen::Regime g = admits.regimes[size_t(d.below(int64_t(admits.regimes.size())))];
    gen::fill_row(d, g, c.x.data() + o * K * c.shape.inner + i, K, c.shape.inner);
    return "redraw a row";
  }
  case 7:
    if (K < 1 || K >= kMaxClasses) break;
    {
      const int64_t at = d.below(K + 1), like = d.below(K); // (in this order, on every compiler)
      change_classes(c, at, like, false);
    }
    return "one more class";
  case 8:
    if (K < 2) break;
    change_classes(c, d.below(K), 0, true);
    return "one class fewer";
  case 9: {
    if (!c.is_loss()) break;
    switch (d.below(7)) {
    case 0: {
      const Reduction old = c.reduction;
      c.reduction = Reduction(d.below(3));
      if ((old == Reduction::none) != (c.reduction == Reduction::none))
        c.dout.assign(size_t(c.reduction == Reduction::none ? rows : 1), T(1));
      break;
    }
    case 1: {
      static constexpr double eps[] = {0, 0.1, 0.5, 1, 1e-30};
      c.label_smoothing = eps[d.below(std::size(eps))];
      break;
    }
    case 2:
      if (!c.target.empty()) c.target[size_t(d.below(rows))] = c.ignore_index;
      break;
    case 3:
      if (c.weight.empty())
        c.weight.assign(size_t(K), T(1));
      else
        c.weight[size_t(d.below(K))] = d.chance(0.5) ? T(0) : T(-d.uniform() * 2);
      break;
    case 4:
      if (!c.target.empty()) c.target[size_t(d.below(rows))] = d.below(K);
      break;
    case 5: {
      // Another ignore_index (a class, or another negative), the rows
      // ignored before still ignored.
      if (c.target.empty() || c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB ||
          c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD)
        break;
      const int64_t ignore = d.chance(0.5) ? d.below(K) : -1 - d.below(3);
      for (int64_t &t : c.target)
        if (t == c.ignore_index) t = ignore;
      c.ignore_index = ignore;
      break;
    }
    default:
      // Out of range: the kernel must refuse it as the oracle does.
      if (!c.target.empty()) c.target[size_t(d.below(rows))] = d.chance(0.5) ? K : -7;
      break;
    }
    return "options";
  }
  case 10: {
    if (c.aux.empty()) break;
    T &v = c.aux[size_t(d.below(int64_t(c.aux.size())))];
    v = d.chance(0.5) ? special_value<T>(d) : flip_bit(v, d);
    return "aux";
  }
  case 11:
    if (c.dout.empty()) break;
    c.dout[size_t(d.below(int64_t(c.dout.size())))] =
        d.chance(0.3) ? special_value<T>(d) : T(d.normal(1e3));
    return "dout";
  default:
    if (!have_x) break;
    {
      const T scale = T(d.normal(1));
      c.x[any()] = scale * std::numeric_limits<T>::denorm_min() * T(d.below(64));
    }
    return "subnormal";
  }
  return nullptr;
}

} // namespace

Admits Admits::of(const std::vector<gen::Regime> &selected) {
  Admits a;
  if (selected.empty()) {
    for (int g = 0; g < gen::kRegimes; ++g) a.regimes.push_back(gen::Regime(g));
    return a;
  }
  a.regimes = selected;
  a.nan = a.pos_inf = a.neg_inf = false;
  for (gen::Regime g : selected) {
    a.nan = a.nan || g == gen::Regime::nan_inside;
    a.pos_inf = a.pos_inf || g == gen::Regime::inf_inside;
    a.neg_inf = a.neg_inf || g == gen::Regime::masked || g == gen::Regime::fully_masked;
  }
  return a;
}

template <class T> std::string mutate(Case<T> &c, gen::Draw &d, const Admits &admits) {
  std::string names;
  for (int64_t n = 1 + d.below(3), tries = 0; n > 0 && tries < 20; ++tries) {
    // Undone when it brings in a value no selected regime has (the case's
    // own such values, e.g. a log-probability that underflowed to -inf,
    // stay).
    const bool restricted = !admits.all();
    Case<T> before = restricted ? c : Case<T>{};
    const char *name = mutate_once(c, d, admits);
    if (restricted && name != nullptr && outside(c, admits) > outside(before, admits)) {
      c = std::move(before);
      name = nullptr;
    }
    if (name != nullptr) {
      names += (names.empty() ? "" : "+") + std::string(name);
      --n;
    }
  }
  return names;
}

template std::string mutate(Case<float> &, gen::Draw &, const Admits &);
template std::string mutate(Case<double> &, gen::Draw &, const Admits &);
template std::string mutate(Case<bf16> &, gen::Draw &, const Admits &);
template std::string mutate(Case<f16> &, gen::Draw &, const Admits &);

} // namespace softcheck::fuzz
