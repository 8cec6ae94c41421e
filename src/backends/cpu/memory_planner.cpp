#include "backends/cpu/memory_planner.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace deepx::cpu {
namespace {

int64_t AlignUp(int64_t v, int64_t alignment) { return (v + alignment - 1) & ~(alignment - 1); }

bool Overlap(const ArenaRequest& a, const ArenaRequest& b) { return a.first <= b.last && b.first <= a.last; }

}  // namespace

ArenaPlan PlanArena(const std::vector<ArenaRequest>& requests, int64_t alignment) {
  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);
  // Largest first: big tensors get the low, contiguous space; small ones later fill the holes between them.
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return requests[a].size > requests[b].size; });

  struct Placed {
    int64_t begin, end;  // byte range
  };
  std::vector<size_t> placed;
  for (size_t r : order) {
    const int64_t size = AlignUp(std::max<int64_t>(requests[r].size, 1), alignment);
    // Byte ranges of already placed tensors live at the same time as r, by offset.
    std::vector<Placed> busy;
    for (size_t p : placed) {
      if (Overlap(requests[p], requests[r])) {
        busy.push_back({plan.offsets[p], plan.offsets[p] + AlignUp(std::max<int64_t>(requests[p].size, 1), alignment)});
      }
    }
    std::sort(busy.begin(), busy.end(), [](const Placed& a, const Placed& b) { return a.begin < b.begin; });
    // Best fit: the smallest gap that holds r; the end of all busy ranges when none does.
    int64_t best = -1, best_gap = std::numeric_limits<int64_t>::max(), cursor = 0;
    for (const Placed& b : busy) {
      const int64_t gap = b.begin - cursor;
      if (gap >= size && gap < best_gap) {
        best = cursor;
        best_gap = gap;
      }
      cursor = std::max(cursor, b.end);
    }
    plan.offsets[r] = best >= 0 ? best : cursor;
    plan.total_bytes = std::max(plan.total_bytes, plan.offsets[r] + size);
    placed.push_back(r);
  }
  return plan;
}

int64_t PeakLiveBytes(const std::vector<ArenaRequest>& requests, int64_t alignment) {
  int last_step = -1;
  for (const ArenaRequest& r : requests) last_step = std::max(last_step, r.last);
  int64_t peak = 0;
  for (int step = 0; step <= last_step; ++step) {
    int64_t live = 0;
    for (const ArenaRequest& r : requests)
      if (r.first <= step && step <= r.last) live += AlignUp(std::max<int64_t>(r.size, 1), alignment);
    peak = std::max(peak, live);
  }
  return peak;
}

}  // namespace deepx::cpu
