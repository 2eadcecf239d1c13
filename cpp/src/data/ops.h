// The dataset operations (tf.data's methods), as factory functions over DatasetPtr. Each one is
// implemented in its own file under cpp/src/data/ (tensor_slices.cpp, map.cpp, shuffle.cpp,
// batch.cpp, prefetch.cpp, cache.cpp, repeat_take_skip.cpp, shard.cpp, interleave.cpp).
#pragma once
#include <functional>
#include <string>

#include "data/dataset.h"

namespace ff::data {

// Slices every component along its first dimension (all must have the same length).
DatasetPtr from_tensor_slices(Element components);

// A per-element function. `index` is the element's position in its input sequence in this pass
// (0, 1, 2 ...), `seed_stream` a value unique to (pass, index) for random transforms: a mapped
// element depends only on (element, index, seed_stream), never on which worker ran it.
using MapFn = std::function<Element(const Element& in, int64_t index, uint64_t seed_stream)>;
// Whether a MapFn's results may keep buffers of its input (a component passed through
// unchanged, or a view of one), or are all new (a Python function: its results come back from
// NumPy as copies). For a pass asked for pinned batches (IterationOptions::pinned) the map op
// writes the components its function creates into the pool either way; with KeepsInput it also
// asks its input for pinned batches (what passes through stays in the batch op's pinned
// blocks), with AllNew its input stays pageable (pinned input would only be copied from).
enum class MapResults { KeepsInput, AllNew };
// num_parallel_calls: 1 runs inline in the caller's thread, N > 1 on N worker threads, kAutotune
// on one per hardware thread. Output order always equals input order.
DatasetPtr map(DatasetPtr input, MapFn fn, int64_t num_parallel_calls, std::string fn_name,
               MapResults results = MapResults::KeepsInput);

// tf.data shuffle: a buffer of `buffer_size` elements, each output drawn uniformly from it.
// With reshuffle_each_iteration every new iterator draws a new order (pass p of a dataset seeded
// s uses the stream (s, p)); without it every pass repeats the first order.
DatasetPtr shuffle(DatasetPtr input, int64_t buffer_size, uint64_t seed, bool reshuffle_each_iteration);

DatasetPtr batch(DatasetPtr input, int64_t batch_size, bool drop_remainder);
// count < 0: forever.
DatasetPtr repeat(DatasetPtr input, int64_t count);
DatasetPtr take(DatasetPtr input, int64_t count);  // count < 0: all
DatasetPtr skip(DatasetPtr input, int64_t count);  // count < 0: all
// tf.data's shard: the elements at positions p with p % num_shards == index (shard.cpp).
// ValueError unless num_shards >= 1 and 0 <= index < num_shards.
DatasetPtr shard(DatasetPtr input, int64_t num_shards, int64_t index);
// buffer_size kAutotune: chosen by the pipeline (see prefetch.cpp).
DatasetPtr prefetch(DatasetPtr input, int64_t buffer_size);
// filename empty: in memory. Otherwise elements are written to `filename` during the first
// complete pass and read back from it afterwards (a pass abandoned early leaves no cache file).
DatasetPtr cache(DatasetPtr input, std::string filename);

// For each input element, `make` gives a dataset; cycle_length of them are read round-robin,
// block_length elements at a time.
using InterleaveFn = std::function<DatasetPtr(const Element& in, int64_t index)>;
DatasetPtr interleave(DatasetPtr input, InterleaveFn make, int64_t cycle_length,
                      int64_t block_length, int64_t num_parallel_calls);

// A one-pass dataset: `first` (if has_first: an element already taken from `rest`) then the rest
// of that iterator. Used to look at a pass's first element without starting another pass.
DatasetPtr resume(std::unique_ptr<Iterator> rest, bool has_first, Element first,
                  int64_t cardinality);

}  // namespace ff::data
