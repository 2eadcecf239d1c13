// backend/math_mode.h on the CPU: TensorFlow's defaults (TF32 allowed) and forgeflow's
// (deterministic), the process's settings as a snapshot, and that a snapshot orders and compares
// by both settings (it is part of the GPU engines' plan keys).
#include <catch2/catch.hpp>

#include "backend/math_mode.h"

TEST_CASE("MathMode starts with TF32 allowed and determinism on", "[math_mode]") {
  const ff::MathMode fresh;
  const ff::MathChoice c = ff::read_math_mode(fresh);
  CHECK(c.tf32);
  CHECK(c.deterministic);
}

TEST_CASE("math_mode() is one process-wide setting read by snapshots", "[math_mode]") {
  ff::MathMode& mode = ff::math_mode();
  CHECK(&mode == &ff::math_mode());
  const ff::MathChoice saved = ff::read_math_mode(mode);
  mode.tf32 = false;
  mode.deterministic = false;
  CHECK(ff::read_math_mode(ff::math_mode()) == ff::MathChoice{false, false});
  mode.tf32 = true;
  CHECK(ff::read_math_mode(ff::math_mode()) == ff::MathChoice{true, false});
  mode.tf32 = saved.tf32;
  mode.deterministic = saved.deterministic;
  CHECK(ff::read_math_mode(ff::math_mode()) == saved);
}

TEST_CASE("MathChoice compares and orders by both settings", "[math_mode]") {
  const ff::MathChoice a{false, true}, b{true, true}, c{false, false};
  CHECK_FALSE(a == b);
  CHECK_FALSE(a == c);
  CHECK(a == ff::MathChoice{false, true});
  CHECK(((a < b) != (b < a)));
  CHECK(((a < c) != (c < a)));
  CHECK_FALSE(a < a);
}
