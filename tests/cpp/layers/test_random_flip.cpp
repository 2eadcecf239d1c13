// Tests for layers/random_flip.cpp and the flip_images kernel: per-sample flips drawn from Philox
// (seed, step, sample) with Keras's rule (uniform <= 0.5), outputs equal to reference flips for
// every mode, about half the samples flipped, reproducible for a seed and step and different for
// another step or seed, the identity (a view) at inference, the gradient (shared helper) and
// shape and mode errors.
#include <catch2/catch.hpp>

#include <vector>

#include "core/errors.h"
#include "core/rng.h"
#include "gradient_check.h"
#include "layers/random_flip.h"
#include "test_util.h"

using namespace fftest;

namespace {

// Reference: sample s of x (n, h, w, c) flipped as asked.
std::vector<float> flip_ref(const std::vector<float>& x, int64_t n, int64_t h, int64_t w,
                            int64_t c, const std::vector<std::array<float, 2>>& flips) {
  std::vector<float> y(x.size());
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j)
        for (int64_t k = 0; k < c; ++k) {
          const int64_t si = flips[s][1] != 0.0f ? h - 1 - i : i;
          const int64_t sj = flips[s][0] != 0.0f ? w - 1 - j : j;
          y[((s * h + i) * w + j) * c + k] = x[((s * h + si) * w + sj) * c + k];
        }
  return y;
}

std::vector<float> run(ff::RandomFlip& layer, const ff::Shape& shape, const std::vector<float>& xv,
                       uint64_t step) {
  layer.build(ff::with_batch(shape, ff::kNone));
  std::vector<ff::Tensor> scratch;
  for (const auto& s : layer.scratch_shapes(shape[0])) scratch.push_back(ff::Tensor::zeros(fftest::device(), s));
  ff::Tensor x = make_tensor(shape, xv), y = ff::Tensor::zeros(fftest::device(), shape);
  fftest::TestContext context(true, step, 0, 0);
  layer.forward(x, y, scratch, context.ctx);
  return to_vector(y);
}

}  // namespace

TEST_CASE("RandomFlip: per-sample flips follow the documented draw, for every mode",
          "[layers][random_flip]") {
  const int64_t n = 16, h = 3, w = 4, c = 2;
  const auto xv = uniform_values(n * h * w * c, 3, -1.0f, 1.0f);
  for (const char* mode : {"horizontal", "vertical", "horizontal_and_vertical"}) {
    CAPTURE(mode);
    ff::RandomFlip layer("random_flip", 42, mode);
    std::vector<std::array<float, 2>> flips;
    int flipped = 0;
    for (int64_t s = 0; s < n; ++s) {
      const auto f = layer.flips_for(7, s);
      const bool draw = ff::Philox::to_unit(ff::Philox::block(42, 7, s)[0]) <= 0.5f;
      const std::string m = mode;
      CHECK(f[0] == (draw && m != "vertical" ? 1.0f : 0.0f));
      CHECK(f[1] == (draw && m != "horizontal" ? 1.0f : 0.0f));
      flipped += draw;
      flips.push_back(f);
    }
    CHECK(flipped > 0);
    CHECK(flipped < n);
    CHECK(run(layer, {n, h, w, c}, xv, 7) == flip_ref(xv, n, h, w, c, flips));
  }
}

TEST_CASE("RandomFlip: about half the samples flip, reproducible per seed and step",
          "[layers][random_flip]") {
  ff::RandomFlip layer("random_flip", 5, "horizontal");
  int flipped = 0;
  for (int64_t s = 0; s < 2000; ++s) flipped += layer.flips_for(3, s)[0] != 0.0f;
  CHECK(flipped > 900);  // Binomial(2000, 1/2): sd ~22
  CHECK(flipped < 1100);

  const ff::Shape shape{32, 2, 3, 1};
  const auto xv = uniform_values(32 * 6, 9, -1.0f, 1.0f);
  const auto a = run(layer, shape, xv, 11);
  CHECK(run(layer, shape, xv, 11) == a);
  CHECK(run(layer, shape, xv, 12) != a);
  ff::RandomFlip other("random_flip_1", 6, "horizontal");
  CHECK(run(other, shape, xv, 11) != a);
}

TEST_CASE("RandomFlip: the identity at inference", "[layers][random_flip]") {
  ff::RandomFlip layer("random_flip", 1, "horizontal_and_vertical");
  CHECK(layer.aliases_input(false));
  CHECK_FALSE(layer.aliases_input(true));
}

TEST_CASE("RandomFlip: gradient check at a fixed step", "[layers][random_flip][gradient]") {
  ff::RandomFlip layer("random_flip", 3, "horizontal_and_vertical");
  LayerCheckSpec spec;
  spec.input_shape = {4, 2, 3, 2};
  spec.training = true;
  spec.step = 5;
  const auto r = check_layer_gradients(layer, spec);
  require_gradients_match(r);
  CHECK(r.y != r.x);  // at least one sample was flipped
}

TEST_CASE("RandomFlip: shape and mode errors", "[layers][random_flip]") {
  CHECK_THROWS_WITH(ff::RandomFlip("random_flip", 1, "diagonal"),
                    Catch::Contains("diagonal") && Catch::Contains("'horizontal'"));
  ff::RandomFlip layer("random_flip", 1, "horizontal");
  CHECK_THROWS_WITH(layer.build({ff::kNone, 28, 28}),
                    Catch::Contains("rank 4") && Catch::Contains("found shape=(None, 28, 28)"));
  ff::RandomFlip unknown("random_flip_1", 1, "horizontal");
  CHECK_THROWS_AS(unknown.build({ff::kNone, ff::kNone, 28, 3}), ff::ValueError);
}
