// Tests for layers/layer.cpp: build-once shape resolution (same shape again is a no-op, another
// shape raises the Keras-style incompatibility error), check_input at run time, and bind().
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "layers/dense.h"
#include "test_util.h"

using namespace fftest;

TEST_CASE("Layer: building twice with the same shape is a no-op", "[layers][layer]") {
  ff::Dense d("dense", 1, 3, "relu", true, "glorot_uniform", "zeros");
  CHECK_FALSE(d.built());
  CHECK(d.build({32, 4}) == ff::Shape{ff::kNone, 3});
  CHECK(d.built());
  CHECK(d.input_shape() == ff::Shape{ff::kNone, 4});
  CHECK(d.build({ff::kNone, 4}) == ff::Shape{ff::kNone, 3});
  CHECK(d.build({7, 4}) == ff::Shape{ff::kNone, 3});  // the batch dimension is free
  CHECK(d.input_shape() == ff::Shape{ff::kNone, 4});
}

TEST_CASE("Layer: building with another shape raises the Keras-style message", "[layers][layer]") {
  ff::Dense d("my_dense", 1, 3, "relu", true, "glorot_uniform", "zeros");
  d.build({ff::kNone, 4});
  CHECK_THROWS_AS(d.build({ff::kNone, 5}), ff::ValueError);
  CHECK_THROWS_WITH(d.build({ff::kNone, 5}),
                    "Input 0 of layer \"my_dense\" (Dense) is incompatible with the layer: "
                    "expected shape=(None, 4), found shape=(None, 5)");
  CHECK_THROWS_WITH(d.build({32, 4, 1}), Catch::Contains("Input 0 of layer \"my_dense\"") &&
                                             Catch::Contains("expected shape=(None, 4)") &&
                                             Catch::Contains("found shape=(32, 4, 1)"));
  // Still built for the first shape.
  CHECK(d.input_shape() == ff::Shape{ff::kNone, 4});
  CHECK(d.output_shape() == ff::Shape{ff::kNone, 3});
}

TEST_CASE("Layer: check_input accepts any batch and rejects anything else", "[layers][layer]") {
  ff::Dense d("dense_1", 1, 2, "linear", true, "glorot_uniform", "zeros");
  d.build({ff::kNone, 28, 28, 1});
  CHECK_NOTHROW(d.check_input({32, 28, 28, 1}));
  CHECK_NOTHROW(d.check_input({1, 28, 28, 1}));
  CHECK_THROWS_WITH(d.check_input({32, 28, 28}),
                    "Input 0 of layer \"dense_1\" (Dense) is incompatible with the layer: "
                    "expected shape=(None, 28, 28, 1), found shape=(32, 28, 28)");
  CHECK_THROWS_AS(d.check_input({32, 28, 28, 3}), ff::ValueError);
  CHECK_THROWS_AS(d.check_input({}), ff::ValueError);
}

TEST_CASE("Layer: a scalar input shape raises", "[layers][layer]") {
  ff::Dense d("dense_2", 1, 2, "linear", true, "glorot_uniform", "zeros");
  CHECK_THROWS_WITH(d.build({}), Catch::Contains("Input 0 of layer \"dense_2\"") &&
                                     Catch::Contains("shape=()"));
  CHECK_FALSE(d.built());
}

TEST_CASE("Layer: bind hands the layer its parameter and gradient views", "[layers][layer]") {
  ff::Dense d("dense_3", 42, 2, "linear", true, "glorot_uniform", "zeros");
  d.build({ff::kNone, 3});
  ff::Tensor buf = ff::Tensor::zeros(fftest::device(), {8}), gbuf = ff::Tensor::zeros(fftest::device(), {8});
  d.bind({buf.view(0, {3, 2}), buf.view(6, {2})}, {gbuf.view(0, {3, 2}), gbuf.view(6, {2})});
  REQUIRE(d.params().size() == 2);
  REQUIRE(d.grads().size() == 2);
  CHECK(d.params()[1].data<float>() == buf.data<float>() + 6);
  CHECK(d.grads()[0].data<float>() == gbuf.data<float>());
  CHECK(d.seed() == 42);
  CHECK(d.name() == "dense_3");
  CHECK(d.class_name() == "Dense");
  CHECK(d.trainable);
}
