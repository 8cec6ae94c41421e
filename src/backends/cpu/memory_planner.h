// Activation memory planning for one prepared block: every intermediate value gets an offset in one arena,
// and values whose lifetimes do not overlap share bytes.
//
// The problem is interval colouring with sizes; the greedy "largest first, best-fitting gap" heuristic (also used
// by TFLite's arena planner) is within a few percent of the live-set lower bound on CNN chains and runs in
// O(n^2) for n values, which is nothing at Prepare time.
#pragma once

#include <cstdint>
#include <vector>

namespace deepx::cpu {

// One tensor to place: `size` bytes, live from the step that writes it (`first`) to the last step that reads it
// (`last`), both inclusive. A step's outputs therefore never share memory with its inputs.
struct ArenaRequest {
  int64_t size = 0;
  int first = 0;
  int last = 0;
};

struct ArenaPlan {
  std::vector<int64_t> offsets;  // per request, a multiple of the alignment
  int64_t total_bytes = 0;       // arena size: max over requests of offset + aligned size
};

// Places every request; `alignment` must be a power of two (64 keeps AVX-512 loads aligned).
ArenaPlan PlanArena(const std::vector<ArenaRequest>& requests, int64_t alignment = 64);

// Largest sum of aligned sizes live at one step: the lower bound any plan must reach.
int64_t PeakLiveBytes(const std::vector<ArenaRequest>& requests, int64_t alignment = 64);

}  // namespace deepx::cpu
