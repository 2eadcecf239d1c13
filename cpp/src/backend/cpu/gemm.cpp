// Float32 GEMM in shape-fixed tiles on single-threaded library calls (gemm.h).
//
// Tile sizes (measured 2026-12-05 on the project's 2-core AMD EPYC VM, oneDNN 2.6.3, one thread,
// thread CPU time of the tiled product over one sgemm call, the six GEMM shapes of the MLP
// 784-512-512-10 at batch 128): 128 x 128 tiles cost 1.00-1.02x for NN and TN products and
// 1.03-1.07x for NT; 64-row tiles 1.01-1.05x for NN/TN but 1.2-2.4x for NT (oneDNN's NT kernel
// wants 128 rows); 96- or 64-column tiles up to 13x on some shapes. So tiles are at least 128 x
// 128 (the whole side when shorter) and hold at least kTileMacs multiply-adds (gemm_work).
#include "backend/cpu/gemm.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>
#ifdef FORGEFLOW_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#else
#include <cblas.h>

#include <climits>
#include <mutex>
// OpenBLAS's own thread count (absent from other BLAS libraries, hence weak).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
#endif

#include "backend/cpu/parallel.h"
#include "core/errors.h"

namespace ff::cpu {

namespace {

constexpr int64_t kTile = 128;                  // output tile side
constexpr int64_t kTileMacs = int64_t{2} << 20;  // multiply-adds a tile holds at least
constexpr int64_t kChunkK = 4096;               // k chunk when a long sum is cut
constexpr int64_t kMaxPartsK = 8;
// A product with fewer rows (or columns) than this is a matrix-vector product in all but name:
// reading the matrix costs what kThinSide rows of multiply-adds would (measured: 1 x 512 x 784
// takes 23 us on one thread, 11 us in two 256-column tiles on two).
constexpr int64_t kThinSide = 16;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Cuts `size` into about `parts` pieces of a multiple of `align`; returns {piece, pieces}.
std::pair<int64_t, int64_t> cut(int64_t size, int64_t parts, int64_t align) {
  if (parts <= 1 || size <= align) return {std::max<int64_t>(size, 1), 1};
  const int64_t piece = std::min(size, ceil_div(ceil_div(size, parts), align) * align);
  return {piece, ceil_div(size, piece)};
}

// One single-threaded product: C[m x n] = alpha op(A) op(B) + beta C. False on a library error.
bool gemm_single(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                 int& status) {
#ifdef FORGEFLOW_HAVE_ONEDNN
  const dnnl_status_t s = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b,
                                     ldb, beta, c, ldc);
  status = static_cast<int>(s);
  return s == dnnl_success;
#else
  static std::once_flag once;
  std::call_once(once, [] {
    if (openblas_set_num_threads) openblas_set_num_threads(1);  // the tiles are the threads
  });
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  status = 0;
  return true;
#endif
}

#ifndef FORGEFLOW_HAVE_ONEDNN
// CBLAS takes int dimensions: a product with a dimension past INT_MAX is an error naming it,
// never a silently truncated call (oneDNN's sgemm takes 64-bit dimensions).
void check_cblas_dims(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
  for (int64_t d : {m, n, k, lda, ldb, ldc})
    if (d > INT_MAX)
      throw ValueError("gemm with m=" + std::to_string(m) + ", n=" + std::to_string(n) +
                       ", k=" + std::to_string(k) + " exceeds the 32-bit dimensions of CBLAS "
                       "(this build has no oneDNN); use a smaller batch_size");
}
#endif

}  // namespace

int64_t gemm_work(int64_t m, int64_t n, int64_t k) {
  return std::max<int64_t>(m, kThinSide) * std::max<int64_t>(n, kThinSide) * k;
}

GemmPlan gemm_plan(bool, bool, int64_t m, int64_t n, int64_t k) {
  GemmPlan p;
  const int64_t macs = gemm_work(m, n, k);
  int64_t pm = std::max<int64_t>(1, m / kTile), pn = std::max<int64_t>(1, n / kTile);
  while (pm * pn > 1 && macs / (pm * pn) < kTileMacs) {
    if (pm >= pn) pm = ceil_div(pm, 2);
    else pn = ceil_div(pn, 2);
  }
  std::tie(p.tile_m, p.parts_m) = cut(m, pm, 16);
  std::tie(p.tile_n, p.parts_n) = cut(n, pn, 16);
  // A long sum behind few output tiles (a filter gradient over a whole batch of pixels): cut k
  // into fixed chunks, each still holding kTileMacs per output tile.
  p.tile_k = std::max<int64_t>(k, 1);
  const int64_t out_tiles = p.parts_m * p.parts_n;
  if (out_tiles < 8 && k >= 2 * kChunkK) {
    const int64_t pk = std::min({kMaxPartsK, k / kChunkK, macs / (out_tiles * kTileMacs)});
    if (pk > 1) std::tie(p.tile_k, p.parts_k) = cut(k, pk, 256);
  }
  return p;
}

void gemm_f32(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
              int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
#ifndef FORGEFLOW_HAVE_ONEDNN
  check_cblas_dims(m, n, k, lda, ldb, ldc);
#endif
  if (k == 0) {  // an empty sum: C = beta * C (beta 0 writes zeros, never reading C)
    parallel_for(m, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t j = 0; j < n; ++j) c[r * ldc + j] = beta == 0.0f ? 0.0f : beta * c[r * ldc + j];
    }, m * n, 1);
    return;
  }
  const GemmPlan p = gemm_plan(ta, tb, m, n, k);
  // op(A) rows [i0, ..) and op(B) columns [j0, ..) over the k range [k0, ..).
  auto a_at = [&](int64_t i0, int64_t k0) { return ta ? a + k0 * lda + i0 : a + i0 * lda + k0; };
  auto b_at = [&](int64_t k0, int64_t j0) { return tb ? b + j0 * ldb + k0 : b + k0 * ldb + j0; };
  const int64_t out_tiles = p.parts_m * p.parts_n;
  int status = 0;
  std::vector<float> partial;  // k-cut products: parts_k blocks of m x n, added in order below
  if (p.parts_k > 1) partial.resize(static_cast<size_t>(p.parts_k * m * n));
  const bool ok = for_each_task_single_threaded(
      p.tiles(),
      [&](int64_t t) {
        const int64_t kp = t / out_tiles, ij = t % out_tiles;
        const int64_t i0 = ij / p.parts_n * p.tile_m, j0 = ij % p.parts_n * p.tile_n;
        const int64_t k0 = kp * p.tile_k;
        const int64_t mm = std::min(p.tile_m, m - i0), nn = std::min(p.tile_n, n - j0);
        const int64_t kk = std::min(p.tile_k, k - k0);
        int s = 0;
        const bool done =
            p.parts_k == 1
                ? gemm_single(ta, tb, mm, nn, kk, alpha, a_at(i0, k0), lda, b_at(k0, j0), ldb,
                              beta, c + i0 * ldc + j0, ldc, s)
                : gemm_single(ta, tb, mm, nn, kk, 1.0f, a_at(i0, k0), lda, b_at(k0, j0), ldb,
                              0.0f, partial.data() + kp * m * n + i0 * n + j0, n, s);
        if (!done) {
#pragma omp critical(ff_gemm_status)
          status = s;
        }
        return done;
      },
      std::max<int64_t>(1, gemm_work(m, n, k) / p.tiles()), kTileMacs);
  if (!ok)
    throw ValueError("oneDNN sgemm failed (status " + std::to_string(status) + ") for m=" +
                     std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k));
  if (p.parts_k == 1) return;
  parallel_for(m, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* cr = c + r * ldc;
      for (int64_t j = 0; j < n; ++j) {
        float sum = partial[r * n + j];
        for (int64_t q = 1; q < p.parts_k; ++q) sum += partial[(q * m + r) * n + j];
        cr[j] = beta == 0.0f ? alpha * sum : alpha * sum + beta * cr[j];
      }
    }
  }, m * n * p.parts_k, 1);
}

}  // namespace ff::cpu
