// The CUDA backend's row gather (Backend::gather_rows, tf.gather along axis 0 over raw rows):
// how fit's arrays, uploaded once, give each batch's rows in the shuffled order on the device.
// One thread per word of the output, words as wide as the rows and both pointers allow (16, 8, 4
// or 1 bytes), grid-stride loops with int64 indices; an index outside the source gives zeros.
// Nothing here synchronises or reads to the host.
#include <cstdint>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_launch.cuh"

namespace ff::cuda {
namespace {

template <class Word>
__global__ void gather_rows_kernel(Word* __restrict__ dst, const Word* __restrict__ src,
                                   int64_t src_rows, int64_t row_words,
                                   const int64_t* __restrict__ indices, int64_t count) {
  const int64_t total = count * row_words;
  for (int64_t i = first_index(); i < total; i += grid_stride()) {
    const int64_t r = i / row_words, w = i - r * row_words;
    const int64_t from = indices[r];
    if (from >= 0 && from < src_rows) {
      dst[i] = src[from * row_words + w];
    } else {
      dst[i] = Word{};  // zero bytes
    }
  }
}

template <class Word>
void launch(void* dst, const void* src, int64_t src_rows, int64_t row_bytes,
            const int64_t* indices, int64_t count, cudaStream_t stream) {
  const int64_t row_words = row_bytes / static_cast<int64_t>(sizeof(Word));
  gather_rows_kernel<Word><<<grid_blocks(count * row_words), kLaunchThreads, 0, stream>>>(
      static_cast<Word*>(dst), static_cast<const Word*>(src), src_rows, row_words, indices,
      count);
  FF_CUDA_LAUNCH_CHECK("gather_rows_kernel");
}

// The widest word that divides the row and aligns both pointers.
bool fits(const void* dst, const void* src, int64_t row_bytes, int64_t word) {
  return row_bytes % word == 0 && reinterpret_cast<uintptr_t>(dst) % word == 0 &&
         reinterpret_cast<uintptr_t>(src) % word == 0;
}

}  // namespace

void CudaBackend::gather_rows(void* dst, const void* src, int64_t src_rows, int64_t row_bytes,
                              const int64_t* indices, int64_t count) {
  if (count <= 0 || row_bytes <= 0) return;
  cudaStream_t s = stream();
  if (fits(dst, src, row_bytes, 16)) launch<uint4>(dst, src, src_rows, row_bytes, indices, count, s);
  else if (fits(dst, src, row_bytes, 8)) launch<uint2>(dst, src, src_rows, row_bytes, indices, count, s);
  else if (fits(dst, src, row_bytes, 4)) launch<uint32_t>(dst, src, src_rows, row_bytes, indices, count, s);
  else launch<unsigned char>(dst, src, src_rows, row_bytes, indices, count, s);
}

}  // namespace ff::cuda
