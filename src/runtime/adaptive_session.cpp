#include "runtime/adaptive_session.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace deepx {

int BucketEdges::Bucket(double x, int current) const {
  auto plain = [&](double v) {
    return static_cast<int>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
  };
  const int b = plain(x);
  if (current < 0 || b == current || current > static_cast<int>(edges.size())) return b;
  // Still inside the current bucket's range widened by the margin?
  const double lo = current > 0 ? edges[static_cast<size_t>(current - 1)] : -INFINITY;
  const double hi = current < static_cast<int>(edges.size()) ? edges[static_cast<size_t>(current)] : INFINITY;
  const bool inside = log_scale ? (x >= lo / (1 + margin) && x < hi * (1 + margin))
                                : (x >= lo - margin && x < hi + margin);
  return inside ? current : b;
}

bool ConditionKey::operator<(const ConditionKey& o) const {
  return std::tie(cpu, mem, battery, on_battery, links, unhealthy) <
         std::tie(o.cpu, o.mem, o.battery, o.on_battery, o.links, o.unhealthy);
}

bool ConditionKey::operator==(const ConditionKey& o) const { return !(*this < o) && !(o < *this); }

std::string ConditionKey::ToString() const {
  std::ostringstream os;
  os << "cpu=" << cpu << " mem=" << mem << " bat=" << (on_battery ? std::to_string(battery) : "ac");
  for (const auto& [name, b] : links) os << " link[" << name << "]=" << b.first << "/" << b.second;
  if (!unhealthy.empty()) {
    os << " down=[";
    for (size_t i = 0; i < unhealthy.size(); ++i) os << (i ? "," : "") << unhealthy[i];
    os << "]";
  }
  return os.str();
}

ConditionKey AdaptiveSession::KeyFor(const Conditions& c, const ConditionKey* current) const {
  ConditionKey k;
  // The measured contention, when there is one, is what latency depends on.
  k.cpu = options_.cpu_load.Bucket(c.cpu_contention >= 0 ? c.cpu_contention : c.cpu_load, current ? current->cpu : -1);
  k.mem = c.mem_available_bytes < 0
              ? -1
              : options_.mem_available_mb.Bucket(static_cast<double>(c.mem_available_bytes) / (1 << 20),
                                                 current ? current->mem : -1);
  k.on_battery = c.on_battery;
  k.battery = c.on_battery && c.battery_fraction >= 0
                  ? options_.battery_fraction.Bucket(c.battery_fraction, current ? current->battery : -1)
                  : 0;
  for (const auto& [name, link] : c.links) {
    int cur_rtt = -1, cur_bw = -1;
    if (current)
      for (const auto& [n, b] : current->links)
        if (n == name) cur_rtt = b.first, cur_bw = b.second;
    const int rtt = link.rtt_ms < 0 ? -1 : options_.rtt_ms.Bucket(link.rtt_ms, cur_rtt);
    const int bw = link.bandwidth_mbps < 0 ? -1 : options_.bandwidth_mbps.Bucket(link.bandwidth_mbps, cur_bw);
    k.links.push_back({name, {rtt, bw}});
  }
  for (const auto& [name, why] : c.unhealthy) k.unhealthy.push_back(name);
  return k;
}

Result<std::unique_ptr<AdaptiveSession>> AdaptiveSession::Create(std::shared_ptr<const Graph> graph,
                                                                 std::vector<std::shared_ptr<Backend>> backends,
                                                                 PlannerFn planner,
                                                                 std::shared_ptr<ResourceMonitor> monitor,
                                                                 AdaptiveOptions options) {
  if (!graph) return InvalidArgument("adaptive session needs a graph");
  if (!planner) return InvalidArgument("adaptive session needs a planner");
  if (!monitor) return InvalidArgument("adaptive session needs a resource monitor");
  if (options.hold_samples < 1 || options.sample_every_runs < 1 || options.max_cached_plans < 1)
    return InvalidArgument("adaptive session: hold_samples, sample_every_runs and max_cached_plans must be >= 1");
  std::unique_ptr<AdaptiveSession> s(new AdaptiveSession());
  s->graph_ = std::move(graph);
  for (auto& b : backends) {
    const std::string name = b->info().name;
    if (!s->backends_.emplace(name, std::move(b)).second)
      return InvalidArgument("adaptive session: two backends named '" + name + "'");
  }
  s->planner_ = std::move(planner);
  s->monitor_ = std::move(monitor);
  s->options_ = std::move(options);
  s->health_ = s->options_.executor.health ? s->options_.executor.health : std::make_shared<ProcessorHealth>();
  s->options_.executor.health = s->health_;
  return s;
}

Result<AdaptiveSession::CachedPlan*> AdaptiveSession::PlanFor(const ConditionKey& key, const Conditions& c,
                                                              AdaptiveRunInfo* info) {
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    ++stats_.cache_hits;
    return &it->second;
  }
  const int64_t t0 = SteadyNowNs();
  DX_ASSIGN_OR_RETURN(PlannedGraph planned, planner_(graph_, c));
  const int64_t t1 = SteadyNowNs();
  if (!planned.graph) planned.graph = graph_;
  for (const std::string& name : planned.processors)
    if (backends_.find(name) == backends_.end())
      return NotFound("the planner chose processor '" + name + "', which the session has not");
  if (cache_.size() >= options_.max_cached_plans) {  // drop the least recently used plan (never the current one)
    auto lru = cache_.end();
    for (auto i = cache_.begin(); i != cache_.end(); ++i)
      if (&i->second != current_plan_ && (lru == cache_.end() || i->second.last_used < lru->second.last_used)) lru = i;
    if (lru != cache_.end()) cache_.erase(lru);
  }
  CachedPlan& entry = cache_[key];
  entry.planned = std::move(planned);
  entry.executor = nullptr;
  DX_RETURN_IF_ERROR(EnsureExecutor(entry, info));
  const int64_t t2 = SteadyNowNs();
  ++stats_.replans;
  stats_.replan_ms.push_back((t2 - t0) / 1e6);
  stats_.plan_ms.push_back((t1 - t0) / 1e6);
  if (info) {
    info->replanned = true;
    info->replan_ms = (t2 - t0) / 1e6;
    info->plan_ms = (t1 - t0) / 1e6;
  }
  return &entry;
}

namespace {

// Two plans run the same way: the same graph, and the same nodes in the same blocks on the same processors.
bool SameExecution(const PlannedGraph& a, const PlannedGraph& b) {
  if (a.graph != b.graph || a.plan.blocks.size() != b.plan.blocks.size()) return false;
  for (size_t i = 0; i < a.plan.blocks.size(); ++i) {
    const Block& x = a.plan.blocks[i];
    const Block& y = b.plan.blocks[i];
    if (x.nodes != y.nodes ||
        a.processors[static_cast<size_t>(x.backend)] != b.processors[static_cast<size_t>(y.backend)])
      return false;
  }
  return true;
}

}  // namespace

Status AdaptiveSession::EnsureExecutor(CachedPlan& plan, AdaptiveRunInfo* info) {
  if (plan.executor) return Status::Ok();
  for (auto& [key, other] : cache_)
    if (&other != &plan && other.executor && SameExecution(other.planned, plan.planned)) {
      plan.executor = other.executor;
      return Status::Ok();
    }
  std::vector<std::shared_ptr<Backend>> backends;
  for (const std::string& name : plan.planned.processors) {
    auto b = backends_.find(name);
    if (b == backends_.end()) return NotFound("the planner chose processor '" + name + "', which the session has not");
    backends.push_back(b->second);
  }
  DX_ASSIGN_OR_RETURN(auto executor,
                      Executor::Create(plan.planned.graph, plan.planned.plan, backends, options_.executor));
  plan.executor = std::move(executor);
  ++stats_.executors_prepared;
  if (info) info->prepared = true;
  return Status::Ok();
}

void AdaptiveSession::ReleaseExecutorsExcept(const CachedPlan& keep) {
  for (auto& [key, plan] : cache_)
    if (plan.executor && plan.executor != keep.executor) {
      if (plan.executor.use_count() == 1) ++stats_.executors_released;
      plan.executor.reset();
    }
}

Result<std::vector<Tensor>> AdaptiveSession::Run(const std::vector<Tensor>& inputs, AdaptiveRunInfo* info,
                                                 const RunOptions& run_options) {
  AdaptiveRunInfo local;
  if (!info) info = &local;
  *info = AdaptiveRunInfo();
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t failures = health_->failures();
  // Sample every N runs, and at once after a processor failed (its health is part of the key).
  const bool sample = !have_current_ || stats_.runs % options_.sample_every_runs == 0 || failures != last_failures_;
  last_failures_ = failures;
  ++stats_.runs;
  if (sample) {
    info->sampled = true;
    ++stats_.samples;
    // The first late run's own measurements (link timings) are the news: read them now, once per late episode (a
    // refresh may cost a contention probe, which a run of late inferences must not pay every time).
    if (late_ && !refreshed_) {
      monitor_->Refresh();
      refreshed_ = true;
    }
    DX_ASSIGN_OR_RETURN(Conditions c, monitor_->Sample());
    // Processors the executor found failing are planned around until their re-probe time comes.
    for (const auto& [name, why] : health_->Unhealthy())
      if (!health_->Usable(name)) c.unhealthy[name] = why;
    const ConditionKey key = KeyFor(c, have_current_ ? &current_ : nullptr);
    struct RememberSample {
      int64_t& last;
      int64_t now;
      ~RememberSample() { last = now; }
    } remember{last_sampled_ns_, c.sampled_ns};
    bool change = false;
    if (!have_current_) {
      change = true;
    } else if (key == current_) {
      pending_count_ = 0;
      late_ = false;
    } else if (key.unhealthy != current_.unhealthy || (key.mem >= 0 && key.mem < current_.mem)) {
      change = true;  // health changes and less free memory switch at once: the current plan may no longer run
    } else {
      const bool fresh = c.sampled_ns == 0 || c.sampled_ns != last_sampled_ns_;
      if (pending_count_ > 0 && key == pending_) {
        pending_count_ += fresh ? 1 : 0;  // the same sample seen again is no new evidence
      } else {
        pending_ = key;
        pending_count_ = 1;
      }
      change = pending_count_ >= options_.hold_samples || (late_ && fresh);
    }
    if (change) {
      const bool less_memory = have_current_ && key.mem >= 0 && key.mem < current_.mem;
      DX_ASSIGN_OR_RETURN(CachedPlan * plan, PlanFor(key, c, info));
      DX_RETURN_IF_ERROR(EnsureExecutor(*plan, info));  // a cached plan whose executor was released
      if (less_memory) ReleaseExecutorsExcept(*plan);
      if (have_current_ && plan->executor != current_plan_->executor) {
        ++stats_.switches;
        info->switched = true;
      }
      current_ = key;
      current_plan_ = plan;
      have_current_ = true;
      pending_count_ = 0;
      late_ = false;
    }
  }
  CachedPlan& plan = *current_plan_;
  plan.last_used = stats_.runs;
  info->key = current_.ToString();
  info->plan = &plan.planned;
  const int64_t start_ns = SteadyNowNs();
  auto outputs = plan.executor->Run(inputs, run_options, &info->report);
  const double predicted_ms = plan.planned.predicted_latency_ms;
  if (options_.late_factor > 0 && predicted_ms > 0) {
    const bool late = (SteadyNowNs() - start_ns) / 1e6 > options_.late_factor * predicted_ms;
    late_ = late_ || late;
    if (!late) refreshed_ = false;
  }
  return outputs;
}

}  // namespace deepx
