// csv_dataset's one-hot columns travel through the pipeline (parse blocks, shuffle buffer, cache)
// as compact feature rows, one float32 slot per column, a categorical column's slot holding its
// vocabulary index, and are widened to their one-hot slots only by this map, which csv_dataset
// places after `batch`: memory is O(batch x width), not O(parse block x width) (a 1 MB parse
// block of a 20,000-category column used to be 1.6 GB of dense one-hot rows).
#pragma once
#include <cstdint>
#include <vector>

#include "data/ops.h"

namespace ff::data::csv {

// depths[i] is 0 when compact slot i is copied as it is (a numeric or index column), else the
// size of the one-hot vector that slot i's index becomes (the column's vocabulary size). The
// component `component` is float32 of shape S + (depths.size(),); it becomes float32 of shape
// S + (sum of max(depths[i], 1),), the slots in the order of `depths`. An index outside
// [0, depth) is an error naming it (a compact row always holds valid indices).
MapFn expand_one_hot(size_t component, std::vector<int64_t> depths);

// The width of the expanded rows: the sum of max(depths[i], 1).
int64_t expanded_width(const std::vector<int64_t>& depths);

}  // namespace ff::data::csv
