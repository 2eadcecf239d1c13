// Tests for losses/loss.cpp: the shared target-shape policy. Targets must have the outputs'
// shape; the one adaptation is (N,) targets for (N, 1) outputs, taken as one column (never an
// (N, N) broadcast); everything else raises naming the loss and both shapes.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "losses/loss.h"

TEST_CASE("target_shape_for: equal shapes pass, (N,) against (N, 1) is one column",
          "[losses][loss]") {
  for (auto make : {+[] { return ff::make_mean_squared_error(); },
                    +[] { return ff::make_mean_absolute_error(); },
                    +[] { return ff::make_huber(1.0f); },
                    +[] { return ff::make_binary_crossentropy(false); },
                    +[] { return ff::make_categorical_crossentropy(true); }}) {
    auto loss = make();
    CAPTURE(loss->name());
    CHECK_FALSE(loss->sparse());
    CHECK(loss->target_shape_for({32, 1}, {32}) == ff::Shape{32, 1});
    CHECK(loss->target_shape_for({32, 1}, {32, 1}) == ff::Shape{32, 1});
    CHECK(loss->target_shape_for({8, 3, 2}, {8, 3, 2}) == ff::Shape{8, 3, 2});
  }
}

TEST_CASE("target_shape_for: nothing else broadcasts", "[losses][loss]") {
  auto mse = ff::make_mean_squared_error();
  CHECK_THROWS_AS(mse->target_shape_for({32, 1}, {16}), ff::ValueError);
  CHECK_THROWS_AS(mse->target_shape_for({32, 1}, {32, 1, 1}), ff::ValueError);
  CHECK_THROWS_AS(mse->target_shape_for({32, 3}, {32, 1}), ff::ValueError);
  CHECK_THROWS_AS(mse->target_shape_for({32}, {32, 1}), ff::ValueError);
  CHECK_THROWS_WITH(mse->target_shape_for({32, 2}, {32, 4}),
                    Catch::Contains("Loss \"mean_squared_error\"") &&
                        Catch::Contains("targets of shape (32, 4)") &&
                        Catch::Contains("model outputs of shape (32, 2)"));
  // Class labels for a multi-output model: the message points at the sparse loss.
  CHECK_THROWS_WITH(mse->target_shape_for({32, 10}, {32}),
                    Catch::Contains("sparse_categorical_crossentropy"));
  auto bce = ff::make_binary_crossentropy(true);
  CHECK_THROWS_WITH(bce->target_shape_for({32, 10}, {32, 1}),
                    Catch::Contains("sparse_categorical_crossentropy"));
}
