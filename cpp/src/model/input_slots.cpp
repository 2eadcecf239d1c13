// InputSlots (see input_slots.h): pinned staging, side-stream copies into two alternating device
// slots, and the event ordering between the copies and the steps.
#include "model/input_slots.h"

#include <cstring>
#include <stdexcept>

#include "core/convert.h"
#include "data/element.h"
#include "data/pinned_buffers.h"
#include "model/model.h"

namespace ff {
namespace {

constexpr size_t kAlign = 256;  // each array's offset in a block and a slot

size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

}  // namespace

InputSlots::InputSlots(Device& device)
    : device_(&device),
      pool_(device, 3),
      batch_pool_(std::make_shared<data::PinnedBufferPool>(device)) {}

InputSlots::~InputSlots() {
  try {
    release_held();  // a pipeline may outlive the model: its blocks must be free to rewrite
  } catch (...) {  // a destructor must not throw
  }
  for (Slot& s : slots_) {
    if (!s.buffer) continue;
    try {
      // Frees are ordered on the compute stream, after the slot's last reader there.
      device_->deallocate(s.buffer, s.capacity);
    } catch (...) {  // a destructor must not throw
    }
  }
}

void InputSlots::release_held() {
  while (!held_.empty()) {
    device_->wait_event(held_.front().copied);
    ++stats_.held_waits;
    held_.pop_front();
  }
}

void InputSlots::load(const std::vector<Item>& items, const int64_t* rows, int64_t count) {
  if (copy_stream_ < 0) copy_stream_ = device_->create_stream();
  // Pipeline buffers of batch i - 2 go back to their pool once its copy is done (see the header).
  while (held_.size() >= 2) {
    device_->wait_event(held_.front().copied);
    ++stats_.held_waits;
    held_.pop_front();
  }
  // Blocks the pipeline missed (it wrote those batches into pageable memory) are allocated here,
  // on the loop's thread and outside any capture; none once every size has its blocks.
  batch_pool_->refill();
  // The layout, identical in the pinned block and the slot: one copy moves the whole batch.
  std::vector<size_t> offsets(items.size());
  size_t total = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].dst->rows() != count)
      throw std::logic_error("InputSlots: a buffer of " + std::to_string(items[i].dst->rows()) +
                             " rows for a batch of " + std::to_string(count));
    offsets[i] = total;
    total += aligned(items[i].dst->nbytes());
  }
  const int k = next_;
  next_ ^= 1;
  Slot& slot = slots_[k];
  EventId allocated = 0;
  if (slot.capacity < total) {
    if (slot.buffer) device_->deallocate(slot.buffer, slot.capacity);
    slot.buffer = nullptr;
    slot.capacity = 0;
    slot.consumed = 0;
    slot.buffer = device_->allocate(total);
    slot.capacity = total;
    ++stats_.slot_allocations;
    // Stream-ordered memory is the compute stream's: the copy stream waits for its allocation.
    allocated = device_->record_event(0);
  }

  // Arrays already in a pipeline's pinned buffer, in the slot's dtype and row order, are copied
  // from there; the others are gathered and converted into a staging block.
  std::vector<char> direct(items.size(), 0);
  bool any_staged = false;
  Held held;
  for (size_t i = 0; i < items.size(); ++i) {
    const HostArray& src = *items[i].src;
    direct[i] = !rows && src.owner && src.owner->pinned() && src.dtype == items[i].dst->dtype() &&
                src.rows() == count;
    if (direct[i]) held.buffers.push_back(src.owner);
    else any_staged = true;
  }

  // 1. Gather and convert on the host into pinned memory.
  PinnedPool::Block block;
  char* host = nullptr;
  if (any_staged) {
    block = pool_.acquire(total);
    host = static_cast<char*>(block.data);
    for (size_t i = 0; i < items.size(); ++i) {
      if (direct[i]) continue;
      const HostArray& src = *items[i].src;
      const Tensor& dst = *items[i].dst;
      convert_rows(src.data, src.dtype, shape_row_size(src.shape), rows, count, host + offsets[i],
                   dst.dtype());
      // The alignment gap after it is copied too: zeros, not stale bytes.
      const size_t end = offsets[i] + dst.nbytes();
      const size_t next = i + 1 < items.size() ? offsets[i + 1] : total;
      if (next > end) std::memset(host + end, 0, next - end);
      ++stats_.staged_arrays;
    }
  }

  // 2. The side stream: after the slot was emptied by batch i - 2, one copy into it (one per
  // array when some come straight from a pipeline's buffers).
  if (allocated) device_->stream_wait_event(copy_stream_, allocated);
  if (slot.consumed) {
    device_->stream_wait_event(copy_stream_, slot.consumed);
    ++stats_.copy_stream_waits;
  }
  char* device_slot = static_cast<char*>(slot.buffer);
  if (held.buffers.empty()) {
    device_->copy_from_host(device_slot, host, total, copy_stream_);
  } else {
    for (size_t i = 0; i < items.size(); ++i) {
      const size_t bytes = items[i].dst->nbytes();
      if (direct[i]) {
        device_->copy_from_host(device_slot + offsets[i], items[i].src->data, bytes, copy_stream_);
        ++stats_.direct_arrays;
      } else {
        device_->copy_from_host(device_slot + offsets[i], host + offsets[i], bytes, copy_stream_);
      }
    }
  }
  const EventId copied = device_->record_event(copy_stream_);
  if (any_staged) pool_.release(block, copied);
  if (!held.buffers.empty()) {
    held.copied = copied;
    held_.push_back(std::move(held));
  }

  // 3. The compute stream: after the copy, slot -> the plan's buffers, then the slot is free.
  device_->stream_wait_event(0, copied);
  ++stats_.compute_stream_waits;
  for (size_t i = 0; i < items.size(); ++i)
    device_->copy(items[i].dst->raw(), device_slot + offsets[i], items[i].dst->nbytes(), 0);
  slot.consumed = device_->record_event(0);
  ++stats_.batches;
  ++stats_.slot_batches[k];
}

}  // namespace ff
