#include <softcheck/case.hpp>
#include <softcheck/guarded.hpp>

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

// A guarded copy of `v` (its own pointer when empty: an empty array is
// passed as the caller's data() is, NULL or not).
template <class E> const E *guarded_copy(GuardedBuffers &g, const std::vector<E> &v) {
  if (v.empty()) return v.data();
  return static_cast<const E *>(g.place(v.data(), v.size() * sizeof(E)));
}

template <class E> void write_back(const std::vector<E> &v, const E *copy) {
  if (!v.empty() && copy != v.data() && std::memcmp(copy, v.data(), v.size() * sizeof(E)) != 0)
    std::memcpy(const_cast<E *>(v.data()), copy, v.size() * sizeof(E));
}

} // namespace

template <class T> Status call(const softcheck_ops &ops, const Case<T> &c, T *out) {
  GuardedBuffers g;
  CallData<T> d;
  d.x = guarded_copy(g, c.x);
  d.aux = guarded_copy(g, c.aux);
  d.dout = guarded_copy(g, c.dout);
  d.weight = c.weight.empty() ? nullptr : guarded_copy(g, c.weight);
  d.target = guarded_copy(g, c.target);
  const size_t n = size_t(c.output_count());
  T *o = out == nullptr ? nullptr : static_cast<T *>(g.place(out, n * sizeof(T)));
  const Status st = call(ops, c, d, o);
  if (o != nullptr && n > 0) std::memcpy(out, o, n * sizeof(T));
  write_back(c.x, d.x);
  write_back(c.aux, d.aux);
  write_back(c.dout, d.dout);
  write_back(c.weight, d.weight);
  write_back(c.target, d.target);
  return st;
}

template Status call<float>(const softcheck_ops &, const Case<float> &, float *);
template Status call<double>(const softcheck_ops &, const Case<double> &, double *);

} // namespace softcheck
