#include <softcheck/case.hpp>
#include <softcheck/guarded.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <sys/mman.h>

namespace softcheck {

GuardedBuffers::~GuardedBuffers() {
  for (const Mapping &m : maps_) ::munmap(m.base, m.size);
}

void *GuardedBuffers::place(const void *src, size_t bytes, Edge edge, size_t shift) {
  const size_t span = bytes + shift;
  const size_t data_pages = span == 0 ? 0 : (span + kPage - 1) / kPage;
  const size_t size = (data_pages + 2) * kPage;
  // Reserved inaccessible, then the data pages opened: the first and last
  // page stay PROT_NONE.
  void *base = ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  char *pages = static_cast<char *>(base) + kPage;
  if (data_pages > 0 && ::mprotect(pages, data_pages * kPage, PROT_READ | PROT_WRITE) != 0) {
    ::munmap(base, size);
    throw std::bad_alloc();
  }
  maps_.push_back({base, size});
  char *at = edge == Edge::end ? pages + data_pages * kPage - shift - bytes : pages + shift;
  if (bytes > 0) {
    if (src != nullptr)
      std::memcpy(at, src, bytes);
    else
      std::memset(at, 0, bytes);
  }
  return at;
}

namespace {

// One array's pages, kept by a thread from call to call: `pages` data pages
// between two PROT_NONE pages, mapped once and grown when a call needs more,
// so a call in the steady state makes no system call at all. An array is
// placed with its last byte on the last data page's end.
struct Slot {
  char *base = nullptr;
  size_t pages = 0;
  ~Slot() {
    if (base) ::munmap(base, (pages + 2) * kPage);
  }
  void *end_flush(const void *src, size_t bytes, size_t padding) {
    const size_t need = (bytes + padding + kPage - 1) / kPage;
    if (need > pages || base == nullptr) {
      if (base) ::munmap(base, (pages + 2) * kPage);
      base = nullptr;
      const size_t grown = std::max(need, 2 * pages);
      void *m = ::mmap(nullptr, (grown + 2) * kPage, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) throw std::bad_alloc();
      if (grown > 0 &&
          ::mprotect(static_cast<char *>(m) + kPage, grown * kPage, PROT_READ | PROT_WRITE) != 0) {
        ::munmap(m, (grown + 2) * kPage);
        throw std::bad_alloc();
      }
      base = static_cast<char *>(m);
      pages = grown;
    }
    char *at = base + kPage + pages * kPage - padding - bytes;
    if (bytes > 0) std::memcpy(at, src, bytes);
    if (padding > 0) std::memset(at + bytes, 0xFF, padding);
    return at;
  }
};

// A thread's slots, one per array of a call (x, aux, dout, weight, target,
// out): call() is never entered again from inside a kernel.
thread_local Slot t_slots[6];

// A guarded copy of `v` (its own pointer when empty: an empty array is
// passed as the caller's data() is, NULL or not).
template <class E> const E *guarded_copy(int slot, const std::vector<E> &v, size_t padding) {
  if (v.empty()) return v.data();
  return static_cast<const E *>(t_slots[slot].end_flush(v.data(), v.size() * sizeof(E), padding));
}

template <class E> void write_back(const std::vector<E> &v, const E *copy) {
  if (!v.empty() && copy != v.data() && std::memcmp(copy, v.data(), v.size() * sizeof(E)) != 0)
    std::memcpy(const_cast<E *>(v.data()), copy, v.size() * sizeof(E));
}

} // namespace

template <class T> Status call(const softcheck_kernel_set &set, const Case<T> &c, T *out) {
  const size_t pad = set.input_padding_bytes;
  CallData<T> d;
  d.x = guarded_copy(0, c.x, pad);
  d.aux = guarded_copy(1, c.aux, pad);
  d.dout = guarded_copy(2, c.dout, pad);
  d.weight = c.weight.empty() ? nullptr : guarded_copy(3, c.weight, pad);
  d.target = guarded_copy(4, c.target, pad);
  const size_t n = size_t(c.output_count());
  T *o = out == nullptr ? nullptr : static_cast<T *>(t_slots[5].end_flush(out, n * sizeof(T), 0));
  const Status st = call(ops_of<T>(set), c, d, o);
  if (o != nullptr && n > 0) std::memcpy(out, o, n * sizeof(T));
  write_back(c.x, d.x);
  write_back(c.aux, d.aux);
  write_back(c.dout, d.dout);
  write_back(c.weight, d.weight);
  write_back(c.target, d.target);
  return st;
}

template Status call<float>(const softcheck_kernel_set &, const Case<float> &, float *);
template Status call<double>(const softcheck_kernel_set &, const Case<double> &, double *);
template Status call<bf16>(const softcheck_kernel_set &, const Case<bf16> &, bf16 *);
template Status call<f16>(const softcheck_kernel_set &, const Case<f16> &, f16 *);

} // namespace softcheck
