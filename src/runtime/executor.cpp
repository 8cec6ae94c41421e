#include "runtime/executor.h"

#include <algorithm>
#include <cstdlib>

namespace deepx {

// ---------------------------------------------------------------------------------------------------------------
// ProcessorHealth

ProcessorHealth::ProcessorHealth(int64_t reprobe_after_ns, std::function<int64_t()> clock)
    : reprobe_after_ns_(reprobe_after_ns), clock_(clock ? std::move(clock) : std::function<int64_t()>(SteadyNowNs)) {}

void ProcessorHealth::MarkUnhealthy(const std::string& processor, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  unhealthy_[processor] = Entry{clock_(), why};
  ++failures_;
}

void ProcessorHealth::MarkHealthy(const std::string& processor) {
  std::lock_guard<std::mutex> lock(mu_);
  unhealthy_.erase(processor);
}

bool ProcessorHealth::Usable(const std::string& processor) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = unhealthy_.find(processor);
  return it == unhealthy_.end() || clock_() - it->second.since_ns >= reprobe_after_ns_;
}

bool ProcessorHealth::Healthy(const std::string& processor) const {
  std::lock_guard<std::mutex> lock(mu_);
  return unhealthy_.find(processor) == unhealthy_.end();
}

std::map<std::string, std::string> ProcessorHealth::Unhealthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [name, e] : unhealthy_) out[name] = e.why;
  return out;
}

int64_t ProcessorHealth::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

bool WorksOnHostMemory(Backend& backend) {
  Tensor probe = Tensor::Zeros(DataType::kFloat32, {1});
  Result<Tensor> moved = backend.ToDevice(probe);
  return moved.ok() && moved->buffer() == probe.buffer();
}

// ---------------------------------------------------------------------------------------------------------------
// Run state

struct Executor::RunState {
  std::condition_variable cv;  // the caller waits here for lanes to finish tasks
  uint64_t seq = 0;
  bool in_use = false;
  bool timing = false;
  RunOptions options;  // the caller's, with timings redirected per block
  // Values as produced (on the producing lane's processor, or host copies when another processor or the caller
  // reads them) and the lane that produced each (-1: host).
  std::vector<Tensor> env;
  std::vector<int> value_lane;
  // Per block: inputs moved to its processor, the lane each was moved to (-1: not yet), inputs still to arrive.
  std::vector<std::vector<Tensor>> block_inputs;
  std::vector<std::vector<int>> input_lane;
  std::vector<int> remaining;
  std::vector<int> attempt;      // bumped when a running attempt is abandoned or failed over
  std::vector<int> running_lane; // lane running the block's current attempt (-1: not running)
  std::vector<int> ran_lane;     // lane that completed it
  std::vector<int64_t> start_ns, end_ns, done_ns, transfer_ns;
  std::vector<char> failed_over;
  std::vector<Status> failure;
  std::vector<std::vector<NodeTiming>> timings;
  int blocks_done = 0;
  int in_flight = 0;  // tasks queued or running for this run (abandoned calls excluded)
  int failovers = 0;
  Status error;

  void Resize(size_t values, const Plan& plan) {
    env.resize(values);
    value_lane.assign(values, -1);
    const size_t n = plan.blocks.size();
    block_inputs.resize(n);
    input_lane.resize(n);
    for (size_t b = 0; b < n; ++b) {
      block_inputs[b].resize(plan.blocks[b].inputs.size());
      input_lane[b].resize(plan.blocks[b].inputs.size());
    }
    remaining.resize(n);
    attempt.resize(n);
    running_lane.resize(n);
    ran_lane.resize(n);
    start_ns.resize(n);
    end_ns.resize(n);
    done_ns.resize(n);
    transfer_ns.resize(n);
    failed_over.resize(n);
    failure.resize(n);
    timings.resize(n);
  }

  void Reset(const Plan& plan) {
    for (size_t b = 0; b < plan.blocks.size(); ++b) {
      std::fill(input_lane[b].begin(), input_lane[b].end(), -1);
      remaining[b] = static_cast<int>(plan.blocks[b].inputs.size());
      attempt[b] = 0;
      running_lane[b] = -1;
      ran_lane[b] = -1;
      start_ns[b] = end_ns[b] = done_ns[b] = transfer_ns[b] = 0;
      failed_over[b] = 0;
      if (!failure[b].ok()) failure[b] = Status::Ok();
      timings[b].clear();
    }
    blocks_done = 0;
    in_flight = 0;
    failovers = 0;
    error = Status::Ok();
  }

  // Empties every tensor slot a run filled, so no tensor outlives the run.
  void Clear(const Graph& g, const Plan& plan) {
    for (ValueId v : g.inputs) env[static_cast<size_t>(v)] = Tensor();
    for (size_t b = 0; b < plan.blocks.size(); ++b) {
      for (ValueId v : plan.blocks[b].outputs) env[static_cast<size_t>(v)] = Tensor();
      for (Tensor& t : block_inputs[b]) t = Tensor();
    }
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Creation and lanes

Result<std::unique_ptr<Executor>> Executor::Create(std::shared_ptr<const Graph> graph, Plan plan,
                                                   std::vector<std::shared_ptr<Backend>> backends,
                                                   ExecutorOptions options) {
  DX_RETURN_IF_ERROR(ValidatePlan(*graph, plan, static_cast<int>(backends.size())));
  std::unique_ptr<Executor> e(new Executor());
  e->graph_ = std::move(graph);
  e->plan_ = std::move(plan);
  e->backends_ = std::move(backends);
  e->options_ = std::move(options);
  if (!e->options_.health) e->options_.health = std::make_shared<ProcessorHealth>();
  for (const Block& block : e->plan_.blocks) {
    Backend& backend = *e->backends_[static_cast<size_t>(block.backend)];
    auto exe = backend.Prepare(e->graph_, block);
    if (!exe.ok()) return exe.status().WithContext("preparing a block on '" + backend.info().name + "'");
    e->executables_.push_back(std::move(exe).value());
  }
  e->fallback_executables_.resize(e->plan_.blocks.size());
  for (const auto& b : e->backends_) {
    auto lane = std::make_unique<Lane>();
    lane->backend = b;
    lane->host_memory = WorksOnHostMemory(*b);
    e->lanes_.push_back(std::move(lane));
  }
  if (e->options_.fallback) {
    for (size_t i = 0; i < e->backends_.size(); ++i)
      if (e->backends_[i] == e->options_.fallback) e->fallback_lane_ = static_cast<int>(i);
    if (e->fallback_lane_ < 0) {
      auto lane = std::make_unique<Lane>();
      lane->backend = e->options_.fallback;
      lane->host_memory = WorksOnHostMemory(*lane->backend);
      e->fallback_lane_ = static_cast<int>(e->lanes_.size());
      e->lanes_.push_back(std::move(lane));
    }
  }
  // Not next to a processor with its own memory (OpenCL): with NVIDIA's OpenCL a plan whose CPU blocks ran on the
  // caller stopped making progress (2026-11-27, H100 machine; not yet understood), so such plans keep every block
  // on a worker thread, as before.
  bool device_memory_lane = false;
  for (const Block& block : e->plan_.blocks) {
    const Lane& lane = *e->lanes_[static_cast<size_t>(block.backend)];
    device_memory_lane |= !lane.host_memory && lane.backend->info().kind != "remote";
  }
  // DX_EXECUTOR_CALLER_LANE=1 / 0 forces the choice either way (diagnosis of the case above).
  const char* force = std::getenv("DX_EXECUTOR_CALLER_LANE");
  const bool allow_caller = force ? std::string(force) == "1" : !device_memory_lane;
  if (e->options_.concurrent && e->options_.block_timeout_ns <= 0 && allow_caller) {
    for (const Block& block : e->plan_.blocks) {
      Lane& lane = *e->lanes_[static_cast<size_t>(block.backend)];
      const ProcessorInfo& info = lane.backend->info();
      if (block.backend != e->fallback_lane_ && info.kind == "cpu" && info.threads > 1 && lane.host_memory) {
        lane.caller_served = true;
        e->caller_lane_ = block.backend;
        break;
      }
    }
  }
  // Dataflow tables.
  const Graph& g = *e->graph_;
  e->producer_block_.assign(g.values.size(), -1);
  e->consumers_.resize(g.values.size());
  for (size_t b = 0; b < e->plan_.blocks.size(); ++b) {
    const Block& block = e->plan_.blocks[b];
    for (ValueId v : block.outputs) e->producer_block_[static_cast<size_t>(v)] = static_cast<int>(b);
    for (size_t s = 0; s < block.inputs.size(); ++s)
      e->consumers_[static_cast<size_t>(block.inputs[s])].push_back({static_cast<int>(b), static_cast<int>(s)});
  }
  e->cached_state_ = std::make_shared<RunState>();
  e->cached_state_->Resize(g.values.size(), e->plan_);
  return e;
}

Executor::~Executor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& lane : lanes_) lane->cv.notify_all();
  }
  // Waits for calls still running, including abandoned ones: their executables belong to this executor.
  for (auto& lane : lanes_)
    if (lane->thread.joinable()) lane->thread.join();
}

void Executor::StartLanes() {
  if (lanes_started_) return;
  lanes_started_ = true;
  std::vector<bool> used(lanes_.size(), false);
  for (const Block& block : plan_.blocks) used[static_cast<size_t>(block.backend)] = true;
  if (fallback_lane_ >= 0) used[static_cast<size_t>(fallback_lane_)] = true;
  for (size_t l = 0; l < lanes_.size(); ++l)
    if (used[l] && !lanes_[l]->caller_served) lanes_[l]->thread = std::thread([this, l] { LaneLoop(static_cast<int>(l)); });
}

int Executor::RouteFor(int block) const {
  const int lane = plan_.blocks[static_cast<size_t>(block)].backend;
  if (fallback_lane_ < 0 || lane == fallback_lane_) return lane;
  const Lane& l = *lanes_[static_cast<size_t>(lane)];
  if (l.stuck || !options_.health->Usable(l.backend->info().name)) return fallback_lane_;
  return lane;
}

Executable* Executor::ExecutableFor(int block, int lane, Status* error) {
  if (lane == plan_.blocks[static_cast<size_t>(block)].backend) return executables_[static_cast<size_t>(block)].get();
  // Only the fallback lane (or a caller running inline) prepares fallback executables; the lock keeps two inline
  // callers from preparing the same block twice.
  std::lock_guard<std::mutex> lock(prepare_mu_);
  auto& exe = fallback_executables_[static_cast<size_t>(block)];
  if (!exe) {
    auto prepared = lanes_[static_cast<size_t>(lane)]->backend->Prepare(graph_, plan_.blocks[static_cast<size_t>(block)]);
    if (!prepared.ok()) {
      *error = prepared.status().WithContext("preparing block " + std::to_string(block) + " on fallback '" +
                                             lanes_[static_cast<size_t>(lane)]->backend->info().name + "'");
      return nullptr;
    }
    exe = std::move(prepared).value();
  }
  return exe.get();
}

// ---------------------------------------------------------------------------------------------------------------
// Moving values

Result<Tensor> Executor::MoveTo(const Tensor& t, int from_lane, int to_lane) {
  Backend& to = *lanes_[static_cast<size_t>(to_lane)]->backend;
  if (t.is_host() || from_lane == to_lane || from_lane < 0) return to.ToDevice(t);
  // A device tensor of another processor goes through the host.
  DX_ASSIGN_OR_RETURN(Tensor host, lanes_[static_cast<size_t>(from_lane)]->backend->ToHost(t));
  return to.ToDevice(host);
}


void Executor::Push(int lane, Task task) {
  ++task.st->in_flight;
  Lane& l = *lanes_[static_cast<size_t>(lane)];
  RunState& st = *task.st;
  l.queue.push_back(std::move(task));
  if (l.caller_served) st.cv.notify_all();  // the caller waiting on this run serves the lane
  else l.cv.notify_one();
}

// With mu_ held: input `slot` of `block` now holds a tensor on `lane` (or could not be moved: lane -2).
void Executor::InputArrived(const std::shared_ptr<RunState>& st, int block, int slot, int lane) {
  RunState& s = *st;
  s.input_lane[static_cast<size_t>(block)][static_cast<size_t>(slot)] = lane;
  if (--s.remaining[static_cast<size_t>(block)] == 0) Push(RouteFor(block), Task{st, s.seq, block, -1, s.attempt[static_cast<size_t>(block)]});
}

// With mu_ held: `v` is available in s.env (produced on lane `from`); hand it to every consumer block.
void Executor::Distribute(const std::shared_ptr<RunState>& st, ValueId v) {
  RunState& s = *st;
  const Tensor& t = s.env[static_cast<size_t>(v)];
  const int from = s.value_lane[static_cast<size_t>(v)];
  for (auto [c, slot] : consumers_[static_cast<size_t>(v)]) {
    const int to = RouteFor(c);
    // Same processor, or host memory into a processor that works on host memory: no transfer to wait for.
    if (to == from || (t.is_host() && HostShared(to))) {
      s.block_inputs[static_cast<size_t>(c)][static_cast<size_t>(slot)] = t;
      InputArrived(st, c, slot, to);
    } else {
      Push(to, Task{st, s.seq, c, slot, 0});
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The lane worker

void Executor::LaneLoop(int lane_index) {
  Lane& lane = *lanes_[static_cast<size_t>(lane_index)];
  // Reused between tasks; an abandoned call keeps using them after its run has moved on.
  TaskScratch scratch;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    lane.cv.wait(lock, [&] { return stopping_ || !lane.queue.empty(); });
    if (lane.queue.empty()) return;  // stopping
    Task task = std::move(lane.queue.front());
    lane.queue.pop_front();
    RunTask(lane_index, std::move(task), lock, scratch);
  }
}

Result<Tensor> Executor::MoveInput(RunState& st, size_t b, ValueId v, int lane, std::unique_lock<std::mutex>& lock) {
  Tensor src = st.env[static_cast<size_t>(v)];
  const int from = st.value_lane[static_cast<size_t>(v)];
  lock.unlock();
  const int64_t t0 = SteadyNowNs();
  Result<Tensor> moved = MoveTo(src, from, lane);
  const int64_t dt = SteadyNowNs() - t0;
  src = Tensor();  // drop the reference outside the lock
  lock.lock();
  st.transfer_ns[b] += dt;
  return moved;
}

// With mu_ held (released while it moves data or calls an executable).
void Executor::RunTask(int lane_index, Task task, std::unique_lock<std::mutex>& lock, TaskScratch& scratch) {
  Lane& lane = *lanes_[static_cast<size_t>(lane_index)];
  Backend& backend = *lane.backend;
  std::vector<Tensor>& inputs = scratch.inputs;
  std::vector<Tensor>& outputs = scratch.outputs;
  std::vector<NodeTiming>& timings = scratch.timings;
  RunState& st = *task.st;
  const size_t b = static_cast<size_t>(task.block);
  const Block& block = plan_.blocks[b];
  auto finish = [&] {
    --st.in_flight;
    st.cv.notify_all();
  };
  if (task.seq != st.seq || !st.error.ok()) {  // the run failed (or is over): drop its remaining work
    finish();
    return;
  }

  if (task.slot >= 0) {  // a transfer
    Result<Tensor> moved = MoveInput(st, b, block.inputs[static_cast<size_t>(task.slot)], lane_index, lock);
    if (moved.ok()) st.block_inputs[b][static_cast<size_t>(task.slot)] = std::move(moved).value();
    // A failed transfer is retried when the block runs (and fails over from there).
    InputArrived(task.st, task.block, task.slot, moved.ok() ? lane_index : -2);
    finish();
    return;
  }

  // Run the block: first move any input that is not on this processor yet (its route changed, or a transfer
  // failed), then call the executable without the lock.
  Status status;
  inputs.resize(block.inputs.size());
  for (size_t i = 0; i < block.inputs.size() && status.ok(); ++i) {
    if (st.input_lane[b][i] == lane_index) {
      inputs[i] = st.block_inputs[b][i];
      continue;
    }
    const ValueId v = block.inputs[i];
    Result<Tensor> moved = MoveInput(st, b, v, lane_index, lock);
    if (moved.ok()) inputs[i] = std::move(moved).value();
    else status = moved.status().WithContext("moving '" + graph_->value(v).name + "' to '" + backend.info().name + "'");
  }
  Executable* exe = nullptr;
  if (status.ok()) {
    lock.unlock();
    exe = ExecutableFor(task.block, lane_index, &status);
    lock.lock();
  }
  if (status.ok()) {
    st.running_lane[b] = lane_index;
    st.start_ns[b] = SteadyNowNs();
    if (options_.block_timeout_ns > 0) st.cv.notify_all();  // the caller watches the deadline
    RunOptions options = st.options;
    timings.clear();
    options.timings = st.timing ? &timings : nullptr;
    lock.unlock();
    outputs.clear();
    status = exe->Run(inputs, outputs, options);
    if (status.ok() && outputs.size() != block.outputs.size())
      status = Internal("executable returned " + std::to_string(outputs.size()) + " outputs, block has " +
                        std::to_string(block.outputs.size()));
    for (Tensor& t : inputs) t = Tensor();
    lock.lock();
    if (task.seq != st.seq || task.attempt != st.attempt[b]) {  // abandoned (timed out): nobody waits for it
      lane.stuck = false;
      outputs.clear();
      return;
    }
    st.running_lane[b] = -1;
    st.end_ns[b] = SteadyNowNs();
  }
  if (!status.ok()) {
    status = status.WithContext("block " + std::to_string(b) + " on '" + backend.info().name + "'");
    if (lane_index != fallback_lane_ && fallback_lane_ >= 0) {
      // The processor failed this block: mark it, and re-run the block on the fallback.
      options_.health->MarkUnhealthy(backend.info().name, status.message());
      st.failure[b] = status;
      st.failed_over[b] = 1;
      ++st.failovers;
      ++st.attempt[b];
      Push(fallback_lane_, Task{task.st, st.seq, task.block, -1, st.attempt[b]});
    } else {
      if (st.failed_over[b]) {
        // It failed on both processors, so the input (not the first processor) is likely at fault.
        const std::string first = lanes_[static_cast<size_t>(plan_.blocks[b].backend)]->backend->info().name;
        if (!lane.stuck) options_.health->MarkHealthy(first);
        status = status.WithContext("after failing over (" + st.failure[b].message() + ")");
      }
      if (st.error.ok()) st.error = status;
    }
    finish();
    return;
  }
  if (st.timing) st.timings[b].insert(st.timings[b].end(), timings.begin(), timings.end());
  st.ran_lane[b] = lane_index;
  // A successful run on the planned processor is also a successful probe of it.
  if (lane_index == block.backend && fallback_lane_ >= 0 && lane_index != fallback_lane_ &&
      !options_.health->Healthy(backend.info().name))
    options_.health->MarkHealthy(backend.info().name);

  // Publish outputs. Values read by another processor or by the caller go to the host once, here.
  for (size_t i = 0; i < block.outputs.size() && st.error.ok(); ++i) {
    const ValueId v = block.outputs[i];
    Tensor out = std::move(outputs[i]);
    bool need_host = !out.is_host() && graph_->IsGraphOutput(v);
    for (auto [c, slot] : consumers_[static_cast<size_t>(v)]) need_host |= !out.is_host() && RouteFor(c) != lane_index;
    if (need_host) {
      lock.unlock();
      Result<Tensor> host = backend.ToHost(out);
      lock.lock();
      if (!host.ok()) {
        // The value is lost with the processor: the block counts as failed.
        if (st.error.ok()) st.error = host.status().WithContext("reading '" + graph_->value(v).name + "' from '" + backend.info().name + "'");
        break;
      }
      out = std::move(host).value();
    }
    st.env[static_cast<size_t>(v)] = std::move(out);
    st.value_lane[static_cast<size_t>(v)] = st.env[static_cast<size_t>(v)].is_host() ? -1 : lane_index;
    if (i + 1 == block.outputs.size()) st.done_ns[b] = SteadyNowNs();  // before the consumers are released
    Distribute(task.st, v);
  }
  if (block.outputs.empty()) st.done_ns[b] = SteadyNowNs();
  outputs.clear();
  ++st.blocks_done;
  finish();
}

// ---------------------------------------------------------------------------------------------------------------
// Running

std::shared_ptr<Executor::RunState> Executor::AcquireState() {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<RunState> st;
  if (!cached_state_->in_use) {
    st = cached_state_;
  } else {
    st = std::make_shared<RunState>();
    st->Resize(graph_->values.size(), plan_);
  }
  st->in_use = true;
  st->seq = next_seq_++;
  st->Reset(plan_);
  return st;
}

Result<std::vector<Tensor>> Executor::CollectOutputs(RunState& st) {
  const Graph& g = *graph_;
  std::vector<Tensor> outputs;
  outputs.reserve(g.outputs.size());
  for (ValueId v : g.outputs) {
    const Value& value = g.value(v);
    if (value.is_constant()) {
      outputs.push_back(value.constant);
      continue;
    }
    const Tensor& t = st.env[static_cast<size_t>(v)];
    if (t.is_host() || t.empty()) {
      outputs.push_back(t);
      continue;
    }
    const int lane = st.value_lane[static_cast<size_t>(v)];
    if (lane < 0) return Internal("output '" + value.name + "' is on a device but no lane produced it");
    DX_ASSIGN_OR_RETURN(Tensor host, lanes_[static_cast<size_t>(lane)]->backend->ToHost(t));
    outputs.push_back(std::move(host));
  }
  return outputs;
}

// One block after another on the caller's thread: single-block plans (no hand-off to a lane) and
// `concurrent = false`. Failover applies; timeouts need lanes and do not.
Result<std::vector<Tensor>> Executor::RunInline(RunState& st, const RunOptions& options) {
  std::vector<Tensor> outputs;
  for (size_t b = 0; b < plan_.blocks.size(); ++b) {
    const Block& block = plan_.blocks[b];
    int lane = RouteFor(static_cast<int>(b));
    for (int attempt = 0;; ++attempt) {
      Backend& backend = *lanes_[static_cast<size_t>(lane)]->backend;
      Status status;
      std::vector<Tensor>& inputs = st.block_inputs[b];
      const int64_t t0 = SteadyNowNs();
      for (size_t i = 0; i < block.inputs.size() && status.ok(); ++i) {
        const ValueId v = block.inputs[i];
        Result<Tensor> moved = MoveTo(st.env[static_cast<size_t>(v)], st.value_lane[static_cast<size_t>(v)], lane);
        if (moved.ok()) inputs[i] = std::move(moved).value();
        else status = moved.status().WithContext("moving '" + graph_->value(v).name + "' to '" + backend.info().name + "'");
      }
      st.transfer_ns[b] += SteadyNowNs() - t0;
      Executable* exe = status.ok() ? ExecutableFor(static_cast<int>(b), lane, &status) : nullptr;
      if (status.ok()) {
        RunOptions opts = options;
        opts.timings = st.timing ? &st.timings[b] : nullptr;
        outputs.clear();
        st.start_ns[b] = SteadyNowNs();
        status = exe->Run(inputs, outputs, opts);
        st.end_ns[b] = st.done_ns[b] = SteadyNowNs();
        if (status.ok() && outputs.size() != block.outputs.size())
          status = Internal("executable returned " + std::to_string(outputs.size()) + " outputs, block has " +
                            std::to_string(block.outputs.size()));
      }
      if (status.ok()) {
        if (lane == block.backend && lane != fallback_lane_ && fallback_lane_ >= 0 &&
            !options_.health->Healthy(backend.info().name))
          options_.health->MarkHealthy(backend.info().name);
        break;
      }
      status = status.WithContext("block " + std::to_string(b) + " on '" + backend.info().name + "'");
      if (attempt == 0 && fallback_lane_ >= 0 && lane != fallback_lane_) {
        options_.health->MarkUnhealthy(backend.info().name, status.message());
        st.failure[b] = status;
        st.failed_over[b] = 1;
        ++st.failovers;
        lane = fallback_lane_;
        continue;
      }
      if (st.failed_over[b]) {
        options_.health->MarkHealthy(lanes_[static_cast<size_t>(block.backend)]->backend->info().name);
        return status.WithContext("after failing over (" + st.failure[b].message() + ")");
      }
      return status;
    }
    st.ran_lane[b] = lane;
    for (size_t i = 0; i < block.outputs.size(); ++i) {
      const ValueId v = block.outputs[i];
      st.env[static_cast<size_t>(v)] = std::move(outputs[i]);
      st.value_lane[static_cast<size_t>(v)] = st.env[static_cast<size_t>(v)].is_host() ? -1 : lane;
    }
    ++st.blocks_done;
  }
  return CollectOutputs(st);
}

Result<std::vector<Tensor>> Executor::Run(const std::vector<Tensor>& inputs, const RunOptions& options,
                                          RunReport* report) {
  const Graph& g = *graph_;
  if (inputs.size() != g.inputs.size())
    return InvalidArgument("expected " + std::to_string(g.inputs.size()) + " inputs, got " +
                           std::to_string(inputs.size()));
  const int64_t run_start = SteadyNowNs();
  std::shared_ptr<RunState> state = AcquireState();
  RunState& st = *state;
  st.timing = options.timings != nullptr;
  st.options = options;
  st.options.timings = nullptr;
  for (size_t i = 0; i < inputs.size(); ++i) {
    st.env[static_cast<size_t>(g.inputs[i])] = inputs[i];
    st.value_lane[static_cast<size_t>(g.inputs[i])] = -1;
  }

  Result<std::vector<Tensor>> result = std::vector<Tensor>();
  const bool inline_run =
      !options_.concurrent || (plan_.blocks.size() <= 1 && options_.block_timeout_ns <= 0);
  if (inline_run) {
    result = RunInline(st, options);
  } else {
    std::unique_lock<std::mutex> lock(mu_);
    StartLanes();
    for (ValueId v : g.inputs) Distribute(state, v);
    for (size_t b = 0; b < plan_.blocks.size(); ++b)  // blocks reading only constants
      if (plan_.blocks[b].inputs.empty()) Push(RouteFor(static_cast<int>(b)), Task{state, st.seq, static_cast<int>(b), -1, 0});
    const int n = static_cast<int>(plan_.blocks.size());
    TaskScratch scratch;
    while (!(st.in_flight == 0 && (st.blocks_done == n || !st.error.ok()))) {
      if (caller_lane_ >= 0 && !lanes_[static_cast<size_t>(caller_lane_)]->queue.empty()) {
        Lane& lane = *lanes_[static_cast<size_t>(caller_lane_)];
        Task task = std::move(lane.queue.front());
        lane.queue.pop_front();
        RunTask(caller_lane_, std::move(task), lock, scratch);
        continue;
      }
      if (options_.block_timeout_ns <= 0) {
        st.cv.wait(lock);
        continue;
      }
      // Wake at the earliest deadline of a block running on a processor other than the fallback.
      int64_t deadline = INT64_MAX;
      for (int b = 0; b < n; ++b) {
        const int lane = st.running_lane[static_cast<size_t>(b)];
        if (lane >= 0 && lane != fallback_lane_)
          deadline = std::min(deadline, st.start_ns[static_cast<size_t>(b)] + options_.block_timeout_ns);
      }
      if (deadline == INT64_MAX) {
        st.cv.wait(lock);
        continue;
      }
      const int64_t now = SteadyNowNs();
      if (now < deadline) {
        st.cv.wait_for(lock, std::chrono::nanoseconds(deadline - now));
        continue;
      }
      for (int b = 0; b < n; ++b) {
        const size_t bi = static_cast<size_t>(b);
        const int lane = st.running_lane[bi];
        if (lane < 0 || lane == fallback_lane_ || st.start_ns[bi] + options_.block_timeout_ns > now) continue;
        // Abandon the call: its lane is stuck until it returns, and its late result is dropped.
        Lane& l = *lanes_[static_cast<size_t>(lane)];
        l.stuck = true;
        st.running_lane[bi] = -1;
        ++st.attempt[bi];
        --st.in_flight;
        const Status why(StatusCode::kDeadlineExceeded,
                         "block " + std::to_string(b) + " on '" + l.backend->info().name + "' took longer than " +
                             std::to_string(options_.block_timeout_ns / 1000000) + " ms");
        options_.health->MarkUnhealthy(l.backend->info().name, why.message());
        // Work queued behind the stuck call goes elsewhere: transfers are redone when their block runs.
        std::deque<Task> queued;
        queued.swap(l.queue);
        for (Task& t : queued) {
          --t.st->in_flight;
          if (t.seq != t.st->seq) continue;
          if (t.slot >= 0) InputArrived(t.st, t.block, t.slot, -2);
          else Push(RouteFor(t.block), std::move(t));
        }
        if (fallback_lane_ < 0) {
          if (st.error.ok()) st.error = why;
          continue;
        }
        st.failure[bi] = why;
        st.failed_over[bi] = 1;
        ++st.failovers;
        Push(fallback_lane_, Task{state, st.seq, b, -1, st.attempt[bi]});
      }
    }
    if (!st.error.ok()) result = st.error;
  }

  if (result.ok() && !inline_run) result = CollectOutputs(st);
  if (options.timings) {
    for (auto& t : st.timings) options.timings->insert(options.timings->end(), t.begin(), t.end());
    std::stable_sort(options.timings->begin(), options.timings->end(),
                     [](const NodeTiming& a, const NodeTiming& b) { return a.start_ns < b.start_ns; });
  }
  if (report) {
    report->start_ns = run_start;
    report->end_ns = SteadyNowNs();
    report->failovers = st.failovers;
    // A block that failed while publishing has no done time: its end stands for it.
    auto done_of = [&](size_t b) { return std::max(st.done_ns[b], st.end_ns[b]); };
    report->blocks.resize(plan_.blocks.size());
    for (size_t b = 0; b < plan_.blocks.size(); ++b) {
      BlockRecord& r = report->blocks[b];
      const int lane = st.ran_lane[b];
      r.processor = lane >= 0 ? lanes_[static_cast<size_t>(lane)]->backend->info().name : "";
      r.start_ns = st.start_ns[b];
      r.end_ns = st.end_ns[b];
      r.done_ns = done_of(b);
      r.transfer_ns = st.transfer_ns[b];
      r.ready_ns = run_start;
      for (ValueId v : plan_.blocks[b].inputs) {
        const int p = producer_block_[static_cast<size_t>(v)];
        if (p >= 0) r.ready_ns = std::max(r.ready_ns, done_of(static_cast<size_t>(p)));
      }
      r.failed_over = st.failed_over[b] != 0;
      r.failure = st.failure[b].ok() ? "" : st.failure[b].message();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    st.Clear(g, plan_);
    st.seq = 0;  // late results of abandoned calls see a different run
    st.in_use = false;
  }
  return result;
}

int64_t Executor::activation_bytes() const {
  int64_t total = 0;
  for (const auto& e : executables_) total += e->activation_bytes();
  return total;
}

int64_t Executor::resident_bytes() const {
  int64_t total = 0;
  for (const auto& e : executables_) total += e->resident_bytes();
  return total;
}

}  // namespace deepx
