// The properties: each a named check of one piece of math, run by
// RapidCheck over generated cases, with shrinking to a minimal
// counterexample. The bounds they use come from tolerance.hpp.
#include "rc_cases.hpp"
#include "tolerance.hpp"

#include <softcheck/case_io.hpp>
#include <softcheck/guarded.hpp>
#include <softcheck/oracle.hpp>
#include <softcheck/properties.hpp>
#include <softcheck/text.hpp>

#include <fmt/core.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <numeric>

namespace softcheck {
// RapidCheck prints generated values with showValue, found by ADL: a case
// prints as its case file.
template <class T> void showValue(const Case<T> &c, std::ostream &os) { os << to_text(c); }
} // namespace softcheck

namespace softcheck::props {
namespace {

template <class T> struct Env {
  const softcheck_kernel_set &set;
  const softcheck_ops &ops;
};

// A case's verdict: failure empty means it passed; discard means the case
// does not apply (RapidCheck draws another).
struct Check {
  std::string failure;
  bool discard = false;
  // For a failure on an input the property derived from the drawn case (a
  // permutation, a NaN put in, a slice): that input, as a case file.
  std::string called_with;
  static Check pass() { return {}; }
  static Check skip() { return {"", true, ""}; }
  static Check fail(std::string why) { return {std::move(why), false, ""}; }
  template <class T> static Check fail_on(const Case<T> &derived, std::string why) {
    return {std::move(why), false, to_text(derived)};
  }
};

template <class T> Status run(const Env<T> &env, const Case<T> &c, std::vector<T> &out) {
  out.assign(size_t(c.output_count()), std::numeric_limits<T>::quiet_NaN());
  return call(env.set, c, out.data());
}

template <class T> std::vector<T> reference(const Case<T> &c) {
  std::vector<T> out(size_t(c.output_count()));
  oracle::call(c, out.data());
  return out;
}

template <class T> bool same_bits(T a, T b) { return std::memcmp(&a, &b, sizeof a) == 0; }

using gen::index_of;

template <class T> bool row_finite(const Case<T> &c, int64_t r) {
  for (int64_t k = 0; k < c.shape.classes; ++k)
    if (!std::isfinite(c.x[size_t(index_of(c, r, k))])) return false;
  return true;
}

// A case the kernel declines (SOFTCHECK_ERR_UNSUPPORTED on a valid case,
// plugin.h) is not held against it: RapidCheck draws another, the outcome
// counts it as declined, and a property that never finds a case the kernel
// accepts is reported as skipped. `report` and `fuzz` count such cases as
// declined too, outside every figure.
struct Declined {};

// A kernel must accept every valid case.
template <class T> std::string status_problem(Status s) {
  if (s == SOFTCHECK_ERR_UNSUPPORTED) throw Declined{};
  return s == SOFTCHECK_OK
             ? ""
             : fmt::format("returned status '{}' on a valid input", softcheck_status_name(s));
}

// Output i, with its position spelled out where rows are strided (inner >
// 1): x and elementwise outputs are [outer, classes, inner], per-row
// outputs [outer, inner].
template <class T> std::string where(const Case<T> &c, size_t i) {
  const int64_t K = c.shape.classes, inner = c.shape.inner, n = int64_t(i);
  if (inner > 1 && c.output_count() == c.elems())
    return fmt::format("output [{}] (outer {}, class {}, inner {}): ", i, n / (K * inner),
                       n / inner % K, n % inner);
  if (inner > 1 && c.output_count() == c.rows())
    return fmt::format("output [{}] (outer {}, inner {}): ", i, n / inner, n % inner);
  return fmt::format("output [{}]: ", i);
}

// ------------------------------------------------------------ the checks

// Headroom: on the passing case that came closest to its bound, the error
// oracle_agreement measured and the bound there, and the largest bound that
// applied (one run).
struct Headroom {
  double ratio = 0, error = 0, allowed_there = 0, largest_bound = 0;
  bool scaled = false, any = false;
};
thread_local Headroom g_headroom;

template <class T> Check oracle_agreement(const Env<T> &env, const Case<T> &c) {
  std::vector<T> got;
  if (auto p = status_problem<T>(run(env, c, got)); !p.empty()) return Check::fail(p);
  std::vector<T> ref = reference(c);
  apply_conventions(env.set, c, got.data(), ref.data()); // a declared NaN agrees
  Tolerances<T> tol(env.set, c);
  {
    const Judged j = judge(env.set, c, got.data(), ref.data());
    Headroom &h = g_headroom;
    if (j.output < 0 && !h.any) { // every output exactly the correctly rounded one
      h.scaled = j.scaled;
      h.any = true;
    } else if (j.output >= 0 && j.ratio <= 1 && std::isfinite(j.error) && j.ratio >= h.ratio &&
               (!h.any || j.scaled == h.scaled)) {
      h.ratio = j.ratio; // the case closest to its bound
      h.error = j.error;
      h.allowed_there = j.allowed;
      h.scaled = j.scaled;
      h.any = true;
    }
    if (!j.scaled)
      for (size_t i = 0; i < got.size(); ++i)
        if (std::isfinite(ref[i]))
          h.largest_bound = std::max(h.largest_bound, double(tol.allowance(i, ref[i]).ulps));
  }
  for (size_t i = 0; i < got.size(); ++i)
    if (auto why = tol.judge(i, got[i], ref[i]); !why.empty())
      return Check::fail(fmt::format("{}got {}, expected {} (correctly rounded): {}", where(c, i),
                                     format_value(got[i]), format_value(ref[i]), why));
  return Check::pass();
}

template <class T> Check inputs_unchanged(const Env<T> &env, const Case<T> &c) {
  Case<T> copy = c;
  std::vector<T> out(size_t(c.output_count()));
  if (auto p = status_problem<T>(call(env.set, copy, out.data())); !p.empty())
    return Check::fail(p);
  auto same_vec = [](const std::vector<T> &a, const std::vector<T> &b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
  };
  if (!same_vec(copy.x, c.x)) return Check::fail("the kernel wrote into its input x");
  if (!same_vec(copy.aux, c.aux))
    return Check::fail("the kernel wrote into its input (dy or targets)");
  if (!same_vec(copy.dout, c.dout)) return Check::fail("the kernel wrote into dout");
  if (!same_vec(copy.weight, c.weight)) return Check::fail("the kernel wrote into the weights");
  if (copy.target != c.target) return Check::fail("the kernel wrote into the targets");
  return Check::pass();
}

template <class T> Check softmax_in_unit_interval(const Env<T> &env, const Case<T> &c) {
  std::vector<T> y;
  if (auto p = status_problem<T>(run(env, c, y)); !p.empty()) return Check::fail(p);
  for (size_t i = 0; i < y.size(); ++i)
    if (!(y[i] >= 0 && y[i] <= 1))
      return Check::fail(fmt::format("{}{} is outside [0, 1]", where(c, i), format_value(y[i])));
    else if (std::signbit(y[i])) // exp(d) / S >= +0: a -0 came from a negative factor
      return Check::fail(fmt::format("{}-0: a zero probability is +0", where(c, i)));
  return Check::pass();
}

template <class T> Check softmax_sums_to_one(const Env<T> &env, const Case<T> &c) {
  std::vector<T> y;
  if (auto p = status_problem<T>(run(env, c, y)); !p.empty()) return Check::fail(p);
  Tolerances<T> tol(env.set, c);
  for (int64_t r = 0; r < c.rows(); ++r) {
    bool all_masked = true;
    for (int64_t k = 0; k < c.shape.classes; ++k)
      all_masked =
          all_masked && c.x[size_t(index_of(c, r, k))] == -std::numeric_limits<T>::infinity();
    if (all_masked) continue; // 0 everywhere, by definition
    // Each y_c is within its bound of the exact value; the exact values sum
    // to 1; the sum here is in long double (error n 2^-64, negligible).
    long double sum = 0, allowed = 0;
    for (int64_t k = 0; k < c.shape.classes; ++k) {
      size_t i = size_t(index_of(c, r, k));
      sum += y[i];
      allowed += tol.abs_error(i, y[i]);
    }
    allowed += c.shape.classes * 0x1p-62L;
    if (!(std::abs(sum - 1) <= allowed))
      return Check::fail(fmt::format("row {} sums to {:.17g}; |sum - 1| may be at most {:.3g}", r,
                                     double(sum), double(allowed)));
  }
  return Check::pass();
}

template <class T> Case<T> as_op(Case<T> c, softcheck_op op) {
  c.op = op;
  return c;
}

template <class T> Check exp_log_softmax_is_softmax(const Env<T> &env, const Case<T> &c) {
  Case<T> lc = as_op(c, SOFTCHECK_OP_LOG_SOFTMAX);
  std::vector<T> y, l;
  if (auto p = status_problem<T>(run(env, c, y)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, lc, l)); !p.empty())
    return Check::fail("log_softmax " + p);
  Tolerances<T> ts(env.set, c), tl(env.set, lc);
  for (size_t i = 0; i < y.size(); ++i) {
    // |exp(l) - exp(l*)| <= exp(l) (e^dl - 1) for |l - l*| <= dl.
    long double e = std::exp((long double)l[i]);
    if (e == (long double)y[i]) continue;
    long double dl = std::min(tl.abs_error(i, l[i]), 64.0L);
    long double allowed = ts.abs_error(i, y[i]) + e * std::expm1(dl) + 0x1p-60L * e;
    if (!(std::abs(e - (long double)y[i]) <= allowed))
      return Check::fail(fmt::format(
          "{}softmax {} but exp(log_softmax) = {:.17g} (log_softmax {}); "
          "allowed difference {:.3g}",
          where(c, i), format_value(y[i]), double(e), format_value(l[i]), double(allowed)));
  }
  return Check::pass();
}

// A power of two c such that x + c is exact for every x of the case.
template <class T> bool exact_shift(const Case<T> &c, T &shift) {
  for (int j : {4, -3, 10, 0, 1}) {
    for (T sign : {T(1), T(-1)}) {
      T s = sign * std::ldexp(T(1), j);
      bool ok = true;
      for (T x : c.x) {
        // In T itself: a half's sum is a float until it is stored, and
        // exactly (a rounded sum can round back: 64 - 1/8 in bf16).
        const T y = T(x + s);
        const bool exact = is_half_v<T> ? double(y) == double(x) + double(s) : T(y - s) == x;
        if (!std::isfinite(y) || !exact) {
          ok = false;
          break;
        }
      }
      if (ok) {
        shift = s;
        return true;
      }
    }
  }
  return false;
}

template <class T> Check shift_invariance(const Env<T> &env, const Case<T> &c) {
  T s;
  if (!exact_shift(c, s)) return Check::skip();
  Case<T> sc = c;
  for (T &x : sc.x) x += s;
  std::vector<T> a, b;
  if (auto p = status_problem<T>(run(env, c, a)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, sc, b)); !p.empty()) return Check::fail(p);
  Tolerances<T> ta(env.set, c), tb(env.set, sc);
  const bool lse = c.op == SOFTCHECK_OP_LOGSUMEXP;
  for (size_t i = 0; i < a.size(); ++i) {
    long double expect = (long double)a[i] + (lse ? (long double)s : 0.0L);
    long double allowed = ta.abs_error(i, a[i]) + tb.abs_error(i, b[i]);
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (!(std::abs((long double)b[i] - expect) <= allowed) && !(a[i] == b[i] && !lse))
      return Check::fail(fmt::format("{}shifting every logit by {} moved {} to {}", where(c, i),
                                     format_value(s), format_value(a[i]), format_value(b[i])));
  }
  return Check::pass();
}

template <class T> Check permutation_equivariance(const Env<T> &env, const Case<T> &c) {
  const int64_t K = c.shape.classes;
  if (K < 2) return Check::skip();
  std::vector<int64_t> perm(static_cast<size_t>(K));
  std::iota(perm.begin(), perm.end(), 0);
  std::reverse(perm.begin(), perm.end());
  if (K > 2) std::rotate(perm.begin(), perm.begin() + 1, perm.end());
  Case<T> pc = c;
  for (int64_t r = 0; r < c.rows(); ++r)
    for (int64_t k = 0; k < K; ++k)
      pc.x[size_t(index_of(c, r, k))] = c.x[size_t(index_of(c, r, perm[size_t(k)]))];
  std::vector<T> a, b;
  if (auto p = status_problem<T>(run(env, c, a)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, pc, b)); !p.empty()) return Check::fail(p);
  Tolerances<T> ta(env.set, c), tb(env.set, pc);
  for (int64_t r = 0; r < c.rows(); ++r) {
    if (c.op == SOFTCHECK_OP_LOGSUMEXP) {
      size_t i = size_t(r);
      if (std::isnan(a[i]) && std::isnan(b[i])) continue;
      if (!(std::abs((long double)a[i] - b[i]) <= ta.abs_error(i, a[i]) + tb.abs_error(i, b[i])) &&
          a[i] != b[i])
        return Check::fail_on(pc, fmt::format("row {}: permuting the classes changed {} to {}", r,
                                              format_value(a[i]), format_value(b[i])));
      continue;
    }
    for (int64_t k = 0; k < K; ++k) {
      size_t i = size_t(index_of(c, r, perm[size_t(k)])), j = size_t(index_of(c, r, k));
      if (std::isnan(a[i]) && std::isnan(b[j])) continue;
      if (a[i] != b[j] &&
          !(std::abs((long double)a[i] - b[j]) <= ta.abs_error(i, a[i]) + tb.abs_error(j, b[j])))
        return Check::fail_on(pc,
                              fmt::format("row {}: class {} gives {} but {} after a permutation", r,
                                          perm[size_t(k)], format_value(a[i]), format_value(b[j])));
    }
  }
  return Check::pass();
}

template <class T> Check monotonicity(const Env<T> &env, const Case<T> &c) {
  std::vector<T> y;
  if (auto p = status_problem<T>(run(env, c, y)); !p.empty()) return Check::fail(p);
  for (int64_t r = 0; r < c.rows(); ++r) {
    const int64_t K = std::min<int64_t>(c.shape.classes, 256);
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < K; ++j) {
        size_t a = size_t(index_of(c, r, i)), b = size_t(index_of(c, r, j));
        if (c.x[a] > c.x[b] && y[a] < y[b])
          return Check::fail(
              fmt::format("row {}: x[{}] = {} > x[{}] = {} but y[{}] = {} < y[{}] = {}", r, i,
                          format_value(c.x[a]), j, format_value(c.x[b]), i, format_value(y[a]), j,
                          format_value(y[b])));
      }
  }
  return Check::pass();
}

template <class T> Check masked_entries_exact(const Env<T> &env, const Case<T> &c) {
  std::vector<T> y;
  if (auto p = status_problem<T>(run(env, c, y)); !p.empty()) return Check::fail(p);
  bool any = false;
  for (int64_t r = 0; r < c.rows(); ++r) {
    bool clean = true; // no NaN or +inf in the row
    for (int64_t k = 0; k < c.shape.classes; ++k) {
      T v = c.x[size_t(index_of(c, r, k))];
      clean = clean && !std::isnan(v) && v != std::numeric_limits<T>::infinity();
    }
    if (!clean) continue;
    for (int64_t k = 0; k < c.shape.classes; ++k) {
      size_t i = size_t(index_of(c, r, k));
      if (c.x[i] != -std::numeric_limits<T>::infinity()) continue;
      any = true;
      T want = c.op == SOFTCHECK_OP_SOFTMAX ? T(0) : -std::numeric_limits<T>::infinity();
      if (!same_bits(y[i], want))
        return Check::fail(fmt::format("{}a -inf logit gives {}, not {}", where(c, i),
                                       format_value(y[i]), format_value(want)));
    }
  }
  return any ? Check::pass() : Check::skip();
}

template <class T> Check log_softmax_nonpositive(const Env<T> &env, const Case<T> &c) {
  std::vector<T> y;
  if (auto p = status_problem<T>(run(env, c, y)); !p.empty()) return Check::fail(p);
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i] > 0)
      return Check::fail(
          fmt::format("{}a positive log-probability {}", where(c, i), format_value(y[i])));
  return Check::pass();
}

template <class T> Check logsumexp_bounds(const Env<T> &env, const Case<T> &c) {
  std::vector<T> y;
  if (auto p = status_problem<T>(run(env, c, y)); !p.empty()) return Check::fail(p);
  Tolerances<T> tol(env.set, c);
  for (int64_t r = 0; r < c.rows(); ++r) {
    if (!row_finite(c, r)) continue;
    long double m = -INFINITY;
    for (int64_t k = 0; k < c.shape.classes; ++k)
      m = std::max(m, (long double)c.x[size_t(index_of(c, r, k))]);
    const size_t i = size_t(r);
    long double hi = m + std::log((long double)c.shape.classes) + tol.abs_error(i, y[i]) +
                     0x1p-60L * std::abs(m);
    if (!((long double)y[i] >= m && (long double)y[i] <= hi))
      return Check::fail(
          fmt::format("row {}: logsumexp {} is outside [max, max + log n] = [{}, {:.17g}]", r,
                      format_value(y[i]), format_value(T(m)), double(hi)));
  }
  return Check::pass();
}

template <class T> Check softmax_jacobian_rows_sum_to_zero(const Env<T> &env, const Case<T> &c) {
  // dy = a constant: dx = c y (1 - sum y), which is 0 up to the rounding of y.
  Case<T> k = c;
  const T constant = c.aux.empty() || c.aux[0] == 0 ? T(1) : c.aux[0];
  std::fill(k.aux.begin(), k.aux.end(), constant);
  std::vector<T> dx;
  if (auto p = status_problem<T>(run(env, k, dx)); !p.empty()) return Check::fail(p);
  Tolerances<T> tol(env.set, k);
  for (int64_t r = 0; r < k.rows(); ++r) {
    long double sum = 0;
    for (int64_t j = 0; j < k.shape.classes; ++j) sum += k.x[size_t(index_of(k, r, j))];
    if (!std::isfinite(sum)) continue;
    for (int64_t j = 0; j < k.shape.classes; ++j) {
      size_t i = size_t(index_of(k, r, j));
      long double exact = (long double)constant * k.x[i] * (1 - sum);
      long double allowed =
          tol.abs_error(i, T(exact)) + 0x1p-60L * std::abs((long double)constant * k.x[i]);
      if (!(std::abs((long double)dx[i] - exact) <= allowed))
        return Check::fail(
            fmt::format("{}softmax_backward with dy = {} everywhere gives {}, not {:.6g} "
                        "(rows of the Jacobian sum to 0)",
                        where(c, i), format_value(constant), format_value(dx[i]), double(exact)));
    }
  }
  return Check::pass();
}

// The case with plain loss options: no weights, no smoothing, no ignored
// target, the given reduction and a unit upstream gradient.
template <class T> Case<T> plain_loss(const Case<T> &c, Reduction reduction) {
  Case<T> k = c;
  k.reduction = reduction;
  k.weight.clear();
  k.label_smoothing = 0;
  k.dout.assign(size_t(reduction == Reduction::none ? c.rows() : 1), T(1));
  for (int64_t &t : k.target)
    if (t == k.ignore_index) t = 0;
  k.ignore_index = Case<T>{}.ignore_index; // -100: no target is ignored (0 may have been)
  return k;
}

template <class T> Check cross_entropy_gradient(const Env<T> &env, const Case<T> &c) {
  // Plain options: dx = softmax(x) - onehot(t), which sums to 0.
  Case<T> k = plain_loss(c, Reduction::sum);
  std::vector<T> dx;
  if (auto p = status_problem<T>(run(env, k, dx)); !p.empty()) return Check::fail(p);
  Case<T> sc = as_op(k, SOFTCHECK_OP_SOFTMAX);
  std::vector<T> p = reference(sc);
  Tolerances<T> tol(env.set, k);
  for (int64_t r = 0; r < k.rows(); ++r) {
    if (!row_finite(k, r)) continue;
    long double sum = 0, allowed_sum = 0;
    for (int64_t j = 0; j < k.shape.classes; ++j) {
      size_t i = size_t(index_of(k, r, j));
      long double want = (long double)p[i] - (j == k.target[size_t(r)] ? 1 : 0);
      long double allowed = tol.abs_error(i, dx[i]) + (long double)spacing(p[i]);
      sum += dx[i];
      allowed_sum += allowed;
      if (!(std::abs((long double)dx[i] - want) <= allowed))
        return Check::fail(fmt::format(
            "{}gradient {} but softmax - onehot = {:.17g} (correctly rounded softmax); the "
            "gradient's bound allows {:.3g} of difference",
            where(c, i), format_value(dx[i]), double(want), double(allowed)));
    }
    if (!(std::abs(sum) <= allowed_sum))
      return Check::fail(fmt::format("row {}: the gradient sums to {:.6g}, not 0", r, double(sum)));
  }
  return Check::pass();
}

template <class T> Check nan_spreads_to_its_row(const Env<T> &env, const Case<T> &c) {
  if (c.rows() < 2) return Check::skip();
  for (int64_t r = 0; r < c.rows(); ++r)
    if (!row_finite(c, r)) return Check::skip();
  Case<T> nc = c;
  const int64_t row = c.rows() / 2, k = c.shape.classes / 2;
  nc.x[size_t(index_of(c, row, k))] = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> a, b;
  if (auto p = status_problem<T>(run(env, c, a)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, nc, b)); !p.empty()) return Check::fail(p);
  const bool per_row = c.op == SOFTCHECK_OP_LOGSUMEXP || c.op == SOFTCHECK_OP_CROSS_ENTROPY;
  for (int64_t r = 0; r < c.rows(); ++r)
    for (int64_t j = 0; j < (per_row ? 1 : c.shape.classes); ++j) {
      size_t i = per_row ? size_t(r) : size_t(index_of(c, r, j));
      if (r == row) {
        bool omitted = c.op == SOFTCHECK_OP_CROSS_ENTROPY && c.target[size_t(r)] == c.ignore_index;
        if (!omitted && !std::isnan(b[i]))
          return Check::fail_on(nc,
                                fmt::format("{}a NaN at class {} of row {} leaves {} in its row",
                                            where(c, i), k, row, format_value(b[i])));
      } else if (!same_bits(a[i], b[i])) {
        return Check::fail_on(nc, fmt::format("{}a NaN in row {} changed row {}: {} became {}",
                                              where(c, i), row, r, format_value(a[i]),
                                              format_value(b[i])));
      }
    }
  return Check::pass();
}

template <class T> Check documented_special_values(const Env<T> &env, const Case<T> &c) {
  // Straight from <softcheck/plugin.h>, without the oracle.
  std::vector<T> y;
  if (auto p = status_problem<T>(run(env, c, y)); !p.empty()) return Check::fail(p);
  const T inf = std::numeric_limits<T>::infinity();
  for (int64_t r = 0; r < c.rows(); ++r) {
    bool nan = false, pinf = false, all_masked = true;
    for (int64_t k = 0; k < c.shape.classes; ++k) {
      T v = c.x[size_t(index_of(c, r, k))];
      nan = nan || std::isnan(v);
      pinf = pinf || v == inf;
      all_masked = all_masked && v == -inf;
    }
    const bool one_class = c.shape.classes == 1 && std::isfinite(c.x[size_t(index_of(c, r, 0))]);
    if (!nan && !pinf && !all_masked && !one_class) continue;
    auto expect = [&](size_t i, T want, const char *rule) -> std::string {
      bool ok = std::isnan(want) ? std::isnan(y[i])
                                 : same_bits(y[i], want) ||
                                       (want == 0 && y[i] == 0 && c.op != SOFTCHECK_OP_SOFTMAX);
      if (ok) return "";
      return fmt::format("{}{}: got {}, the documented result is {}", where(c, i), rule,
                         format_value(y[i]), format_value(want));
    };
    const T nanv = std::numeric_limits<T>::quiet_NaN();
    if (c.op == SOFTCHECK_OP_LOGSUMEXP) {
      size_t i = size_t(r);
      std::string e = nan          ? expect(i, nanv, "a row with NaN")
                      : pinf       ? expect(i, inf, "a row with +inf")
                      : all_masked ? expect(i, -inf, "a fully masked row")
                                   : expect(i, c.x[size_t(index_of(c, r, 0))], "one class");
      if (!e.empty()) return Check::fail(e);
      continue;
    }
    for (int64_t k = 0; k < c.shape.classes; ++k) {
      size_t i = size_t(index_of(c, r, k));
      const bool sm = c.op == SOFTCHECK_OP_SOFTMAX;
      std::string e = nan          ? expect(i, nanv, "a row with NaN")
                      : pinf       ? expect(i, nanv, "a row with +inf")
                      : all_masked ? expect(i, sm ? T(0) : -inf, "a fully masked row")
                                   : expect(i, sm ? T(1) : T(0), "one class");
      if (!e.empty()) return Check::fail(e);
    }
  }
  return Check::pass();
}

// Whether an infinite `got` is T's rounding of a value that is `want`
// within `allowed`: the format overflows there (past its largest finite
// value plus half its ulp). Frequent for the half formats (f16 stops at
// 65504), and the rule of every IEEE format.
template <class T> bool overflow_explains(T got, long double want, long double allowed) {
  if (!std::isinf(got) || std::signbit(got) != std::signbit(want)) return false;
  const long double mx = (long double)std::numeric_limits<T>::max();
  const long double threshold = mx + (long double)spacing(std::numeric_limits<T>::max()) / 2;
  return std::abs(want) + allowed >= threshold;
}

// Loss helpers.
template <class T>
long double loss_allowance(const Env<T> &env, const Case<T> &c, const std::vector<T> &out) {
  Tolerances<T> tol(env.set, c);
  long double a = 0;
  for (size_t i = 0; i < out.size(); ++i) a = std::max(a, tol.abs_error(i, out[i]));
  return a;
}

template <class T> Check loss_pipelines_agree(const Env<T> &env, const Case<T> &c) {
  // cross_entropy(x) against nll_loss(log_softmax(x)), same options.
  Case<T> lc = as_op(c, SOFTCHECK_OP_LOG_SOFTMAX);
  std::vector<T> ce, lp, nll;
  if (auto p = status_problem<T>(run(env, c, ce)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, lc, lp)); !p.empty())
    return Check::fail("log_softmax " + p);
  Case<T> nc = as_op(c, SOFTCHECK_OP_NLL_LOSS);
  nc.x = lp;
  if (auto p = status_problem<T>(run(env, nc, nll)); !p.empty())
    return Check::fail("nll_loss " + p);
  Tolerances<T> tce(env.set, c), tnll(env.set, nc), tlp(env.set, lc);
  // The rounding of each log-probability moves nll_loss by |a_k| times it.
  const long double den = c.reduction == Reduction::mean ? std::abs(mean_denominator(c)) : 1.0L;
  std::vector<long double> spread(size_t(c.rows()), 0);
  for (int64_t r = 0; r < c.rows(); ++r) {
    const int64_t t = c.target[size_t(r)];
    if (t == c.ignore_index) continue;
    for (int64_t k = 0; k < c.shape.classes; ++k) {
      size_t i = size_t(index_of(c, r, k));
      const long double a = std::abs(loss_coefficient(c, r, k));
      // A log-probability that overflowed to -inf (x - max past the
      // format's range) makes the two pipelines differ by design.
      if (a != 0 && std::isinf(lp[i]) && std::isfinite(c.x[i])) return Check::skip();
      if (a != 0 && std::isfinite(lp[i])) spread[size_t(r)] += a * tlp.abs_error(i, lp[i]);
    }
  }
  for (size_t i = 0; i < ce.size(); ++i) {
    if ((std::isnan(ce[i]) && std::isnan(nll[i])) || ce[i] == nll[i]) continue;
    long double s = 0;
    if (c.reduction == Reduction::none)
      s = spread[i];
    else {
      for (long double v : spread) s += v;
      s /= den == 0 ? 1 : den;
    }
    long double allowed = tce.abs_error(i, ce[i]) + tnll.abs_error(i, nll[i]) + s;
    if (!(std::abs((long double)ce[i] - nll[i]) <= allowed))
      return Check::fail(fmt::format("{}cross_entropy {} but nll_loss(log_softmax) {}; allowed "
                                     "difference {:.3g}",
                                     where(c, i), format_value(ce[i]), format_value(nll[i]),
                                     double(allowed)));
  }
  return Check::pass();
}

template <class T> Check probability_pipeline_agrees(const Env<T> &env, const Case<T> &c) {
  // softmax -> clip(1e-7) -> -log (Keras from_logits=False) against
  // cross_entropy on logits, where the probability is not clipped.
  Case<T> k = plain_loss(c, Reduction::none);
  std::vector<T> ce, p;
  if (auto e = status_problem<T>(run(env, k, ce)); !e.empty()) return Check::fail(e);
  Case<T> sc = as_op(k, SOFTCHECK_OP_SOFTMAX);
  if (auto e = status_problem<T>(run(env, sc, p)); !e.empty()) return Check::fail("softmax " + e);
  Tolerances<T> tce(env.set, k), tsm(env.set, sc);
  bool any = false;
  for (int64_t r = 0; r < k.rows(); ++r) {
    size_t i = size_t(index_of(k, r, k.target[size_t(r)]));
    if (!(p[i] >= T(1e-3))) continue; // clipping (or its neighbourhood) changes the answer
    any = true;
    long double keras = -std::log(std::max((long double)p[i], 1e-7L));
    long double allowed = tce.abs_error(size_t(r), ce[size_t(r)]) +
                          tsm.abs_error(i, p[i]) / (long double)p[i] * 1.01L + 0x1p-60L;
    if (!(std::abs(keras - (long double)ce[size_t(r)]) <= allowed))
      return Check::fail(fmt::format("row {}: -log(clip(softmax)) = {:.9g} but cross_entropy {}", r,
                                     double(keras), format_value(ce[size_t(r)])));
  }
  return any ? Check::pass() : Check::skip();
}

template <class T> Check ignored_targets_contribute_nothing(const Env<T> &env, const Case<T> &c) {
  // Ignore some rows; the result must equal the case without them.
  Case<T> ic = c;
  std::vector<int64_t> keep;
  for (int64_t r = 0; r < c.rows(); ++r) {
    if (r % 2 == 1 || c.target[size_t(r)] == c.ignore_index)
      ic.target[size_t(r)] = c.ignore_index;
    else
      keep.push_back(r);
  }
  if (keep.empty() || int64_t(keep.size()) == c.rows()) return Check::skip();
  // The kept rows alone, as [rows, classes, 1].
  Case<T> kc = c;
  kc.shape = {int64_t(keep.size()), c.shape.classes, 1};
  kc.x.clear();
  kc.target.clear();
  if (c.reduction == Reduction::none) kc.dout.clear();
  for (int64_t r : keep) {
    for (int64_t k = 0; k < c.shape.classes; ++k) kc.x.push_back(c.x[size_t(index_of(c, r, k))]);
    kc.target.push_back(c.target[size_t(r)]);
    if (c.reduction == Reduction::none) kc.dout.push_back(c.dout[size_t(r)]);
  }
  std::vector<T> a, b;
  if (auto p = status_problem<T>(run(env, ic, a)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, kc, b)); !p.empty()) return Check::fail(p);
  Tolerances<T> ta(env.set, ic), tb(env.set, kc);
  auto close = [&](size_t i, size_t j) {
    return same_bits(a[i], b[j]) || (std::isnan(a[i]) && std::isnan(b[j])) ||
           std::abs((long double)a[i] - b[j]) <= ta.abs_error(i, a[i]) + tb.abs_error(j, b[j]);
  };
  if (c.is_backward()) {
    for (int64_t r = 0; r < c.rows(); ++r)
      for (int64_t k = 0; k < c.shape.classes; ++k) {
        size_t i = size_t(index_of(c, r, k));
        if (ic.target[size_t(r)] == c.ignore_index) {
          if (a[i] != 0)
            return Check::fail(fmt::format("{}an ignored row's gradient is {}, not 0", where(c, i),
                                           format_value(a[i])));
        }
      }
    for (size_t n = 0; n < keep.size(); ++n)
      for (int64_t k = 0; k < c.shape.classes; ++k) {
        size_t i = size_t(index_of(c, keep[n], k)), j = size_t(int64_t(n) * c.shape.classes + k);
        if (!close(i, j))
          return Check::fail(fmt::format("{}ignoring other rows changed this gradient: {} vs {}",
                                         where(c, i), format_value(a[i]), format_value(b[j])));
      }
    return Check::pass();
  }
  if (c.reduction == Reduction::none) {
    for (int64_t r = 0; r < c.rows(); ++r)
      if (ic.target[size_t(r)] == c.ignore_index && a[size_t(r)] != 0)
        return Check::fail(fmt::format("{}an ignored row's loss is {}, not 0", where(c, size_t(r)),
                                       format_value(a[size_t(r)])));
    return Check::pass();
  }
  if (!close(0, 0))
    return Check::fail(fmt::format("with ignored rows the loss is {}; without those rows {} "
                                   "(ignored rows count in the loss or the denominator)",
                                   format_value(a[0]), format_value(b[0])));
  return Check::pass();
}

template <class T> Check mean_is_sum_over_weights(const Env<T> &env, const Case<T> &c) {
  Case<T> sc = c, mc = c;
  sc.reduction = Reduction::sum;
  mc.reduction = Reduction::mean;
  sc.dout = mc.dout = {T(1)};
  std::vector<T> s, m;
  if (auto p = status_problem<T>(run(env, sc, s)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, mc, m)); !p.empty()) return Check::fail(p);
  const long double den = mean_denominator(c);
  if (den == 0 || !std::isfinite(s[0])) return Check::skip();
  Tolerances<T> ts(env.set, sc), tm(env.set, mc);
  long double want = (long double)s[0] / den;
  long double allowed = tm.abs_error(0, m[0]) + ts.abs_error(0, s[0]) / std::abs(den);
  if (!(std::abs((long double)m[0] - want) <= allowed) && !overflow_explains(m[0], want, allowed))
    return Check::fail(
        fmt::format("mean {} but sum / (sum of the counted weights) = {} / {:.9g} = {:.9g}",
                    format_value(m[0]), format_value(s[0]), double(den), double(want)));
  return Check::pass();
}

template <class T> Check label_smoothing_is_uniform(const Env<T> &env, const Case<T> &c) {
  // eps = 1: the loss is (1/K) sum_k w_k (-logp_k) whatever the target.
  Case<T> a = c, b = c;
  a.label_smoothing = b.label_smoothing = 1;
  a.reduction = b.reduction = Reduction::none;
  a.ignore_index = b.ignore_index = Case<T>{}.ignore_index; // neither 0 nor K - 1
  for (int64_t r = 0; r < c.rows(); ++r) {
    a.target[size_t(r)] = 0;
    b.target[size_t(r)] = c.shape.classes - 1;
  }
  if (c.shape.classes < 2) return Check::skip();
  std::vector<T> la, lb;
  if (auto p = status_problem<T>(run(env, a, la)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, b, lb)); !p.empty()) return Check::fail(p);
  Tolerances<T> ta(env.set, a), tb(env.set, b);
  for (size_t i = 0; i < la.size(); ++i) {
    if ((std::isnan(la[i]) && std::isnan(lb[i])) || la[i] == lb[i]) continue;
    if (!(std::abs((long double)la[i] - lb[i]) <= ta.abs_error(i, la[i]) + tb.abs_error(i, lb[i])))
      return Check::fail(
          fmt::format("{}with label_smoothing = 1 the target still matters: {} for "
                      "class 0, {} for class {} (smoothing must be eps/K over all K)",
                      where(c, i), format_value(la[i]), format_value(lb[i]), c.shape.classes - 1));
  }
  return Check::pass();
}

template <class T> Check weights_scale_the_loss(const Env<T> &env, const Case<T> &c) {
  Case<T> a = c;
  if (a.weight.empty()) a.weight.assign(size_t(c.shape.classes), T(1));
  Case<T> b = a;
  for (T &w : b.weight) w *= 2;
  for (T w : b.weight)
    if (!std::isfinite(w)) return Check::skip();
  std::vector<T> la, lb;
  if (auto p = status_problem<T>(run(env, a, la)); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(run(env, b, lb)); !p.empty()) return Check::fail(p);
  Tolerances<T> ta(env.set, a), tb(env.set, b);
  // Doubling every weight doubles a sum and leaves a mean as it is.
  const long double factor =
      c.reduction == Reduction::mean && c.op != SOFTCHECK_OP_CROSS_ENTROPY_PROB ? 1 : 2;
  for (size_t i = 0; i < la.size(); ++i) {
    if ((std::isnan(la[i]) && std::isnan(lb[i])) || (std::isinf(la[i]) && lb[i] == la[i])) continue;
    long double allowed = factor * ta.abs_error(i, la[i]) + tb.abs_error(i, lb[i]);
    if (!(std::abs((long double)lb[i] - factor * la[i]) <= allowed) &&
        !overflow_explains(lb[i], factor * (long double)la[i], allowed))
      return Check::fail(fmt::format("{}doubling every weight turned {} into {} (expected x{:g})",
                                     where(c, i), format_value(la[i]), format_value(lb[i]),
                                     double(factor)));
  }
  return Check::pass();
}

template <class T> Check rows_are_independent(const Env<T> &env, const Case<T> &c) {
  // Each outer slice alone gives the same bits as in the batch.
  if (c.shape.outer < 2) return Check::skip();
  if (c.is_loss() && c.reduction != Reduction::none) return Check::skip();
  std::vector<T> all;
  if (auto p = status_problem<T>(run(env, c, all)); !p.empty()) return Check::fail(p);
  const int64_t per_x = c.shape.classes * c.shape.inner;
  const int64_t per_out = c.output_count() / c.shape.outer;
  for (int64_t o = 0; o < c.shape.outer; ++o) {
    Case<T> s = c;
    s.shape.outer = 1;
    auto slice = [&](const std::vector<T> &v, int64_t n) {
      return v.empty() ? v : std::vector<T>(v.begin() + o * n, v.begin() + (o + 1) * n);
    };
    s.x = slice(c.x, per_x);
    s.aux = slice(c.aux, per_x);
    if (!c.target.empty())
      s.target = std::vector<int64_t>(c.target.begin() + o * c.shape.inner,
                                      c.target.begin() + (o + 1) * c.shape.inner);
    if (c.is_loss() && c.reduction == Reduction::none) s.dout = slice(c.dout, c.shape.inner);
    std::vector<T> one;
    if (auto p = status_problem<T>(run(env, s, one)); !p.empty()) return Check::fail(p);
    for (int64_t j = 0; j < per_out; ++j)
      if (!same_bits(one[size_t(j)], all[size_t(o * per_out + j)]))
        return Check::fail_on(s, fmt::format("{}slice {} alone gives {}, in the batch {}",
                                             where(c, size_t(o * per_out + j)), o,
                                             format_value(one[size_t(j)]),
                                             format_value(all[size_t(o * per_out + j)])));
  }
  return Check::pass();
}

template <class T> Check alignment_independent(const Env<T> &env, const Case<T> &c) {
  std::vector<T> base;
  if (auto p = status_problem<T>(run(env, c, base)); !p.empty()) return Check::fail(p);
  // `run` placed every buffer with its end against a guard page; now each
  // starts `offset` elements after the start of a page (a guard page before
  // it), so the alignment changes and reads before a start fault too.
  for (size_t offset : {1, 3, 7}) {
    GuardedBuffers g;
    auto moved = [&](const auto &v) {
      using E = std::decay_t<decltype(v[0])>;
      return v.empty() ? nullptr
                       : static_cast<const E *>(g.place(v.data(), v.size() * sizeof(E), Edge::start,
                                                        offset * sizeof(E)));
    };
    const std::vector<T> nan(size_t(c.output_count()), std::numeric_limits<T>::quiet_NaN());
    CallData<T> d;
    d.x = moved(c.x);
    d.aux = moved(c.aux);
    d.dout = moved(c.dout);
    d.weight = moved(c.weight);
    d.target = moved(c.target);
    T *out = const_cast<T *>(moved(nan));
    if (auto p = status_problem<T>(call(env.ops, c, d, out)); !p.empty()) return Check::fail(p);
    for (size_t i = 0; i < base.size(); ++i)
      if (!same_bits(out[i], base[i]))
        return Check::fail(fmt::format("{}buffers {} elements after a page start give {}, not {}",
                                       where(c, i), offset, format_value(out[i]),
                                       format_value(base[i])));
  }
  return Check::pass();
}

// plugin.h's bad input, sent on purpose: a valid loss case made invalid one
// way (a target out of range, label_smoothing NaN or outside [0, 1], a NaN
// or infinite weight, an unknown reduction; which one follows from the
// case). The kernel returns the status plugin.h gives (the oracle's), not
// SOFTCHECK_ERR_UNSUPPORTED (bad input is not a declined case), and leaves
// its output untouched; the harness's guard pages fault any read out of
// bounds that a target past the row would cause.
template <class T> Check bad_input_status(const Env<T> &env, const Case<T> &valid) {
  if (valid.shape.classes == 0 || valid.rows() == 0) return Check::skip();
  Case<T> c = valid;
  const bool class_targets = !c.target.empty() && c.op != SOFTCHECK_OP_CROSS_ENTROPY_PROB &&
                             c.op != SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
  uint64_t h = uint64_t(c.rows()) * 0x9e3779b97f4a7c15ull + uint64_t(c.shape.classes);
  for (T v : c.x) { // the bits, not the value (a huge v is no integer)
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    h = (h ^ bits) * 0x100000001b3ull;
  }
  std::string what;
  switch (h % 5) {
  case 0:
    if (class_targets) {
      const int64_t r = int64_t(h / 5 % uint64_t(c.rows()));
      c.target[size_t(r)] = (h & 32) ? c.shape.classes : -1 - (c.ignore_index == -1 ? 1 : 0);
      what = fmt::format("target[{}] = {} (classes = {})", r, c.target[size_t(r)], c.shape.classes);
      break;
    }
    [[fallthrough]];
  case 1:
    c.label_smoothing = std::numeric_limits<double>::quiet_NaN();
    what = "label_smoothing = NaN";
    break;
  case 2:
    c.label_smoothing = (h & 64) ? 1.5 : -0.25;
    what = fmt::format("label_smoothing = {:g}", c.label_smoothing);
    break;
  case 3: {
    if (c.weight.empty()) c.weight.assign(size_t(c.shape.classes), T(1));
    const size_t k = size_t(h / 5 % uint64_t(c.shape.classes));
    c.weight[k] =
        (h & 128) ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::quiet_NaN();
    what = fmt::format("weight[{}] = {}", k, format_value(c.weight[k]));
    break;
  }
  default:
    c.reduction = Reduction(7);
    what = "reduction = 7";
    break;
  }
  std::vector<T> ref(size_t(c.output_count()), T(0));
  const Status want = oracle::call(c, ref.data());
  if (want == SOFTCHECK_OK) return Check::skip(); // (not bad input after all)
  const T fill = T(1234.5);
  std::vector<T> out(size_t(c.output_count()), fill);
  const Status got = call(env.set, c, out.data());
  if (got != want)
    return Check::fail_on(c, fmt::format("for bad input ({}) the kernel returned '{}'; plugin.h "
                                         "prescribes '{}'",
                                         what, softcheck_status_name(got),
                                         softcheck_status_name(want)));
  for (size_t i = 0; i < out.size(); ++i)
    if (!same_bits(out[i], fill))
      return Check::fail_on(c, fmt::format("{}written ({}) on bad input ({}): outputs must be left "
                                           "untouched",
                                           where(c, i), format_value(out[i]), what));
  return Check::pass();
}

// plugin.h lets an output alias an input of its shape exactly. The ops
// whose output has an input's shape, called with the output on that input
// (dx on dy for the softmax backward ops, dx on the logits for the loss
// gradients), give the bits they give out of place.
bool aliases_dy(softcheck_op op) {
  return op == SOFTCHECK_OP_SOFTMAX_BACKWARD || op == SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD;
}

template <class T> Check in_place(const Env<T> &env, const Case<T> &c) {
  std::vector<T> apart;
  if (auto p = status_problem<T>(run(env, c, apart)); !p.empty()) return Check::fail(p);
  std::vector<T> buffer = aliases_dy(c.op) ? c.aux : c.x;
  if (buffer.size() != apart.size()) return Check::skip();
  CallData<T> d = data_of(c);
  (aliases_dy(c.op) ? d.aux : d.x) = buffer.data();
  const Status s = call(ops_of<T>(env.set), c, d, buffer.data());
  if (auto p = status_problem<T>(s); !p.empty()) return Check::fail("in place: " + p);
  for (size_t i = 0; i < apart.size(); ++i)
    if (!same_bits(apart[i], buffer[i]) && !(std::isnan(apart[i]) && std::isnan(buffer[i])))
      return Check::fail(fmt::format("{}in place (output on {}) gives {}, out of place {}",
                                     where(c, i), aliases_dy(c.op) ? "dy" : "x",
                                     format_value(buffer[i]), format_value(apart[i])));
  return Check::pass();
}

template <class T> Check thread_count_independent(const Env<T> &env, const Case<T> &c) {
  std::vector<T> one, two;
  env.set.set_num_threads(1);
  Status s1 = run(env, c, one);
  env.set.set_num_threads(2);
  Status s2 = run(env, c, two);
  env.set.set_num_threads(1);
  if (auto p = status_problem<T>(s1); !p.empty()) return Check::fail(p);
  if (auto p = status_problem<T>(s2); !p.empty()) return Check::fail(p);
  for (size_t i = 0; i < one.size(); ++i)
    if (!same_bits(one[i], two[i]))
      return Check::fail(fmt::format("{}after set_num_threads(1) the kernel gave {}, after "
                                     "set_num_threads(2) {} (the same input)",
                                     where(c, i), format_value(one[i]), format_value(two[i])));
  return Check::pass();
}

// ----------------------------------------------------------- the registry

// Properties that judge a set against itself (bitwise), or through the
// oracle with its conventions applied, keep the cases of a class where the
// set follows another convention; every other property leaves them out.
bool keeps_convention_cases(const std::string &name) {
  return name == "oracle_agreement" || name == "inputs_unchanged" ||
         name == "rows_are_independent" || name == "alignment_independent" ||
         name == "thread_count_independent" || name == "in_place" || name == "bad_input_status";
}

struct Property {
  PropertyInfo info;
  gen::Spec spec;
  std::vector<softcheck_op> needs; // other ops the set must provide
  bool needs_threads = false;
  Check (*f32)(const Env<float> &, const Case<float> &);
  Check (*f64)(const Env<double> &, const Case<double> &);
  Check (*bf16)(const Env<softcheck::bf16> &, const Case<softcheck::bf16> &);
  Check (*f16)(const Env<softcheck::f16> &, const Case<softcheck::f16> &);
};

// The property's check for T.
template <class T> auto check_of(const Property &p) {
  if constexpr (std::is_same_v<T, float>)
    return p.f32;
  else if constexpr (std::is_same_v<T, double>)
    return p.f64;
  else if constexpr (std::is_same_v<T, bf16>)
    return p.bf16;
  else
    return p.f16;
}

// The case of a case file, for T.
template <class T> const Case<T> &case_of(const CaseFile &f) {
  if constexpr (std::is_same_v<T, float>)
    return f.f32;
  else if constexpr (std::is_same_v<T, double>)
    return f.f64;
  else if constexpr (std::is_same_v<T, bf16>)
    return f.bf16;
  else
    return f.f16;
}

gen::Spec spec_with(std::vector<gen::Regime> regimes, bool plain = false) {
  gen::Spec s;
  s.regimes = std::move(regimes);
  s.plain_options = plain;
  return s;
}

#define SOFTCHECK_PROPERTY_FNS(fn) &fn<float>, &fn<double>, &fn<bf16>, &fn<f16>

const std::vector<Property> &registry() {
  using gen::Regime;
  static const std::vector<Property> props = [] {
    const auto finite = gen::finite_regimes();
    const auto moderate = gen::moderate_regimes();
    auto with_masks = finite;
    with_masks.push_back(Regime::masked);
    const std::vector<softcheck_op> forward = {SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_LOG_SOFTMAX,
                                               SOFTCHECK_OP_LOGSUMEXP};
    const std::vector<softcheck_op> losses = {SOFTCHECK_OP_NLL_LOSS, SOFTCHECK_OP_CROSS_ENTROPY,
                                              SOFTCHECK_OP_CROSS_ENTROPY_PROB};
    std::vector<softcheck_op> all;
    for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op) all.push_back(softcheck_op(op));
    std::vector<softcheck_op> per_row = all;
    std::vector<Property> v;
    v.push_back({{"oracle_agreement",
                  "every output agrees with the correctly rounded oracle, special values exactly",
                  "the set's contract (max_ulp, or max_scaled_u for sums of signed terms); "
                  "otherwise the elementwise defaults of Blanchard, Higham & Higham 2021 "
                  "(properties/src/tolerance.hpp)",
                  all},
                 [] {
                   gen::Spec s;
                   s.long_rows = true; // a float accumulator drifts there
                   return s;
                 }(),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(oracle_agreement)});
    v.push_back({{"inputs_unchanged", "the kernel does not write its inputs", "bitwise", all},
                 gen::Spec{},
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(inputs_unchanged)});
    v.push_back({{"softmax_in_unit_interval",
                  "every softmax output is in [+0, 1] (a zero is +0)",
                  "exact",
                  {SOFTCHECK_OP_SOFTMAX}},
                 spec_with(with_masks),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(softmax_in_unit_interval)});
    v.push_back({{"softmax_sums_to_one",
                  "each softmax row sums to 1",
                  "sum over the row of each output's bound (so n-dependent)",
                  {SOFTCHECK_OP_SOFTMAX}},
                 spec_with(with_masks),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(softmax_sums_to_one)});
    v.push_back({{"exp_log_softmax_is_softmax",
                  "exp(log_softmax) agrees with softmax",
                  "softmax's bound + exp(l)(e^dl - 1), dl log_softmax's bound",
                  {SOFTCHECK_OP_SOFTMAX}},
                 spec_with(finite),
                 {SOFTCHECK_OP_LOG_SOFTMAX},
                 false,
                 SOFTCHECK_PROPERTY_FNS(exp_log_softmax_is_softmax)});
    v.push_back({{"shift_invariance",
                  "x + c (c a power of two that shifts every logit exactly) leaves softmax and "
                  "log_softmax unchanged and moves logsumexp by c",
                  "the two outputs' bounds", forward},
                 spec_with(finite),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(shift_invariance)});
    v.push_back({{"permutation_equivariance", "permuting the classes permutes the outputs",
                  "the two outputs' bounds", forward},
                 gen::Spec{},
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(permutation_equivariance)});
    v.push_back({{"monotonicity",
                  "x_i > x_j implies y_i >= y_j",
                  "exact",
                  {SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_LOG_SOFTMAX}},
                 spec_with(with_masks),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(monotonicity)});
    v.push_back({{"masked_entries_exact",
                  "-inf logits give exactly 0 (softmax) and -inf (log_softmax)",
                  "exact",
                  {SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_LOG_SOFTMAX}},
                 spec_with({Regime::masked}),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(masked_entries_exact)});
    v.push_back({{"log_softmax_nonpositive",
                  "log_softmax is never positive",
                  "exact",
                  {SOFTCHECK_OP_LOG_SOFTMAX}},
                 gen::Spec{},
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(log_softmax_nonpositive)});
    v.push_back({{"logsumexp_bounds",
                  "max <= logsumexp <= max + log n",
                  "exact below; above, logsumexp's own bound",
                  {SOFTCHECK_OP_LOGSUMEXP}},
                 spec_with(finite),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(logsumexp_bounds)});
    v.push_back(
        {{"softmax_jacobian_rows_sum_to_zero",
          "softmax_backward with a constant dy gives c y (1 - sum y), i.e. 0 up to y's rounding",
          "softmax_backward's scaled bound",
          {SOFTCHECK_OP_SOFTMAX_BACKWARD}},
         spec_with(finite),
         {},
         false,
         SOFTCHECK_PROPERTY_FNS(softmax_jacobian_rows_sum_to_zero)});
    v.push_back({{"cross_entropy_gradient",
                  "the cross-entropy gradient is softmax minus the one-hot target, summing to 0",
                  "the gradient's scaled bound + 1 ulp of softmax",
                  {SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD}},
                 spec_with(finite),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(cross_entropy_gradient)});
    v.push_back({{"nan_spreads_to_its_row",
                  "a NaN makes its whole row NaN and changes no other row (bitwise)",
                  "exact",
                  {SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_LOG_SOFTMAX, SOFTCHECK_OP_LOGSUMEXP}},
                 spec_with(finite),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(nan_spreads_to_its_row)});
    v.push_back({{"documented_special_values",
                  "NaN rows, +inf rows, fully masked rows and one class give what plugin.h says",
                  "exact", forward},
                 spec_with({Regime::fully_masked, Regime::nan_inside, Regime::inf_inside,
                            Regime::masked, Regime::normal1}),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(documented_special_values)});
    v.push_back({{"loss_pipelines_agree",
                  "cross_entropy(x) equals nll_loss(log_softmax(x)) for every reduction, weight, "
                  "ignore_index and label smoothing",
                  "both losses' bounds + sum_k |a_k| times log_softmax's bound",
                  {SOFTCHECK_OP_CROSS_ENTROPY}},
                 spec_with(finite),
                 {SOFTCHECK_OP_LOG_SOFTMAX, SOFTCHECK_OP_NLL_LOSS},
                 false,
                 SOFTCHECK_PROPERTY_FNS(loss_pipelines_agree)});
    v.push_back(
        {{"probability_pipeline_agrees",
          "softmax -> clip(1e-7) -> -log (Keras from_logits=False) agrees with cross_entropy "
          "where the target's probability is >= 1e-3",
          "cross_entropy's bound + softmax's relative bound",
          {SOFTCHECK_OP_CROSS_ENTROPY}},
         spec_with(moderate),
         {SOFTCHECK_OP_SOFTMAX},
         false,
         SOFTCHECK_PROPERTY_FNS(probability_pipeline_agrees)});
    v.push_back({{"ignored_targets_contribute_nothing",
                  "ignored rows add nothing to the loss, the smoothing term, the gradient or the "
                  "mean's denominator",
                  "the two results' bounds; exactly 0 for ignored rows",
                  {SOFTCHECK_OP_NLL_LOSS, SOFTCHECK_OP_CROSS_ENTROPY,
                   SOFTCHECK_OP_NLL_LOSS_BACKWARD, SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD}},
                 spec_with(finite),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(ignored_targets_contribute_nothing)});
    v.push_back(
        {{"mean_is_sum_over_weights",
          "mean = sum / (sum of the weights of the counted targets; rows for probability targets)",
          "mean's bound + sum's bound / denominator", losses},
         spec_with(finite),
         {},
         false,
         SOFTCHECK_PROPERTY_FNS(mean_is_sum_over_weights)});
    v.push_back(
        {{"label_smoothing_is_uniform",
          "with label_smoothing = 1 the loss does not depend on the target (eps/K over all K)",
          "the two losses' bounds",
          {SOFTCHECK_OP_NLL_LOSS, SOFTCHECK_OP_CROSS_ENTROPY}},
         spec_with(finite),
         {},
         false,
         SOFTCHECK_PROPERTY_FNS(label_smoothing_is_uniform)});
    v.push_back({{"weights_scale_the_loss",
                  "doubling every weight doubles none/sum losses and leaves the mean unchanged",
                  "the two losses' bounds", losses},
                 spec_with(finite),
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(weights_scale_the_loss)});
    v.push_back(
        {{"rows_are_independent",
          "a row's result does not depend on the other rows or the batch size", "bitwise", per_row},
         gen::Spec{},
         {},
         false,
         SOFTCHECK_PROPERTY_FNS(rows_are_independent)});
    v.push_back({{"alignment_independent", "results do not depend on the buffers' alignment",
                  "bitwise", all},
                 gen::Spec{},
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(alignment_independent)});
    v.push_back({{"bad_input_status",
                  "a loss given bad options or targets (out-of-range target, NaN or "
                  "out-of-range label_smoothing, non-finite weight, unknown reduction) returns "
                  "plugin.h's status and writes nothing",
                  "exact status; outputs bitwise untouched",
                  {SOFTCHECK_OP_NLL_LOSS, SOFTCHECK_OP_NLL_LOSS_BACKWARD,
                   SOFTCHECK_OP_CROSS_ENTROPY, SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD,
                   SOFTCHECK_OP_CROSS_ENTROPY_PROB, SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD}},
                 gen::Spec{},
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(bad_input_status)});
    v.push_back({{"in_place",
                  "called in place (the output on its same-shape input: x, or dy for the softmax "
                  "backward ops, or the logits for the loss gradients), an op gives the bits it "
                  "gives out of place",
                  "bitwise",
                  {SOFTCHECK_OP_SOFTMAX, SOFTCHECK_OP_LOG_SOFTMAX, SOFTCHECK_OP_SOFTMAX_BACKWARD,
                   SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD, SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD,
                   SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD}},
                 gen::Spec{},
                 {},
                 false,
                 SOFTCHECK_PROPERTY_FNS(in_place)});
    v.push_back({{"thread_count_independent", "1 and 2 threads give the same bits", "bitwise", all},
                 gen::Spec{},
                 {},
                 true,
                 SOFTCHECK_PROPERTY_FNS(thread_count_independent)});
    return v;
  }();
  return props;
}

// RapidCheck's default listener prints a reproduce string at exit; our
// outcomes carry their own reproduce line.
struct SilentListener : rc::detail::TestListener {
  void onTestCaseFinished(const rc::detail::CaseDescription &) override {}
  void onShrinkTried(const rc::detail::CaseDescription &, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata &, const rc::detail::TestResult &) override {}
};

uint64_t mix(uint64_t x) { // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t property_seed(uint64_t seed, const std::string &name, softcheck_op op, softcheck_dtype d) {
  uint64_t h = seed;
  for (char ch : name) h = mix(h ^ uint64_t(uint8_t(ch)));
  return mix(h ^ (uint64_t(op) << 8) ^ uint64_t(d));
}

std::string reproduce_line(const softcheck_kernel_set &set, const Options &o,
                           const std::string &property, softcheck_op op, softcheck_dtype d) {
  std::vector<std::string> w = {"softcheck", "check"};
  w.insert(w.end(), o.load_args.begin(), o.load_args.end());
  for (std::string &a : set_arguments(set.name)) w.push_back(std::move(a));
  w.insert(w.end(),
           {"--op", softcheck_op_name(op), "--dtype", softcheck_dtype_name(d), "--property",
            property, "--seed", std::to_string(o.seed), "--cases", std::to_string(o.cases)});
  for (int g : o.regimes) w.insert(w.end(), {"--regime", gen::regime_id(gen::Regime(g))});
  for (int g : o.skip_regimes) w.insert(w.end(), {"--skip-regime", gen::regime_id(gen::Regime(g))});
  return text::shell_line(w);
}

// RapidCheck reads its configuration (RC_PARAMS) once and announces it on
// stderr; our runs carry their own seed and parameters, so load it quietly.
void load_rapidcheck_configuration_quietly() {
  static const bool loaded = [] {
    std::streambuf *saved = std::cerr.rdbuf(nullptr);
    rc::detail::configuration();
    std::cerr.rdbuf(saved);
    return true;
  }();
  (void)loaded;
}

// The kind of a failure, so that check can look on for failures of other
// kinds: its mismatch class and the family of input it came from.
//   class: a fault (the isolation's: a crash, a hang, an access out of
//   bounds); another status; special values, when what went wrong names a
//   NaN or an infinity (a value that is one, or a mismatch of that class:
//   the failing output, not the case, decides, so a finite error in a row
//   beside a NaN row is finite accuracy); else finite accuracy.
//   family (the regimes, told from the input of the failing output's row,
//   or of every row where the output is a reduction over rows): a row
//   holding a NaN or +inf, or every entry -inf (NaN inside, +inf inside,
//   fully masked); a row reaching the top 64 binades beside another finite
//   entry (near max, bit patterns), where x - max and the sum overflow;
//   else a finite row of moderate range. -inf entries beside finite ones are masked classes, not
//   a family of their own: a defect shows on the row with or without them.
// So a NaN row turned into -inf, a finite row that overflows to NaN and an
// accuracy defect near underflow are three kinds, each with its own case.
template <class T> std::string failure_kind(const Case<T> &c, const std::string &why) {
  std::string kind = "finite accuracy";
  if (why.find("returned status") != std::string::npos) kind = "status";
  if (why.find(std::string("status '") + softcheck_status_name(SOFTCHECK_HOST_FAULT) + "'") !=
      std::string::npos)
    kind = "fault"; // crashed, hung, wrote out of bounds, ... (the fault log says which)
  std::string word;
  for (size_t i = 0; i <= why.size() && kind == "finite accuracy"; ++i) {
    const char ch = i < why.size() ? why[i] : ' ';
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      word += char(std::tolower(static_cast<unsigned char>(ch)));
      continue;
    }
    if (word == "nan" || word == "inf" || word == "infinity") {
      kind = "special values";
      break;
    }
    word.clear();
  }
  // The rows: the failing output's (messages start "output [i]" where one
  // output is at fault, "row r" where a row is), else all.
  int64_t first = 0, last = c.rows();
  if (why.rfind("row ", 0) == 0) {
    const int64_t r = std::strtoll(why.c_str() + 4, nullptr, 10);
    if (r >= 0 && r < c.rows()) {
      first = r;
      last = r + 1;
    }
  } else if (why.rfind("output [", 0) == 0) {
    const int64_t i = std::strtoll(why.c_str() + 8, nullptr, 10);
    const int64_t K = c.shape.classes, inner = c.shape.inner;
    if (i >= 0 && i < c.output_count() && c.output_count() == c.elems()) {
      first = (i / (K * inner)) * inner + i % inner;
      last = first + 1;
    } else if (i >= 0 && i < c.output_count() && c.output_count() == c.rows()) {
      first = i;
      last = i + 1;
    }
  }
  const bool prob =
      c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB || c.op == SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD;
  const T large = std::ldexp(std::numeric_limits<T>::max(), -64);
  // Near the threshold: a large entry with another finite one beside it
  // (x - max, the sum), or any large entry of a loss (weights times it, the
  // sum over rows); a lone large logit has nothing to overflow against.
  bool special = false, near_max = false;
  for (int64_t r = first; r < last && r < c.rows(); ++r) {
    bool all_masked = c.shape.classes > 0, large_entry = false;
    int64_t finite = 0;
    for (int64_t k = 0; k < c.shape.classes; ++k) {
      const size_t at = size_t(gen::index_of(c, r, k));
      for (const std::vector<T> *v : {&c.x, &c.aux}) {
        if (v == &c.aux && (prob || c.aux.size() != c.x.size())) continue;
        const T e = (*v)[at];
        if (v == &c.x) {
          all_masked = all_masked && e == -std::numeric_limits<T>::infinity();
          finite += std::isfinite(e) ? 1 : 0;
        }
        special = special || std::isnan(e) || e == std::numeric_limits<T>::infinity() ||
                  (v == &c.aux && std::isinf(e));
        large_entry = large_entry || (std::isfinite(e) && std::abs(e) >= large);
      }
    }
    special = special || all_masked;
    near_max = near_max || (large_entry && (finite >= 2 || c.is_loss()));
  }
  return kind + (special    ? " on rows with NaN or infinities"
                 : near_max ? " on rows near the overflow threshold"
                            : " on finite rows");
}

// The property's spec with the run's regime selection; false when no
// regime of the property is left.
bool select_regimes(const Property &p, const Options &o, gen::Spec &spec) {
  spec = p.spec;
  if (o.regimes.empty() && o.skip_regimes.empty()) return true;
  std::vector<gen::Regime> own = spec.regimes;
  if (own.empty())
    for (int g = 0; g < gen::kRegimes; ++g) own.push_back(gen::Regime(g));
  spec.regimes.clear();
  for (gen::Regime g : own) {
    const int id = int(g);
    const bool in =
        o.regimes.empty() || std::find(o.regimes.begin(), o.regimes.end(), id) != o.regimes.end();
    const bool out =
        std::find(o.skip_regimes.begin(), o.skip_regimes.end(), id) != o.skip_regimes.end();
    if (in && !out) spec.regimes.push_back(g);
  }
  return !spec.regimes.empty();
}

// One RapidCheck run of a property; failures of the kinds in `found` are
// not held against the case (another is drawn), so a second run finds the
// next kind of defect with its own counterexample.
template <class T>
Outcome run_once(const Property &p, const gen::Spec &spec, const softcheck_kernel_set &set,
                 softcheck_op op, const Options &o, const std::vector<std::string> &found) {
  load_rapidcheck_configuration_quietly();
  Outcome out;
  out.property = p.info.name;
  out.set = set.name;
  out.op = op;
  out.dtype = dtype_of<T>;
  out.seed = property_seed(o.seed, p.info.name, op, out.dtype);
  const Env<T> env{set, ops_of<T>(set)};
  auto fn = check_of<T>(p);
  rc::detail::TestParams params;
  params.seed = out.seed;
  params.maxSuccess = o.cases;
  params.maxSize = 100;
  // A search for another kind gives up sooner where most cases fail with
  // the kinds already found.
  params.maxDiscardRatio = found.empty() ? 20 : 4;
  rc::detail::TestMetadata meta;
  meta.id = p.info.name;
  meta.description = p.info.name;
  SilentListener quiet;
  g_headroom = Headroom{};
  std::string called_with, kind, last_reason;
  std::string first_case, first_reason, first_called_with, first_kind; // the first failure seen
  const bool keeps_convention = keeps_convention_cases(p.info.name);
  const auto start = std::chrono::steady_clock::now();
  auto result = rc::detail::checkTestable(
      [&] {
        Case<T> c = *gen::cases<T>(op, spec);
        Check r;
        try {
          r = !keeps_convention && under_convention(set, c) ? Check::skip() : fn(env, c);
        } catch (const Declined &) {
          ++out.declined;
          r = Check::skip();
        }
        using rc::detail::CaseResult;
        if (r.discard) throw CaseResult(CaseResult::Type::Discard, "does not apply");
        // Shrinking ends on the last case that failed: the reported one.
        if (!r.failure.empty()) {
          // The family is the input's the kernel failed on: the derived one
          // where the property made one.
          std::string k = failure_kind(c, r.failure);
          if (!r.called_with.empty()) try {
              const CaseFile derived = parse_case(r.called_with);
              k = failure_kind(case_of<T>(derived), r.failure);
            } catch (const CaseFormatError &) {
            }
          if (std::find(found.begin(), found.end(), k) != found.end())
            throw CaseResult(CaseResult::Type::Discard, "a kind already reported");
          called_with = r.called_with;
          kind = k;
          last_reason = r.failure;
          if (first_case.empty()) {
            first_case = to_text(c);
            first_reason = r.failure;
            first_called_with = r.called_with;
            first_kind = k;
          }
          throw CaseResult(CaseResult::Type::Failure, r.failure);
        }
      },
      meta, params, quiet);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (g_headroom.any) {
    out.worst_error = g_headroom.error;
    out.worst_share = g_headroom.ratio;
    out.bound_there = g_headroom.allowed_there;
    out.error_unit = g_headroom.scaled ? "u scaled" : "ulp";
  }
  out.largest_bound_ulp = g_headroom.largest_bound;
  if (result.template is<rc::detail::SuccessResult>()) {
    rc::detail::SuccessResult s;
    result.match(s);
    out.cases = s.numSuccess;
    out.verdict = Verdict::passed;
  } else if (result.template is<rc::detail::FailureResult>()) {
    rc::detail::FailureResult f;
    result.match(f);
    out.verdict = Verdict::failed;
    out.cases = f.numSuccess + 1;
    out.reason = f.description;
    for (const auto &[type, value] : f.counterExample) out.counterexample += value;
    out.called_with = called_with;
    out.kind = kind;
    if (!first_case.empty() && f.description != last_reason) {
      // The case shrinking ended on passed when run again: the kernel's
      // result depends on more than its input. The failure seen is kept.
      out.reason = first_reason + " (shrinking ended on a case that then passed: the result "
                                  "depends on more than the input, such as addresses, timing or "
                                  "state; the counterexample is the first case that failed)";
      out.counterexample = first_case;
      out.called_with = first_called_with;
      out.kind = first_kind;
    }
    out.reproduce = reproduce_line(set, o, p.info.name, op, out.dtype);
  } else if (result.template is<rc::detail::GaveUpResult>()) {
    rc::detail::GaveUpResult g;
    result.match(g);
    out.verdict = g.numSuccess > 0 ? Verdict::passed : Verdict::skipped;
    out.cases = g.numSuccess;
    out.reason =
        g.numSuccess == 0 && out.declined > 0
            ? "the kernel declined every case it was given (SOFTCHECK_ERR_UNSUPPORTED)"
            : "most generated cases did not apply (" + std::to_string(g.numSuccess) + " ran)";
  } else {
    rc::detail::Error e;
    result.match(e);
    out.verdict = Verdict::failed;
    out.reason = "the property could not run: " + e.description;
  }
  return out;
}

// A property on one op and dtype: its first failure, then (up to o.kinds)
// failures of other kinds, each an outcome of its own.
template <class T>
std::vector<Outcome> run_property(const Property &p, const softcheck_kernel_set &set,
                                  softcheck_op op, const Options &o) {
  gen::Spec spec;
  if (!select_regimes(p, o, spec)) {
    Outcome skip;
    skip.property = p.info.name;
    skip.set = set.name;
    skip.op = op;
    skip.dtype = dtype_of<T>;
    skip.verdict = Verdict::skipped;
    skip.reason = "none of its regimes selected";
    return {skip};
  }
  std::vector<Outcome> outcomes;
  std::vector<std::string> found;
  for (;;) {
    Outcome out = run_once<T>(p, spec, set, op, o, found);
    const bool next =
        out.verdict == Verdict::failed && !out.kind.empty() && int(found.size()) + 1 < o.kinds;
    if (!found.empty() && out.verdict != Verdict::failed) break; // no other kind
    found.push_back(out.kind);
    outcomes.push_back(std::move(out));
    if (!next) break;
  }
  return outcomes;
}

bool selected(const Options &o, const std::string &name) {
  return o.properties.empty() ||
         std::find(o.properties.begin(), o.properties.end(), name) != o.properties.end();
}

} // namespace

const std::vector<PropertyInfo> &all_properties() {
  static const std::vector<PropertyInfo> infos = [] {
    std::vector<PropertyInfo> v;
    for (const Property &p : registry()) v.push_back(p.info);
    return v;
  }();
  return infos;
}

std::vector<Outcome> check(const softcheck_kernel_set &set, const Options &o) {
  std::vector<Outcome> outcomes;
  for (const Property &p : registry()) {
    if (!selected(o, p.info.name)) continue;
    for (softcheck_op op : p.info.ops) {
      if (!o.ops.empty() && std::find(o.ops.begin(), o.ops.end(), op) == o.ops.end()) continue;
      for (softcheck_dtype d : o.dtypes) {
        Outcome skip;
        skip.property = p.info.name;
        skip.set = set.name;
        skip.op = op;
        skip.dtype = d;
        skip.verdict = Verdict::skipped;
        if (!provides(set, d, op)) {
          skip.reason = "op not provided";
          outcomes.push_back(skip);
          continue;
        }
        std::string missing;
        for (softcheck_op need : p.needs)
          if (!provides(set, d, need))
            missing += std::string(missing.empty() ? "" : ", ") + softcheck_op_name(need);
        if (!missing.empty()) {
          skip.reason = "needs " + missing;
          outcomes.push_back(skip);
          continue;
        }
        if (p.needs_threads && set.set_num_threads == nullptr) {
          skip.reason = "the set has no set_num_threads";
          outcomes.push_back(skip);
          continue;
        }
        std::vector<Outcome> r = d == SOFTCHECK_F32    ? run_property<float>(p, set, op, o)
                                 : d == SOFTCHECK_F64  ? run_property<double>(p, set, op, o)
                                 : d == SOFTCHECK_BF16 ? run_property<bf16>(p, set, op, o)
                                                       : run_property<f16>(p, set, op, o);
        outcomes.insert(outcomes.end(), r.begin(), r.end());
      }
    }
  }
  return outcomes;
}

template <class T>
std::vector<Outcome> replay(const softcheck_kernel_set &set, const Case<T> &c,
                            const std::vector<std::string> &properties,
                            const std::vector<std::string> &load_args, const std::string &path) {
  std::vector<Outcome> outcomes;
  const softcheck_dtype d = dtype_of<T>;
  const Env<T> env{set, ops_of<T>(set)};
  for (const Property &p : registry()) {
    if (!properties.empty() &&
        std::find(properties.begin(), properties.end(), p.info.name) == properties.end())
      continue;
    if (std::find(p.info.ops.begin(), p.info.ops.end(), c.op) == p.info.ops.end()) continue;
    Outcome out;
    out.property = p.info.name;
    out.set = set.name;
    out.op = c.op;
    out.dtype = d;
    bool ok = provides(set, d, c.op) && !(p.needs_threads && set.set_num_threads == nullptr);
    for (softcheck_op need : p.needs) ok = ok && provides(set, d, need);
    if (!ok) {
      out.verdict = Verdict::skipped;
      out.reason = "not provided";
      outcomes.push_back(out);
      continue;
    }
    Check r;
    bool declined = false;
    try {
      if (!keeps_convention_cases(p.info.name) && under_convention(set, c))
        r = Check::skip();
      else
        r = check_of<T>(p)(env, c);
    } catch (const Declined &) {
      declined = true;
      r = Check::skip();
    }
    out.cases = 1;
    out.declined = declined ? 1 : 0;
    out.verdict = r.discard           ? Verdict::skipped
                  : r.failure.empty() ? Verdict::passed
                                      : Verdict::failed;
    out.reason = declined    ? "declined by the kernel (SOFTCHECK_ERR_UNSUPPORTED)"
                 : r.discard ? "does not apply to this case"
                             : r.failure;
    if (out.verdict == Verdict::failed) {
      out.counterexample = to_text(c, p.info.name);
      out.called_with = r.called_with;
      std::vector<std::string> w = {"softcheck", "check"};
      w.insert(w.end(), load_args.begin(), load_args.end());
      for (std::string &a : set_arguments(set.name)) w.push_back(std::move(a));
      w.insert(w.end(), {"--property", p.info.name, "--replay", path});
      out.reproduce = text::shell_line(w);
    }
    outcomes.push_back(out);
  }
  return outcomes;
}

template std::vector<Outcome> replay<float>(const softcheck_kernel_set &, const Case<float> &,
                                            const std::vector<std::string> &,
                                            const std::vector<std::string> &, const std::string &);
template std::vector<Outcome> replay<double>(const softcheck_kernel_set &, const Case<double> &,
                                             const std::vector<std::string> &,
                                             const std::vector<std::string> &, const std::string &);
template std::vector<Outcome> replay<bf16>(const softcheck_kernel_set &, const Case<bf16> &,
                                           const std::vector<std::string> &,
                                           const std::vector<std::string> &, const std::string &);
template std::vector<Outcome> replay<f16>(const softcheck_kernel_set &, const Case<f16> &,
                                          const std::vector<std::string> &,
                                          const std::vector<std::string> &, const std::string &);

} // namespace softcheck::props
