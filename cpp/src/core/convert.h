// Converting the caller's arrays at the model boundary, batch by batch: gather rows (a shuffled
// epoch's order) and convert their elements (uint8 images, float64 or int labels, ...) to the
// dtype the model computes with, in one pass, so that no whole-array copy is ever made.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace ff {

// Float, integer or bool (what a model input or a float target may be).
bool is_numeric_dtype(DType t);
// Integer or bool (what class-index targets may be).
bool is_integer_dtype(DType t);

// dst (count rows of row_elems elements of dtype `to`) = the rows `rows[0..count)` of src (or its
// first `count` rows when rows is null), each element converted with static_cast semantics
// (float16 sources through core/half.h). `to` is Float32 or Int64; the source any host dtype.
void convert_rows(const void* src, DType from, int64_t row_elems, const int64_t* rows,
                  int64_t count, void* dst, DType to);

}  // namespace ff
