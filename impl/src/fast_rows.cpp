#include "fast_rows.hpp"

#include "parallel.hpp"
#include "simd.hpp"
#include "wide.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace softcheck::fast {
namespace {

using simd::kChunk;
using simd::Piece;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

int64_t pieces_of(int64_t n) { return (n + kChunk - 1) / kChunk; }
int64_t piece_len(int64_t n, int64_t c) { return std::min(kChunk, n - c * kChunk); }

// Runs one op over rows x pieces: piece(r, offset, len) -> P for every
// piece, combine(r, pieces, k) -> S per row, post(S[], count) over a batch
// of rows (the vector log1p), then finish(r, offset, len, S, P) for every
// piece. Rows go to threads in batches; with fewer rows than threads the
// pieces of all rows do, in two rounds around the (serial) combine.
template <class P, class S, class PieceFn, class CombineFn, class PostFn, class FinishFn>
void run_rows(int64_t rows, int64_t n, PieceFn &&piece, CombineFn &&combine, PostFn &&post,
              FinishFn &&finish) {
  const int64_t k = pieces_of(n);
  if (rows >= detail::num_threads() || k <= 1) {
    const int64_t batch = k > 1 ? 1 : 16;
    detail::parallel_for(
        rows,
        [&](int64_t r0, int64_t r1) {
          std::vector<P> ps(static_cast<size_t>(std::max<int64_t>(k, 1) * batch));
          S ss[16];
          for (int64_t b0 = r0; b0 < r1; b0 += batch) {
            const int64_t nb = std::min(batch, r1 - b0);
            for (int64_t b = 0; b < nb; ++b) {
              for (int64_t c = 0; c < k; ++c)
                ps[size_t(b * k + c)] = piece(b0 + b, c * kChunk, piece_len(n, c));
              ss[b] = combine(b0 + b, ps.data() + b * k, k);
            }
            post(ss, nb);
            for (int64_t b = 0; b < nb; ++b)
              for (int64_t c = 0; c < k; ++c)
                finish(b0 + b, c * kChunk, piece_len(n, c), ss[b], ps[size_t(b * k + c)]);
          }
        },
        rows * n);
    return;
  }
  std::vector<P> ps(static_cast<size_t>(rows * k));
  std::vector<S> ss(static_cast<size_t>(rows));
  detail::parallel_for(
      rows * k,
      [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u)
          ps[size_t(u)] = piece(u / k, (u % k) * kChunk, piece_len(n, u % k));
      },
      rows * n);
  for (int64_t r = 0; r < rows; ++r) ss[size_t(r)] = combine(r, ps.data() + r * k, k);
  post(ss.data(), rows);
  detail::parallel_for(
      rows * k,
      [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u)
          finish(u / k, (u % k) * kChunk, piece_len(n, u % k), ss[size_t(u / k)], ps[size_t(u)]);
      },
      rows * n);
}

// log_s = log1p(rest) of the finite rows among s[0, count), by the vector log1p.
void log_s_of(Stats *s, int64_t count) {
  double in[16], out[16];
  for (int64_t i0 = 0; i0 < count; i0 += 16) {
    const int64_t m = std::min<int64_t>(16, count - i0);
    for (int64_t i = 0; i < m; ++i) in[i] = s[i0 + i].kind == Kind::finite ? s[i0 + i].rest : 0;
    simd::log1p_f64(in, out, m);
    for (int64_t i = 0; i < m; ++i) s[i0 + i].log_s = out[i];
  }
}

// A row's Stats from its pieces: M = max of the pieces' maxima, and
// rest = (T - 1) + sum over pieces with max M of their rest
//        + sum over the others of exp(m_c - M) (rest_c + ties_c),
// T = number of elements equal to M; Neumaier-compensated in piece order.
Stats combine(const Piece *p, int64_t k) {
  Stats s;
  if (k == 0) return s;
  bool nan = false;
  float m = -kInf;
  for (int64_t c = 0; c < k; ++c) {
    nan = nan || p[c].nan;
    if (!p[c].nan && p[c].max > m) m = p[c].max;
  }
  s.max = m;
  if (nan) {
    s.kind = Kind::nan;
  } else if (m == kInf) {
    s.kind = Kind::pos_inf;
  } else if (m == -kInf) {
    s.kind = Kind::all_neg_inf;
  } else {
    s.kind = Kind::finite;
    double ties = 0;
    for (int64_t c = 0; c < k; ++c)
      if (p[c].max == m) ties += p[c].ties;
    detail::CompensatedSum<double> sum;
    sum.add(ties - 1);
    for (int64_t c = 0; c < k; ++c) {
      if (p[c].max == m)
        sum.add(p[c].rest);
      else
        sum.add(std::exp(double(p[c].max) - double(m)) * (p[c].rest + p[c].ties));
    }
    s.rest = sum.value(); // log_s: log_s_of, for a batch of rows
  }
  return s;
}

// exp(m_c - M), a piece's share of the row's max: exactly 1 for the pieces
// that hold the max (every piece of a short row), without a call to exp.
double piece_scale(float piece_max, float row_max) {
  return piece_max == row_max ? 1.0 : std::exp(double(piece_max) - double(row_max));
}

template <class E> void fill(E *y, int64_t len, float v) {
  const E e(v);
  for (int64_t i = 0; i < len; ++i) y[i] = e;
}

// Rows of one piece (1 to simd::kChunk elements) on all threads, one call
// per thread's share of the rows: up to simd::kShortRow elements one row
// per vector lane (simd::short_rows_f32), longer ones row by row
// (simd::one_piece_rows_f32). Both give the bits of run_rows' piece path.
template <class E> bool short_rows(const E *x, E *y, int64_t rows, int64_t n, simd::ShortOp op) {
  if (n < 1 || n > simd::kChunk) return false;
  detail::parallel_for(
      rows,
      [&](int64_t r0, int64_t r1) {
        if (n <= simd::kShortRow)
          return simd::short_rows_f32(x + r0 * n, r1 - r0, n, op, y + r0 * n, nullptr);
        thread_local std::vector<double> e;
        if (e.size() < size_t(n + 16)) e.resize(size_t(n + 16));
        simd::one_piece_rows_f32(x + r0 * n, r1 - r0, n, op, y + r0 * n, e.data());
      },
      rows * n);
  return true;
}

} // namespace

Stats analyze(const float *x, int64_t n) {
  const int64_t k = pieces_of(n);
  std::vector<Piece> ps(static_cast<size_t>(k));
  for (int64_t c = 0; c < k; ++c)
    simd::piece_f32(x + c * kChunk, piece_len(n, c), nullptr, &ps[size_t(c)], true);
  Stats s = combine(ps.data(), k);
  log_s_of(&s, 1);
  return s;
}

// The piece round of stats and log_softmax: max and sums, nothing stored.
template <class E> auto sums_of(const E *x, int64_t n) {
  return [x, n](int64_t r, int64_t off, int64_t len) {
    Piece p;
    simd::piece_f32(x + r * n + off, len, nullptr, &p, false);
    return p;
  };
}

template <class E> void stats(const E *x, int64_t rows, int64_t n, Stats *out) {
  if (n >= 1 && n <= simd::kShortRow) {
    detail::parallel_for(
        rows,
        [&](int64_t r0, int64_t r1) {
          std::vector<simd::RowStats> st(static_cast<size_t>(r1 - r0));
          simd::short_rows_f32(x + r0 * n, r1 - r0, n, simd::ShortOp::stats,
                               static_cast<E *>(nullptr), st.data());
          for (int64_t r = r0; r < r1; ++r) {
            const simd::RowStats &q = st[size_t(r - r0)];
            Stats &o = out[r]; // combine()'s kinds
            o.max = q.nan ? -kInf : q.max;
            o.kind = q.nan            ? Kind::nan
                     : q.max == kInf  ? Kind::pos_inf
                     : q.max == -kInf ? Kind::all_neg_inf
                                      : Kind::finite;
            o.rest = q.rest;
            o.log_s = q.log_s;
          }
        },
        rows * n);
    return;
  }
  run_rows<Piece, Stats>(
      rows, n, sums_of(x, n), [](int64_t, const Piece *p, int64_t k) { return combine(p, k); },
      log_s_of,
      [&](int64_t r, int64_t off, int64_t, const Stats &s, const Piece &) {
        if (off == 0) out[r] = s;
      });
}

// Where exp(x - max) of a row waits, in double, between the piece round and
// the finish round (softmax, cross_entropy_backward): rows padded to whole
// blocks of 16; one per row of run_rows' batch (16 rows of one piece, or 1
// row of several) in a buffer the thread keeps, or one per row when the
// pieces of a row are spread over threads.
class ExpRows {
public:
  ExpRows(int64_t rows, int64_t n)
      : stride_((n + 15) / 16 * 16), slots_(pieces_of(n) > 1 ? 1 : 16),
        spread_(pieces_of(n) > 1 && rows < detail::num_threads()) {
    if (spread_) shared_.resize(static_cast<size_t>(stride_ * rows));
  }
  double *row(int64_t r) {
    if (spread_) return shared_.data() + r * stride_;
    thread_local std::vector<double> local;
    const auto need = static_cast<size_t>(stride_ * slots_);
    if (local.size() < need) local.resize(need);
    return local.data() + (r % slots_) * stride_;
  }

private:
  int64_t stride_, slots_;
  bool spread_;
  std::vector<double> shared_;
};

template <class E> void softmax(const E *x, E *y, int64_t rows, int64_t n) {
  if (short_rows(x, y, rows, n, simd::ShortOp::softmax)) return;
  ExpRows exps(rows, n);
  run_rows<Piece, Stats>(
      rows, n,
      [&](int64_t r, int64_t off, int64_t len) {
        Piece p;
        simd::piece_f32(x + r * n + off, len, exps.row(r) + off, &p, false);
        return p;
      },
      [](int64_t, const Piece *p, int64_t k) { return combine(p, k); }, [](Stats *, int64_t) {},
      [&](int64_t r, int64_t off, int64_t len, const Stats &s, const Piece &p) {
        E *yr = y + r * n + off;
        switch (s.kind) {
        case Kind::finite:
          // p_i = exp(x_i - m_c) exp(m_c - M) / (1 + rest); exp(x_i - m_c) is in exps.
          simd::scale_f32(exps.row(r) + off, len, piece_scale(p.max, s.max) / (1 + s.rest), yr);
          break;
        case Kind::all_neg_inf: fill(yr, len, 0.0f); break;
        default: fill(yr, len, kNaN); break;
        }
      });
}

template <class E> void log_softmax(const E *x, E *y, int64_t rows, int64_t n) {
  if (short_rows(x, y, rows, n, simd::ShortOp::log_softmax)) return;
  run_rows<Piece, Stats>(
      rows, n, sums_of(x, n), [](int64_t, const Piece *p, int64_t k) { return combine(p, k); },
      log_s_of,
      [&](int64_t r, int64_t off, int64_t len, const Stats &s, const Piece &) {
        E *yr = y + r * n + off;
        switch (s.kind) {
        case Kind::finite: simd::log_prob_f32(x + r * n + off, len, s.max, s.log_s, yr); break;
        case Kind::all_neg_inf: fill(yr, len, -kInf); break;
        default: fill(yr, len, kNaN); break;
        }
      });
}

namespace {
// The backward ops on rows of 1 to simd::kShortRow elements, in lanes.
template <class E>
bool short_backward(const E *y, const E *dy, E *dx, int64_t rows, int64_t n, bool log) {
  if (n < 1 || n > simd::kShortRow) return false;
  detail::parallel_for(
      rows,
      [&](int64_t r0, int64_t r1) {
        simd::short_backward_f32(y + r0 * n, dy + r0 * n, r1 - r0, n, log, dx + r0 * n);
      },
      rows * n);
  return true;
}
} // namespace

template <class E> void softmax_backward(const E *y, const E *dy, E *dx, int64_t rows, int64_t n) {
  if (short_backward(y, dy, dx, rows, n, false)) return;
  run_rows<double, double>(
      rows, n,
      [&](int64_t r, int64_t off, int64_t len) {
        return simd::dot_f32(y + r * n + off, dy + r * n + off, len);
      },
      [](int64_t, const double *p, int64_t k) {
        detail::CompensatedSum<double> dot;
        for (int64_t c = 0; c < k; ++c) dot.add(p[c]);
        return dot.value();
      },
      [](double *, int64_t) {},
      [&](int64_t r, int64_t off, int64_t len, const double &dot, const double &) {
        const int64_t o = r * n + off;
        simd::softmax_backward_f32(y + o, dy + o, len, dot, dx + o);
      });
}

namespace {
struct Total {
  double sum = 0;
  bool infinite = false;
};
} // namespace

template <class E>
void log_softmax_backward(const E *y, const E *dy, E *dx, int64_t rows, int64_t n) {
  if (short_backward(y, dy, dx, rows, n, true)) return;
  run_rows<Total, Total>(
      rows, n,
      [&](int64_t r, int64_t off, int64_t len) {
        Total t;
        t.sum = simd::sum_f32(dy + r * n + off, len, &t.infinite);
        return t;
      },
      [](int64_t, const Total *p, int64_t k) {
        detail::CompensatedSum<double> sum;
        Total t;
        for (int64_t c = 0; c < k; ++c) {
          sum.add(p[c].sum);
          t.infinite = t.infinite || p[c].infinite;
        }
        t.sum = sum.value();
        return t;
      },
      [](Total *, int64_t) {},
      [&](int64_t r, int64_t off, int64_t len, const Total &t, const Total &) {
        const int64_t o = r * n + off;
        if (t.infinite)
          fill(dx + o, len, kNaN); // undefined (plugin.h)
        else if (t.sum == 0) // exp(y) * 0 = 0 even where exp(y) overflows; NaN for y NaN, +inf
          for (int64_t c = 0; c < len; ++c) {
            const float yc = y[o + c], g = dy[o + c]; // a half NaN comes out quiet
            dx[o + c] = E(std::isnan(yc) || yc == kInf ? kNaN : g);
          }
        else
          simd::log_softmax_backward_f32(y + o, dy + o, len, t.sum, dx + o);
      });
}

void cross_entropy_backward(const float *x, float *dx, int64_t rows, int64_t n,
                            const CrossEntropyRow *row) {
  if (n >= 1 && n <= simd::kShortRow) {
    detail::parallel_for(
        rows,
        [&](int64_t r0, int64_t r1) {
          simd::short_ce_backward_f32(x + r0 * n, dx + r0 * n, r1 - r0, n, row + r0);
        },
        rows * n);
    return;
  }
  ExpRows exps(rows, n);
  // Each row's target logit, read by the piece round (while the row is in
  // cache), before any of the row's dx is written: dx may be x (in place,
  // plugin.h), and the target's piece may be finished first.
  std::vector<float> target_logit(size_t(rows), 0.0f);
  run_rows<Piece, Stats>(
      rows, n,
      [&](int64_t r, int64_t off, int64_t len) {
        Piece p{};
        if (!row[r].active) return p;
        simd::piece_f32(x + r * n + off, len, exps.row(r) + off, &p, true);
        if (row[r].target >= off && row[r].target < off + len)
          target_logit[size_t(r)] = x[r * n + row[r].target];
        return p;
      },
      [&](int64_t r, const Piece *p, int64_t k) { return row[r].active ? combine(p, k) : Stats{}; },
      [](Stats *, int64_t) {},
      [&](int64_t r, int64_t off, int64_t len, const Stats &s, const Piece &p) {
        const CrossEntropyRow &cr = row[r];
        if (!cr.active) return;
        float *d = dx + r * n + off;
        if (s.kind == Kind::nan || s.kind == Kind::pos_inf) return fill(d, len, kNaN);
        // p_k = e_k * exp(m_c - M) / (1 + rest), e_k in dx; all -inf rows: p = 0.
        const bool finite = s.kind == Kind::finite;
        const double scale = finite ? piece_scale(p.max, s.max) / (1 + s.rest) : 0;
        simd::scale_shift_f32(exps.row(r) + off, len, cr.sr * scale, cr.g, cr.a0, d);
        if (cr.target >= off && cr.target < off + len) {
          const double pt =
              finite ? std::exp(double(target_logit[size_t(r)]) - double(s.max)) / (1 + s.rest) : 0;
          d[cr.target - off] = float(cr.g * (cr.sr * pt - cr.at));
        }
      });
}

#define SOFTCHECK_FAST_ROWS(E)                                                                     \
  template void stats<E>(const E *, int64_t, int64_t, Stats *);                                    \
  template void softmax<E>(const E *, E *, int64_t, int64_t);                                      \
  template void log_softmax<E>(const E *, E *, int64_t, int64_t);                                  \
  template void softmax_backward<E>(const E *, const E *, E *, int64_t, int64_t);                  \
  template void log_softmax_backward<E>(const E *, const E *, E *, int64_t, int64_t);
SOFTCHECK_FAST_ROWS(float)
SOFTCHECK_FAST_ROWS(bf16)
SOFTCHECK_FAST_ROWS(f16)
#undef SOFTCHECK_FAST_ROWS

} // namespace softcheck::fast
