// bfloat16 matmul (see matmul_bf16.h). The operands are converted to bfloat16 once (a rounding
// pass; exact for values the model already rounded). The output is then computed in fixed blocks
// of rows (a function of the shape only), each by a oneDNN matmul primitive created and run on a
// single thread: every output element's whole sum is one primitive's on one thread, so the bits
// never depend on the number of threads. Primitives are cached per thread and shape.
// Where there are no bfloat16 kernels, matmul_bf16_in_float32 gives the backend's float32 GEMM
// the very values the bfloat16 kernels read (the same rounding loop), in the same blocks.
#include "backend/cpu/matmul_bf16.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>
#include <vector>
#ifdef FORGEFLOW_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include "backend/cpu/onednn_cache.h"
#endif

#include "backend/backend.h"
#include "backend/cpu/parallel.h"
#include "core/half.h"

namespace ff::cpu {

namespace {

// Rows of `rows` values x `cols` at stride `ld`, each rounded to the nearest bfloat16 (to even)
// and stored by store(index, rounded float32 value); the copy keeps the stride.
template <class Store>
void round_rows_bf16(const float* src, int64_t rows, int64_t cols, int64_t ld, Store&& store) {
  parallel_for(rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t j = 0; j < cols; ++j) store(r * ld + j, round_to_bfloat16(src[r * ld + j]));
  }, rows * cols, 1);
}

// Elements a rows x cols operand at stride ld spans (0 when empty).
size_t operand_span(int64_t rows, int64_t cols, int64_t ld) {
  return rows <= 0 || cols <= 0 ? 0 : static_cast<size_t>((rows - 1) * ld + cols);
}

// Rows of c per block: enough work per primitive call, at least 8 blocks when m allows; a
// function of the shape only.
int64_t block_rows(int64_t m) { return std::max<int64_t>(16, (m + 7) / 8); }

// float32 values -> the same values rounded to bfloat16, as float32 (matmul_bf16_in_float32).
void to_rounded_float(const float* src, int64_t rows, int64_t cols, int64_t ld,
                      std::vector<float>& dst) {
  dst.resize(operand_span(rows, cols, ld));
  float* out = dst.data();
  round_rows_bf16(src, rows, cols, ld, [out](int64_t i, float v) { out[i] = v; });
}

}  // namespace

void matmul_bf16_in_float32(Backend& be, bool trans_a, bool trans_b, int64_t m, int64_t n,
                            int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                            float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  thread_local std::vector<float> a16, b16;
  // Stored shapes: a is m x k (or k x m transposed), b is k x n (or n x k).
  to_rounded_float(a, trans_a ? k : m, trans_a ? m : k, lda, a16);
  to_rounded_float(b, trans_b ? n : k, trans_b ? k : n, ldb, b16);
  const int64_t rows = block_rows(m), blocks = (m + rows - 1) / rows;
  const float* a_data = a16.data();
  const float* b_data = b16.data();
  for_each_task_single_threaded(blocks, [&](int64_t blk) {
    const int64_t r0 = blk * rows, mr = std::min(rows, m - r0);
    // Row r0 of op(a): row r0 of a, or column r0 of a stored transposed.
    be.gemm(trans_a, trans_b, mr, n, k, 1.0f, a_data + (trans_a ? r0 : r0 * lda), lda, b_data,
            ldb, 0.0f, c + r0 * ldc, ldc);
    return true;
  });
}

#ifdef FORGEFLOW_HAVE_ONEDNN
namespace {

// float32 values -> bfloat16 bit patterns (the upper halves of the rounded values).
void to_bf16(const float* src, int64_t rows, int64_t cols, int64_t ld, std::vector<uint16_t>& dst) {
  dst.resize(operand_span(rows, cols, ld));
  uint16_t* out = dst.data();
  round_rows_bf16(src, rows, cols, ld, [out](int64_t i, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    out[i] = static_cast<uint16_t>(bits >> 16);
  });
}

struct Matmul {
  dnnl::engine engine;
  dnnl::stream stream;
  dnnl::memory::desc a, b, c;
  dnnl::matmul primitive;
  dnnl::memory scratchpad;
};

using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;

std::unique_ptr<Matmul> make_matmul(const Key& key) {
  using dnnl::memory;
  const auto [ta, tb, m, n, k, lda, ldb, ldc] = key;
  auto mm = std::make_unique<Matmul>();
  mm->engine = dnnl::engine(dnnl::engine::kind::cpu, 0);
  mm->stream = dnnl::stream(mm->engine);
  // Logical a (m x k), b (k x n), c (m x n); a transposed operand is the same memory read with
  // swapped strides.
  mm->a = memory::desc({m, k}, memory::data_type::bf16,
                       ta ? memory::dims{1, lda} : memory::dims{lda, 1});
  mm->b = memory::desc({k, n}, memory::data_type::bf16,
                       tb ? memory::dims{1, ldb} : memory::dims{ldb, 1});
  mm->c = memory::desc({m, n}, memory::data_type::f32, memory::dims{ldc, 1});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(mm->a, mm->b, mm->c), attr,
                                         mm->engine);
  mm->primitive = dnnl::matmul(pd);
  mm->scratchpad = memory(pd.scratchpad_desc(), mm->engine);
  return mm;
}

// This thread's primitive for the shape (created while the thread's OpenMP count is 1), or null.
Matmul* matmul_for(const Key& key) {
  thread_local std::map<Key, std::unique_ptr<Matmul>> cache;
  return cached_primitives(cache, 128, key, [&] { return make_matmul(key); });
}

}  // namespace

bool bf16_kernels_available() {
  static const bool available = [] {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
  }();
  return available;
}

bool matmul_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  if (!bf16_kernels_available() || m <= 0 || n <= 0 || k <= 0) return false;
  thread_local std::vector<uint16_t> a16, b16;
  // Stored shapes: a is m x k (or k x m transposed), b is k x n (or n x k).
  to_bf16(a, trans_a ? k : m, trans_a ? m : k, lda, a16);
  to_bf16(b, trans_b ? n : k, trans_b ? k : n, ldb, b16);
  const int64_t rows = block_rows(m), blocks = (m + rows - 1) / rows;
  const uint16_t* a_data = a16.data();
  const uint16_t* b_data = b16.data();
  return for_each_task_single_threaded(blocks, [&](int64_t blk) {
    const int64_t r0 = blk * rows, mr = std::min(rows, m - r0);
    Matmul* mm = matmul_for(Key{trans_a, trans_b, mr, n, k, lda, ldb, ldc});
    if (!mm) return false;
    // Row r0 of op(a): row r0 of a, or column r0 of a stored transposed.
    const uint16_t* a_rows = a_data + (trans_a ? r0 : r0 * lda);
    dnnl::memory am(mm->a, mm->engine, const_cast<uint16_t*>(a_rows));
    dnnl::memory bm(mm->b, mm->engine, const_cast<uint16_t*>(b_data));
    dnnl::memory cm(mm->c, mm->engine, c + r0 * ldc);
    mm->primitive.execute(mm->stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm},
                                       {DNNL_ARG_DST, cm}, {DNNL_ARG_SCRATCHPAD, mm->scratchpad}});
    mm->stream.wait();
    return true;
  });
}

#else  // no oneDNN in this build

bool bf16_kernels_available() { return false; }

bool matmul_bf16(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                 int64_t, float*, int64_t) {
  return false;
}

#endif

}  // namespace ff::cpu
