// CUDA versus CPU for Backend::gather_rows (backend/cuda/cuda_gather.cu): the same bytes for rows
// of every width the kernel treats differently (16-, 8-, 4- and 1-byte words, pointers aligned
// or not), indices read from an offset into a longer order (a batch of a shuffled epoch), bad
// indices giving zero rows, and 300,001 rows (more than one grid). Tagged [cuda]: it needs a GPU
// (scripts/gpu-check.sh runs it).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "backend/parity_util.h"

namespace {

namespace parity = fftest::parity;

// Gathers `count` rows by order[first, first + count) from src (rows of row_bytes), with the
// destination and source `misalign` bytes into their buffers; returns the destination's bytes.
std::vector<uint8_t> gather(ff::Backend& be, const std::vector<uint8_t>& src, int64_t row_bytes,
                            const std::vector<int64_t>& order, int64_t first, int64_t count,
                            int64_t misalign) {
  const int64_t src_rows = row_bytes ? static_cast<int64_t>(src.size()) / row_bytes : 0;
  std::vector<uint8_t> padded(static_cast<size_t>(misalign), 0x5a);
  padded.insert(padded.end(), src.begin(), src.end());
  ff::Tensor s = parity::put(be, {static_cast<int64_t>(padded.size())}, padded, ff::DType::UInt8);
  ff::Tensor idx = parity::put(be, {static_cast<int64_t>(order.size())}, order, ff::DType::Int64);
  const int64_t out_bytes = count * row_bytes + misalign;
  ff::Tensor d = ff::Tensor::zeros(be.device(), {out_bytes > 0 ? out_bytes : 1}, ff::DType::UInt8);
  be.gather_rows(static_cast<uint8_t*>(d.raw()) + misalign,
                 static_cast<const uint8_t*>(s.raw()) + misalign, src_rows, row_bytes,
                 static_cast<const int64_t*>(idx.raw()) + first, count);
  return parity::get<uint8_t>(d);
}

}  // namespace

TEST_CASE("cuda gather_rows matches the CPU byte for byte", "[cuda][parity]") {
  ff::Backend& cpu = parity::cpu();
  ff::Backend& gpu = parity::gpu();
  for (int64_t row_bytes : {48, 24, 20, 8, 3, 1}) {
    for (int64_t misalign : {0, 4, 1}) {
      for (int64_t rows : {1, 7, 1000}) {
        INFO("row_bytes " << row_bytes << ", misalign " << misalign << ", rows " << rows);
        std::vector<uint8_t> src(static_cast<size_t>(rows * row_bytes));
        for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>((i * 131 + 7) % 256);
        // An order with a bad index at each end (-1 and rows: zero rows), from position 2.
        std::vector<int64_t> order{0, 0, -1};
        for (int64_t i = 0; i < rows; ++i) order.push_back((i * 17 + 3) % rows);
        order.push_back(rows);
        const int64_t count = static_cast<int64_t>(order.size()) - 2;
        const auto a = gather(cpu, src, row_bytes, order, 2, count, misalign);
        const auto b = gather(gpu, src, row_bytes, order, 2, count, misalign);
        CHECK(a == b);
        // The first gathered row is zeros (index -1), the second is src row order[3].
        REQUIRE(a.size() >= static_cast<size_t>(misalign + 2 * row_bytes));
        CHECK(a[static_cast<size_t>(misalign)] == 0);
        CHECK(a[static_cast<size_t>(misalign + row_bytes)] ==
              src[static_cast<size_t>(order[3] * row_bytes)]);
      }
    }
  }
}

TEST_CASE("cuda gather_rows covers more rows than one grid", "[cuda][parity]") {
  const int64_t rows = 300001, row_bytes = 8;
  std::vector<uint8_t> src(static_cast<size_t>(rows * row_bytes));
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 2654435761u >> 24);
  std::vector<int64_t> order(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) order[static_cast<size_t>(i)] = (i * 7919) % rows;
  CHECK(gather(parity::cpu(), src, row_bytes, order, 0, rows, 0) ==
        gather(parity::gpu(), src, row_bytes, order, 0, rows, 0));
}
