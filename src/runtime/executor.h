// Runs a Plan over a specialised graph: prepares each block on its backend once, then per inference runs the
// blocks as a dataflow across the processors and brings graph outputs back to the host.
//
// Concurrency. Each processor (backend of the plan) gets one worker thread, its "lane"; a block runs on its lane
// once every input has arrived (a counter per block), so blocks on different processors whose inputs are ready
// run at the same time. Transfers are pipelined: as soon as a value is produced, each consumer block on another
// processor gets a transfer task on its own lane (ToHost on the producer's side when the value lives on a device,
// ToDevice on the consumer's), which runs while the producer's lane already computes its next block. A plan of
// one block runs on the caller's thread with no hand-off, and so do the blocks of a multi-threaded host CPU
// backend in a larger plan (caller_lane_ says why). Blocks on the same processor never run concurrently.
//
// Failover. When a block fails on its processor (an error status, or no answer within block_timeout) and a
// fallback backend is configured, the block is re-run there from host copies of its inputs, so the request still
// completes; the processor is marked unhealthy in a ProcessorHealth shared by all executors of a session, later
// blocks of that processor go to the fallback, and the processor is tried again (re-probed) after
// reprobe_after_ns. A block that also fails on the fallback fails the run with both errors. A call that hangs is
// abandoned, not cancelled: its lane stays busy until the call returns (the Executor's destructor waits for it).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/graph.h"
#include "plan/plan.h"
#include "runtime/backend.h"

namespace deepx {

// Which processors are usable now. Shared by the executors of one session (one per plan) so that a failure seen
// by one plan steers the others, and read by the adaptive session, which re-plans without unhealthy processors.
class ProcessorHealth {
 public:
  // `clock` (nanoseconds, steady) defaults to SteadyNowNs; tests inject a fake one.
  explicit ProcessorHealth(int64_t reprobe_after_ns = 5'000'000'000, std::function<int64_t()> clock = {});

  void MarkUnhealthy(const std::string& processor, const std::string& why);
  void MarkHealthy(const std::string& processor);
  // True when healthy, or unhealthy for at least reprobe_after_ns (time to try it again).
  bool Usable(const std::string& processor) const;
  bool Healthy(const std::string& processor) const;
  // Processors marked unhealthy now (sorted), and why.
  std::map<std::string, std::string> Unhealthy() const;
  int64_t now_ns() const { return clock_(); }
  int64_t failures() const;  // MarkUnhealthy calls so far

 private:
  struct Entry {
    int64_t since_ns = 0;
    std::string why;
  };
  int64_t reprobe_after_ns_;
  std::function<int64_t()> clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> unhealthy_;
  int64_t failures_ = 0;
};

// Whether `backend` computes on host memory: ToDevice of a host tensor gives back the same buffer (no copy). The
// kind is no guide: an OpenCL CPU device (PoCL) says "cpu" yet keeps tensors in its own buffers.
bool WorksOnHostMemory(Backend& backend);

struct ExecutorOptions {
  // Re-runs blocks whose processor fails. Usually HostFallbackBackend(); may be one of the plan's backends.
  // null: no failover, a failing block fails the run.
  std::shared_ptr<Backend> fallback;
  // A block running longer than this on a processor other than the fallback is abandoned and re-run on the
  // fallback (0: wait forever). Set it above the block's worst normal latency.
  int64_t block_timeout_ns = 0;
  // Shared health table; null: the executor makes its own (re-probe after 5 s).
  std::shared_ptr<ProcessorHealth> health;
  // false: run blocks one after another in plan order on the caller's thread (failover still applies).
  bool concurrent = true;
};

// What happened to one block in a run (Executor::Run with a report).
struct BlockRecord {
  std::string processor;      // where it ran in the end
  int64_t start_ns = 0;       // steady clock: the block's kernel call started / ended (last attempt)
  int64_t end_ns = 0;
  // When its outputs were published to their consumers (after reading device values back for other processors;
  // an asynchronous device finishes its work there). >= end_ns.
  int64_t done_ns = 0;
  // When its last input was published (done_ns of the latest producing block, or the run's start): done_ns -
  // ready_ns is what the block adds to the run — hand-over to its lane, transfers, waiting, the call, publishing.
  int64_t ready_ns = 0;
  int64_t transfer_ns = 0;    // time spent moving its inputs to its processor
  bool failed_over = false;   // first tried elsewhere, re-run on the fallback
  std::string failure;        // why the first processor failed ("" when it did not)
};

struct RunReport {
  int64_t start_ns = 0, end_ns = 0;
  std::vector<BlockRecord> blocks;  // follows plan().blocks
  int failovers = 0;
};

class Executor {
 public:
  static Result<std::unique_ptr<Executor>> Create(std::shared_ptr<const Graph> graph, Plan plan,
                                                  std::vector<std::shared_ptr<Backend>> backends,
                                                  ExecutorOptions options = {});
  ~Executor();

  // `inputs` follow graph->inputs; returns tensors following graph->outputs, on the host. Safe to call from
  // several threads (each concurrent caller beyond the first uses its own value table).
  Result<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs, const RunOptions& options = {},
                                  RunReport* report = nullptr);

  const std::vector<std::shared_ptr<Backend>>& backends() const { return backends_; }

  const Graph& graph() const { return *graph_; }
  // Sums over the plan's blocks of Executable::activation_bytes / resident_bytes.
  int64_t activation_bytes() const;
  int64_t resident_bytes() const;
  const Plan& plan() const { return plan_; }
  const std::shared_ptr<ProcessorHealth>& health() const { return options_.health; }

  struct RunState;  // one run's value table and per-block progress (executor.cpp)

 private:
  struct Task {
    std::shared_ptr<RunState> st;
    uint64_t seq = 0;    // the run the task belongs to
    int block = 0;
    int slot = -1;       // >= 0: move input `slot` of `block` to the lane's processor; -1: run the block
    int attempt = 0;
  };
  // One worker per processor.
  struct Lane {
    std::shared_ptr<Backend> backend;
    std::thread thread;
    std::deque<Task> queue;
    std::condition_variable cv;
    bool stuck = false;  // running a call the executor has abandoned (timed out)
    bool host_memory = false;
    bool caller_served = false;  // no thread: the calling thread of Run runs its tasks (see caller_lane_)
  };
  // Buffers a lane reuses from task to task.
  struct TaskScratch {
    std::vector<Tensor> inputs, outputs;
    std::vector<NodeTiming> timings;
  };

  Executor() = default;
  void StartLanes();
  void LaneLoop(int lane);
  // Runs one task of `lane` (a transfer or a block) on the calling thread; mu_ held by `lock`.
  void RunTask(int lane, Task task, std::unique_lock<std::mutex>& lock, TaskScratch& scratch);
  // The executable of `block` for `lane`: the planned one, or one prepared on the fallback on first use.
  Executable* ExecutableFor(int block, int lane, Status* error);
  // The lane a block runs on now: its planned processor, or the fallback while that processor is unhealthy.
  int RouteFor(int block) const;
  // `t` (on lane `from_lane`'s processor, -1: host) as a tensor on `to_lane`'s processor.
  Result<Tensor> MoveTo(const Tensor& t, int from_lane, int to_lane);
  // With mu_ held by `lock` (released for the copy): input `v` of block `b` of run `st`, from where it lives now, as
  // a tensor on `lane`; the time it took counts as the block's transfer time.
  Result<Tensor> MoveInput(RunState& st, size_t b, ValueId v, int lane, std::unique_lock<std::mutex>& lock);
  // Whether the lane's processor works on host memory (WorksOnHostMemory), so host tensors need no transfer.
  bool HostShared(int lane) const { return lanes_[static_cast<size_t>(lane)]->host_memory; }
  // The following run with mu_ held.
  void Push(int lane, Task task);
  void InputArrived(const std::shared_ptr<RunState>& st, int block, int slot, int lane);
  void Distribute(const std::shared_ptr<RunState>& st, ValueId v);
  Result<std::vector<Tensor>> RunInline(RunState& st, const RunOptions& options);
  Result<std::vector<Tensor>> CollectOutputs(RunState& st);
  std::shared_ptr<RunState> AcquireState();

  std::shared_ptr<const Graph> graph_;
  Plan plan_;
  std::vector<std::shared_ptr<Backend>> backends_;
  ExecutorOptions options_;
  std::vector<std::unique_ptr<Executable>> executables_;
  // Executables of blocks on the fallback backend, prepared on first failover (guarded by prepare_mu_).
  std::vector<std::unique_ptr<Executable>> fallback_executables_;
  int fallback_lane_ = -1;  // -1: no fallback
  // The lane of a multi-threaded host CPU backend, whose blocks the thread calling Run executes itself (it would
  // only wait otherwise). An OpenMP runtime (libgomp, under oneDNN) keeps a team of worker threads per thread that
  // starts parallel regions; once the process holds more OpenMP threads than CPUs, idle workers stop spinning
  // between regions and every primitive wakes its team through futexes. Profiling on the caller's thread and
  // running the plan on a lane thread made two teams of 16 on a 16-core host: a SqueezeNet half ran 2-12x slower
  // next to a CUDA block (H100 machine, 2026-11-27). -1: none (also with block timeouts: the caller watches them,
  // and next to a device-memory processor such as OpenCL: see Create).
  int caller_lane_ = -1;
  // Lanes: one per backend, plus one for the fallback backend when it is not among them.
  std::vector<std::unique_ptr<Lane>> lanes_;
  bool lanes_started_ = false;
  bool stopping_ = false;
  std::mutex mu_;           // guards lanes' queues and every RunState
  std::mutex prepare_mu_;   // guards fallback_executables_
  // Dataflow tables computed once: for each value, the (block, input slot) pairs reading it, and its producer.
  std::vector<std::vector<std::pair<int, int>>> consumers_;
  std::vector<int> producer_block_;
  // The run state kept between runs so that one run allocates no value table (sized to g.values). Every slot is
  // emptied at the end of a run. A caller that finds it in use gets a fresh one.
  std::shared_ptr<RunState> cached_state_;
  uint64_t next_seq_ = 1;
};

}  // namespace deepx
