// The vector building blocks of the float32 kernels (simd_rows.cpp), one
// compiled copy per Highway target, chosen at run time.
//
// Every function works on a piece of one contiguous row and computes in
// double lanes: x - max is exact there, exp has relative error below 2^-33
// (2^-51 where results may cancel), and each result is rounded to float
// once. Sums run over 16 fixed
// accumulators (element i of a piece goes to accumulator i mod 16) added in
// a fixed tree, so every target (AVX-512, AVX2, and the portable fallback,
// which fuses its multiply-adds in software) gives the same bits, and so
// does any split of a row into pieces of kChunk elements.
#pragma once

#include <softcheck/half.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace softcheck::simd {

// Rows are cut into pieces of this many elements; a piece's max, sum and
// ties are computed by one call and combined in piece order.
inline constexpr int64_t kChunk = 4096;

// One piece of a row: its max, whether it holds a NaN, and relative to its
// max m: rest = sum of exp(x - m) over x < m, ties = count of x == m.
struct Piece {
  float max;
  bool nan;
  double rest, ties;
};

// Max, NaN flag, rest and ties of x[0, len), len <= kChunk. When e is not
// NULL, e[i] = exp(x[i] - max) in double (0 where x[i] = -inf); e must
// have room for len rounded up to a multiple of 16. exp has relative error
// below 2^-33 (forward ops: the float rounding hides it), or below 2^-51
// when `accurate` (backward ops, whose results may cancel).
void piece_f32(const float *x, int64_t len, double *e, Piece *out, bool accurate);
// y[i] = float(e[i] * scale), e as piece_f32 wrote it.
void scale_f32(const double *e, int64_t len, double scale, float *y);
// y[i] = float(g * (e[i] * scale - a)).
void scale_shift_f32(const double *e, int64_t len, double scale, double g, double a, float *y);
// y[i] = float((double(x[i]) - max) - log_s).
void log_prob_f32(const float *x, int64_t len, double max, double log_s, float *y);
// sum of double(a[i]) * double(b[i]) (each product exact).
double dot_f32(const float *a, const float *b, int64_t len);
// sum of double(a[i]); *infinite set when some a[i] is +-inf.
double sum_f32(const float *a, int64_t len, bool *infinite);
// dx[i] = float(double(y[i]) * (double(dy[i]) - dot)).
void softmax_backward_f32(const float *y, const float *dy, int64_t len, double dot, float *dx);
// dx[i] = float(double(dy[i]) - exp(double(y[i])) * total).
void log_softmax_backward_f32(const float *y, const float *dy, int64_t len, double total,
                              float *dx);

// A one-piece row's statistics: max and nan as piece_f32 gives them
// (the max of the elements that are not NaN) and, for a finite row (no
// NaN, finite max), rest = (ties - 1) + the piece's rest (the one-piece
// combine) and log_s = log1p(rest) as log1p_f64 gives it; 0 and 0 else.
struct RowStats {
  float max;
  bool nan;
  double rest, log_s;
};

// Rows of 1 to kShortRow elements, one row per vector lane: for
// ShortOp::stats, stats[r] = row r's RowStats; for softmax and
// log_softmax, row r of y = the op's float outputs, as the one-piece row
// path gives them (scale_f32 and log_prob_f32 after piece_f32 and the
// one-piece combine): the same bits.
inline constexpr int64_t kShortRow = 32;
enum class ShortOp { stats, softmax, log_softmax };
void short_rows_f32(const float *x, int64_t rows, int64_t n, ShortOp op, float *y, RowStats *stats);
// A row of cross_entropy_backward (fast::cross_entropy_backward):
// dx[k] = float(g * (sr * p_k - a_k)), a_k = a0 except a_t at the target t.
struct CeRow {
  bool active = false;
  int64_t target = 0;
  double g = 0, sr = 0, a0 = 0, at = 0;
};
// cross_entropy_backward on rows of 1 to kShortRow elements, one row per
// lane, with the bits of the piece path (piece_f32 accurate, the one-piece
// combine, scale_shift_f32, the target's p_t from std::exp); rows that are
// not active are left untouched. dx may be x.
void short_ce_backward_f32(const float *x, float *dx, int64_t rows, int64_t n, const CeRow *row);
// softmax or log_softmax on rows of 1 to kChunk elements, one call for
// all of them: the bits of piece_f32, the one-piece combine and scale_f32
// or log_prob_f32. e: room for n rounded up to a multiple of 16 (softmax).
void one_piece_rows_f32(const float *x, int64_t rows, int64_t n, ShortOp op, float *y, double *e);

// The same functions on bfloat16 and float16 storage (the rows of the
// half kernels, whose compute is float32's): every element is widened to
// float exactly as it is loaded, and every result, rounded to float as
// above, is rounded once more, to the format (nearest even, with
// half_convert's bits). So a call gives the bits of widening its arrays,
// the float call and narrowing its outputs, without the float copies (a
// NaN's sign and payload aside: they follow the operand order the compiler
// picks, test_simd_targets).
#define SOFTCHECK_FLOAT_PATH(E)                                                                    \
  void piece_f32(const E *x, int64_t len, double *e, Piece *out, bool accurate);                   \
  void scale_f32(const double *e, int64_t len, double scale, E *y);                                \
  void log_prob_f32(const E *x, int64_t len, double max, double log_s, E *y);                      \
  double dot_f32(const E *a, const E *b, int64_t len);                                             \
  double sum_f32(const E *a, int64_t len, bool *infinite);                                         \
  void softmax_backward_f32(const E *y, const E *dy, int64_t len, double dot, E *dx);              \
  void log_softmax_backward_f32(const E *y, const E *dy, int64_t len, double total, E *dx);        \
  void one_piece_rows_f32(const E *x, int64_t rows, int64_t n, ShortOp op, E *y, double *e);       \
  void short_rows_f32(const E *x, int64_t rows, int64_t n, ShortOp op, E *y, RowStats *stats);     \
  void short_backward_f32(const E *y, const E *dy, int64_t rows, int64_t n, bool log, E *dx);
SOFTCHECK_FLOAT_PATH(bf16)
SOFTCHECK_FLOAT_PATH(f16)
#undef SOFTCHECK_FLOAT_PATH

// softmax_backward (log = false) and log_softmax_backward on rows of 1 to
// kShortRow elements, one row per lane: the bits of dot_f32 or sum_f32
// and the one-piece finish (fast_rows.cpp).
void short_backward_f32(const float *y, const float *dy, int64_t rows, int64_t n, bool log,
                        float *dx);

// out[i] = log1p(in[i]) for in[i] >= 0, +inf or NaN, relative error below
// 2^-40 (plenty for float results), the same bits on every target.
void log1p_f64(const double *in, double *out, int64_t n);

// Float64 rows, in double lanes and double-double where one rounding would
// not do (blocks of 8 elements, 8 fixed accumulators: every target the
// same bits).
//
// A row's statistics: max; special = the row has a NaN, an infinity, an
// |x| >= 2^1020, max - min > 700 or fewer than 2 elements (the scalar code
// takes those rows); else, over the x < max, rest_hi + rest_lo = sum of
// exp(x - max) in double-double with relative error below 2^-56.5 (each
// term's exp errs by less than that; the sum itself is exact to 2^-100),
// and ties = the count of x == max. When eh and el are not NULL,
// eh[i] + el[i] = exp(x[i] - max) to the same accuracy (x[i] = max gives
// exactly 1 + 0).
struct RowF64 {
  double max;
  bool special;
  double rest_hi, rest_lo;
  int64_t ties;
  long double log_s = -1; // log1p_rest_f64(*this) where short_rows_f64 gave it, else -1
};
void row_stats_f64(const double *x, int64_t n, double *eh, double *el, RowF64 *out);
// rest = (ties - 1) + rest_hi + rest_lo in long double (2^-64 per step).
inline long double rest_of(const RowF64 &st) {
  return (static_cast<long double>(st.ties - 1) + st.rest_hi) + st.rest_lo;
}
// log1p(rest) of a row that is not special, from its double-double sum
// (never rounded to long double first): relative error below 2^-60.5, then
// rounded to long double; the same bits on every target.
long double log1p_rest_f64(const RowF64 &st);
// Rows of 2 to kShortRow64 elements, one row per vector lane: stats[r] =
// row_stats_f64's RowF64 of row r (rest and ties 0 in special rows), with
// log_s computed in lanes, with its bits, except by softmax; for
// ShortOp::softmax and log_softmax, every row that is not special gets in
// y the outputs softmax_f64 or log_softmax_f64 give it with ih + il = 1 /
// (1 + rest_of) or lh + ll = log1p_rest_f64, each a long double split in
// two doubles (kernels.cpp's finish): the same bits. Special rows of y are
// not written. x may be y.
inline constexpr int64_t kShortRow64 = 16; // a multiple of 4 (AVX2 moves 4 x 4 blocks)
void short_rows_f64(const double *x, int64_t rows, int64_t n, ShortOp op, double *y, RowF64 *stats);
// softmax_backward (log = false) or log_softmax_backward on rows of 2 to
// kShortRow64 elements, one row per lane, with the bits of dot_f64 +
// softmax_backward_f64 or sum_f64 + log_softmax_backward_f64; the rows
// those leave to the scalar code (kernels.cpp) get scalar[r] = 1 and are
// not written, the others scalar[r] = 0. dx may be y or dy.
void short_backward_f64(const double *y, const double *dy, int64_t rows, int64_t n, bool log,
                        double *dx, uint8_t *scalar);
// y[i] = RN((eh[i] + el[i]) (ih + il)), the product in double-double; eh may be y.
void softmax_f64(const double *eh, const double *el, int64_t n, double ih, double il, double *y);
// y[i] = RN((x[i] - m) - (lh + ll)), x - m exact; x may be y.
void log_softmax_f64(const double *x, int64_t n, double m, double lh, double ll, double *y);
// dx[i] = RN((gh + gl) p_i - (ah + al)), p_i = (eh[i] + el[i]) (ih + il),
// all in double-double; eh may be dx.
void ce_backward_f64(const double *eh, const double *el, int64_t n, double ih, double il, double gh,
                     double gl, double ah, double al, double *dx);
// sum of a[0, n) in double-double; *nonfinite when some |a[i]| >= 2^1020, inf or NaN.
void sum_f64(const double *a, int64_t n, double *hi, double *lo, bool *nonfinite);
// dx[i] = RN(dy[i] - exp(y[i]) (th + tl)), in double-double, when every
// y[i] is in [-700, 0]; else false and nothing written.
bool log_softmax_backward_f64(const double *y, const double *dy, int64_t n, double th, double tl,
                              double *dx);
// sum of a[i] b[i] in double-double (products exact); *nonfinite when some
// |a[i]| or |b[i]| >= 2^500, inf or NaN.
void dot_f64(const double *a, const double *b, int64_t n, double *hi, double *lo, bool *nonfinite);
// dx[i] = RN(y[i] (dy[i] - (dh + dl))), the difference in double-double.
void softmax_backward_f64(const double *y, const double *dy, int64_t n, double dh, double dl,
                          double *dx);

// The Highway targets compiled in and supported by this CPU, best first
// ("AVX3", "AVX2", "EMU128"), and the one in use.
std::vector<std::string> targets();
std::string current_target();
// Restricts dispatch to one target by name, or to the last (the portable
// one: EMU128 or SCALAR, as the compiler gives) for "portable" (false:
// unknown or unsupported).
// Call before any kernel runs; the built-in set calls it at start-up with
// the value of SOFTCHECK_SIMD_TARGET, when set.
bool select_target(const std::string &name);

} // namespace softcheck::simd
