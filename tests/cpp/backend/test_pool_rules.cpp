// Tests for backend/pool_rules.h, the window rules the CPU and CUDA pooling kernels share: the
// clipped window against a position-by-position scan (huge pools included, no overflow), the
// first-maximum comparison with NaN, and the windows containing an input position (which the
// CUDA backward passes gather through) against the brute-force list, for many strides, paddings
// and pool sizes.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <vector>

#include "backend/pool_rules.h"

namespace {

ff::Pool2DGeometry geometry(int64_t H, int64_t K, int64_t s, bool same) {
  ff::Pool2DGeometry g;
  g.N = 1;
  g.C = 1;
  g.H = g.W = H;
  g.KH = g.KW = K;
  g.stride_h = g.stride_w = s;
  if (same) {
    g.OH = (H + s - 1) / s;
    const int64_t total = (g.OH - 1) * s + K - H;
    g.pad_top = g.pad_left = total > 0 ? total / 2 : 0;
  } else {
    g.OH = (H - K) / s + 1;
  }
  g.OW = g.OH;
  return g;
}

}  // namespace

TEST_CASE("pool_window clips each window to the input", "[backend][pooling]") {
  for (int64_t H : {1, 2, 5, 7})
    for (int64_t K : {1, 2, 3, 4})
      for (int64_t s : {1, 2, 3})
        for (bool same : {false, true}) {
          if (!same && K > H) continue;
          const ff::Pool2DGeometry g = geometry(H, K, s, same);
          for (int64_t o = 0; o < g.OH; ++o) {
            const ff::PoolWindow w = ff::pool_window(g, o, o);
            int64_t lo = -1, hi = -1;
            for (int64_t i = 0; i < H; ++i) {
              const int64_t start = o * s - g.pad_top;
              if (i >= start && i < start + K) {
                if (lo < 0) lo = i;
                hi = i + 1;
              }
            }
            INFO("H " << H << " K " << K << " s " << s << " same " << same << " o " << o);
            REQUIRE(lo >= 0);  // every window of a layer's geometry holds a position
            CHECK(w.h0 == lo);
            CHECK(w.h1 == hi);
            CHECK(w.w0 == lo);
            CHECK(w.w1 == hi);
          }
        }
}

TEST_CASE("pool_window does not overflow for a pool far larger than the input",
          "[backend][pooling]") {
  ff::Pool2DGeometry g;
  g.N = g.C = 1;
  g.H = 3;
  g.W = 4;
  g.KH = g.KW = std::numeric_limits<int32_t>::max();
  g.OH = g.OW = 1;
  const ff::PoolWindow w = ff::pool_window(g, 0, 0);
  CHECK(w.h0 == 0);
  CHECK(w.h1 == 3);
  CHECK(w.w0 == 0);
  CHECK(w.w1 == 4);
}

TEST_CASE("pool_beats keeps the first maximum and the first NaN", "[backend][pooling]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(ff::pool_beats(2.0f, 1.0f));
  CHECK_FALSE(ff::pool_beats(1.0f, 1.0f));  // a tie keeps the earlier position
  CHECK_FALSE(ff::pool_beats(0.5f, 1.0f));
  CHECK(ff::pool_beats(nan, 1.0f));
  CHECK(ff::pool_beats(nan, inf));
  CHECK_FALSE(ff::pool_beats(nan, nan));  // the first NaN stays
  CHECK_FALSE(ff::pool_beats(inf, nan));
  CHECK(ff::pool_beats(inf, -inf));
}

TEST_CASE("pool_windows_containing lists exactly the windows holding a position",
          "[backend][pooling]") {
  int checked = 0;
  for (int64_t H : {1, 2, 3, 5, 8, 9})
    for (int64_t K : {1, 2, 3, 5, 9})
      for (int64_t s : {1, 2, 3, 4})
        for (bool same : {false, true}) {
          if (!same && K > H) continue;
          const ff::Pool2DGeometry g = geometry(H, K, s, same);
          for (int64_t i = 0; i < H; ++i) {
            std::vector<int64_t> expected;
            for (int64_t o = 0; o < g.OH; ++o) {
              const ff::PoolWindow w = ff::pool_window(g, o, 0);
              if (i >= w.h0 && i < w.h1) expected.push_back(o);
            }
            int64_t first = 0, last = 0;
            ff::pool_windows_containing(i, s, g.pad_top, K, g.OH, &first, &last);
            std::vector<int64_t> got;
            for (int64_t o = first; o <= last; ++o) got.push_back(o);
            INFO("H " << H << " K " << K << " s " << s << " same " << same << " i " << i);
            CHECK(got == expected);
            ++checked;
          }
        }
  CHECK(checked > 500);
  // A global window of a huge pool: every position is in the one window.
  int64_t first = -1, last = -1;
  ff::pool_windows_containing(2, 1, 0, std::numeric_limits<int32_t>::max(), 1, &first, &last);
  CHECK(first == 0);
  CHECK(last == 0);
}
