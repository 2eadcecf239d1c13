// Tests for core/rng.h and rng.cpp: Philox-4x32-10 against the Random123 known-answer vectors,
// determinism (a value depends only on key and counter), uniform [0, 1) with mean 0.5, standard
// normal moments, and the GlobalSeed sequence.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "core/rng.h"

TEST_CASE("Philox-4x32-10 matches the Random123 known-answer vectors", "[core][rng]") {
  using A = ff::PhiloxWords;
  CHECK(ff::Philox::block(0, 0, 0) == A{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(ff::Philox::block(~0ull, ~0ull, ~0ull) ==
        A{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  // ctr = (243f6a88, 85a308d3, 13198a2e, 03707344), key = (a4093822, 299f31d0).
  CHECK(ff::Philox::block(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull) ==
        A{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("Philox is deterministic and counter-based", "[core][rng]") {
  CHECK(ff::Philox::block(42, 1, 2) == ff::Philox::block(42, 1, 2));
  CHECK(ff::Philox::block(42, 1, 2) != ff::Philox::block(43, 1, 2));
  CHECK(ff::Philox::block(42, 1, 2) != ff::Philox::block(42, 2, 2));
  CHECK(ff::Philox::block(42, 1, 2) != ff::Philox::block(42, 1, 3));
  // Element i does not depend on which elements were drawn before.
  const float late = ff::Philox::uniform(7, 3, 1001);
  for (uint64_t i = 0; i < 100; ++i) (void)ff::Philox::uniform(7, 3, i);
  CHECK(ff::Philox::uniform(7, 3, 1001) == late);
  CHECK(ff::Philox::uniform(7, 3, 1001) == ff::Philox::to_unit(ff::Philox::block(7, 3, 250)[1]));
  std::set<float> distinct;
  for (uint64_t i = 0; i < 1000; ++i) distinct.insert(ff::Philox::uniform(7, 3, i));
  CHECK(distinct.size() > 990);
}

TEST_CASE("Philox uniform: values in 0..1 (1 excluded) with mean 0.5 and variance 1/12", "[core][rng]") {
  CHECK(ff::Philox::to_unit(0u) == 0.0f);
  CHECK(ff::Philox::to_unit(0xffffffffu) < 1.0f);
  const int n = 200000;
  double sum = 0, sq = 0, lo = 1, hi = 0;
  int below_tenth = 0;
  for (int i = 0; i < n; ++i) {
    const double u = ff::Philox::uniform(2024, 0, i);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sq += u * u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    below_tenth += u < 0.1;
  }
  const double mean = sum / n;
  CHECK(mean == Approx(0.5).margin(0.005));  // sd of the mean ~ 0.00065
  CHECK(sq / n - mean * mean == Approx(1.0 / 12).margin(0.002));
  CHECK(below_tenth / double(n) == Approx(0.1).margin(0.005));
  CHECK(lo < 1e-4);
  CHECK(hi > 1 - 1e-4);
}

TEST_CASE("Philox normal: mean 0, std 1, symmetric tails", "[core][rng]") {
  const int n = 200000;
  double sum = 0, sq = 0;
  int beyond2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = ff::Philox::normal(99, 5, i);
    REQUIRE(std::isfinite(z));
    sum += z;
    sq += z * z;
    beyond2 += std::fabs(z) > 2.0;
  }
  const double mean = sum / n;
  CHECK(mean == Approx(0.0).margin(0.01));  // sd of the mean ~ 0.0022
  CHECK(std::sqrt(sq / n - mean * mean) == Approx(1.0).margin(0.01));
  CHECK(beyond2 / double(n) == Approx(0.0455).margin(0.003));  // P(|Z| > 2)
  CHECK(ff::Philox::normal(99, 5, 17) == ff::Philox::normal(99, 5, 17));
}

TEST_CASE("GlobalSeed: set() restarts the same sequence of derived seeds", "[core][rng]") {
  ff::GlobalSeed::set(7);
  const uint64_t a1 = ff::GlobalSeed::next(), a2 = ff::GlobalSeed::next();
  ff::GlobalSeed::set(7);
  CHECK(ff::GlobalSeed::next() == a1);
  CHECK(ff::GlobalSeed::next() == a2);
  CHECK(a1 != a2);
  ff::GlobalSeed::set(8);
  CHECK(ff::GlobalSeed::next() != a1);
  CHECK(ff::mix_seed(1, 2) == ff::mix_seed(1, 2));
  CHECK(ff::mix_seed(1, 2) != ff::mix_seed(2, 1));
}

TEST_CASE("GlobalSeed: state() and restore() continue the sequence where it was", "[core][rng]") {
  ff::GlobalSeed::set(11);
  ff::GlobalSeed::next();
  const auto saved = ff::GlobalSeed::state();
  CHECK(saved.initialised);
  CHECK(saved.counter == 1);
  const uint64_t n1 = ff::GlobalSeed::next(), n2 = ff::GlobalSeed::next();
  ff::GlobalSeed::set(12);
  ff::GlobalSeed::restore(saved);
  CHECK(ff::GlobalSeed::next() == n1);
  CHECK(ff::GlobalSeed::next() == n2);
  ff::GlobalSeed::restore(ff::GlobalSeed::State{});  // unseeded again: next() draws a new seed
  CHECK_FALSE(ff::GlobalSeed::state().initialised);
  ff::GlobalSeed::next();
  CHECK(ff::GlobalSeed::state().initialised);
}
