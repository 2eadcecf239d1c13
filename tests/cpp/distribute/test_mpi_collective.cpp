// The MPI transport (distribute/mpi/mpi_collective.cpp, loaded by distribute/mpi_loader.cpp):
// hidden from a plain run of the suite (MPI_Init belongs to a process started by mpirun); ctest
// runs it as `mpiexec -np 3 --oversubscribe forgeflow_tests "[mpi]"` when MPI was found. The
// all-reduce gives the rank-order sum bit for bit, as the TCP transport does
// (test_collective.cpp), and all-gather and broadcast agree.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "distribute/mpi_loader.h"

TEST_CASE("the MPI transport runs the fixed-order collectives", "[.mpi]") {
  std::string why;
  REQUIRE(ff::mpi_available(&why));
  auto c = ff::mpi_collective(60.0);
  REQUIRE(c->transport() == "mpi");
  const char* launched = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (launched) CHECK(c->size() == std::atoi(launched));
  const int n = c->size();
  for (int64_t len : {int64_t{1}, int64_t{5}, int64_t{65537}}) {
    std::vector<float> x(static_cast<size_t>(len));
    auto value = [](int r, int64_t i) {
      return 0.1f * static_cast<float>(r + 1) + 1e-3f * static_cast<float>(i % 97) / 3.0f;
    };
    for (int64_t i = 0; i < len; ++i) x[static_cast<size_t>(i)] = value(c->rank(), i);
    c->allreduce_sum(x.data(), len, "a test all-reduce");
    for (int64_t i = 0; i < len; ++i) {
      float expected = value(0, i);
      for (int r = 1; r < n; ++r) expected += value(r, i);
      REQUIRE(x[static_cast<size_t>(i)] == expected);
    }
  }
  const std::vector<int64_t> all = c->allgather({c->rank() * 3}, "a test all-gather");
  for (int r = 0; r < n; ++r) CHECK(all[static_cast<size_t>(r)] == r * 3);
  int64_t v = c->rank() == n - 1 ? 42 : -1;
  c->broadcast(&v, sizeof v, n - 1, "a test broadcast");
  CHECK(v == 42);
  c->barrier("the end");
  CHECK(ff::mpi_finalize());
}
