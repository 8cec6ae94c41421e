#include "plan/plan_report.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace deepx {
namespace {

using json = nlohmann::json;

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

bool MeetsLimits(const PlanCost& c, const PlanLimits& l) {
  return c.feasible && c.latency_ms <= l.latency_ms * (1 + 1e-9) && c.accuracy_drop <= l.max_accuracy_drop + 1e-12;
}

json CostJson(const PlanCost& c, const PlanLimits& l) {
  return {{"latency_ms", Num(c.latency_ms)},
          {"energy_mj", Num(c.energy_mj)},
          {"memory_mb", Num(c.memory_mb)},
          {"accuracy_drop", Num(c.accuracy_drop)},
          {"meets_limits", MeetsLimits(c, l)}};
}

std::string Escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string F(double v, int prec = 3) {
  if (!std::isfinite(v)) return "-";
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(prec);
  s << v;
  return s.str();
}

}  // namespace

std::string PlanReportJson(const PlanReport& report, const PlanReportContext& ctx) {
  const Graph& g = *report.graph;
  json procs = json::array();
  for (size_t p = 0; p < ctx.processors.size(); ++p) {
    const ProcessorSpec& s = ctx.processors[p];
    procs.push_back({{"name", s.name},
                     {"backend", s.backend},
                     {"kind", s.kind},
                     {"latency_source", p < ctx.latency_source.size() ? ctx.latency_source[p] : "roofline"},
                     {"power_source", s.power_source},
                     {"memory_mb", report.predicted.memory_mb_per_processor.size() > p
                                       ? Num(report.predicted.memory_mb_per_processor[p])
                                       : json(nullptr)}});
  }
  json blocks = json::array();
  for (const BlockReport& b : report.blocks) {
    json nodes = json::array();
    for (NodeId n : b.nodes) nodes.push_back(g.node(n).name);
    json ranks = json::array();
    for (const BlockRank& r : b.ranks) ranks.push_back({{"node", g.node(r.node).name}, {"rank", r.rank}});
    json jb = {{"nodes", nodes},
               {"processor", ctx.processors[static_cast<size_t>(b.processor)].name},
               {"ranks", ranks},
               {"latency_ms", Num(b.latency_ms)},
               {"transfer_in_ms", Num(b.transfer_in_ms)},
               {"energy_mj", Num(b.energy_mj)},
               {"memory_mb", Num(b.memory_mb)},
               {"latency_source", b.measured_latency ? "measured" : "roofline"}};
    if (b.split_group >= 0) {
      jb["split_group"] = b.split_group;
      jb["split_fraction"] = b.split_fraction;
    }
    blocks.push_back(jb);
  }
  json predicted = CostJson(report.predicted, ctx.limits);
  predicted["energy_source"] = report.energy_source;
  json baselines = json::object();
  for (const BaselineReport& b : report.baselines) {
    json jb = CostJson(b.cost, ctx.limits);
    jb["energy_source"] = report.energy_source;
    if (!b.cost.violated.empty()) jb["note"] = b.cost.violated;
    if (b.split_after_segment >= 0) jb["split_after_segment"] = b.split_after_segment;
    if (!b.detail.empty()) jb["processors"] = b.detail;
    baselines[b.name] = jb;
  }
  json frontier = json::array();
  for (const FrontierPoint& f : report.frontier)
    frontier.push_back({{"latency_ms", f.latency_ms}, {"energy_mj", f.energy_mj}, {"accuracy_drop", f.accuracy_drop}});
  json doc = {{"model", ctx.model},
              {"device", ctx.device},
              {"objective", ctx.objective == PlanObjective::kEnergy ? "energy" : "latency"},
              {"limits", {{"latency_ms", ctx.limits.latency_ms}, {"max_accuracy_drop", ctx.limits.max_accuracy_drop}}},
              {"method", report.method},
              {"plan_time_ms", report.plan_time_ms},
              {"processors", procs},
              {"segments", report.segments.size()},
              {"blocks", blocks},
              {"predicted", predicted},
              {"baselines", baselines},
              {"frontier", frontier},
              {"notes", report.notes}};
  if (!ctx.network.empty()) doc["network"] = ctx.network;
  if (report.milp_gap > 0) doc["milp_gap"] = report.milp_gap;
  return doc.dump(2);
}

std::string PlanReportHtml(const PlanReport& report, const PlanReportContext& ctx) {
  const Graph& g = *report.graph;
  std::ostringstream h;
  h << "<!doctype html><html><head><meta charset=\"utf-8\"><title>DeepX plan: " << Escape(ctx.model)
    << "</title><style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
       "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l,th.l{text-align:left}"
       ".bad{color:#b00}</style></head><body>\n";
  h << "<h1>DeepX plan</h1><p>Model <b>" << Escape(ctx.model) << "</b> on <b>" << Escape(ctx.device) << "</b>"
    << (ctx.network.empty() ? "" : " (network " + Escape(ctx.network) + ")") << ". Objective: "
    << (ctx.objective == PlanObjective::kEnergy ? "least energy" : "least latency") << "; limits: latency "
    << F(ctx.limits.latency_ms, 1) << " ms, accuracy drop " << F(ctx.limits.max_accuracy_drop * 100, 2)
    << " %. Method " << Escape(report.method) << ", planned in " << F(report.plan_time_ms, 2)
    << " ms. Energy is <b>" << report.energy_source << "</b>.</p>\n";
  h << "<h2>Predicted</h2><table><tr><th class=l>plan</th><th>latency ms</th><th>energy mJ</th><th>memory MB</th>"
       "<th>accuracy drop</th><th class=l>limits</th></tr>\n";
  auto row = [&](const std::string& name, const PlanCost& c) {
    const bool ok = MeetsLimits(c, ctx.limits);
    h << "<tr><td class=l>" << Escape(name) << "</td><td>" << F(c.latency_ms) << "</td><td>" << F(c.energy_mj)
      << "</td><td>" << F(c.memory_mb, 1) << "</td><td>" << F(c.accuracy_drop, 4) << "</td><td class=\"l"
      << (ok ? "" : " bad") << "\">" << (ok ? "met" : "not met") << (c.violated.empty() ? "" : ": " + Escape(c.violated))
      << "</td></tr>\n";
  };
  row("DeepX plan", report.predicted);
  for (const BaselineReport& b : report.baselines) row(b.detail.empty() ? b.name + " only" : b.name + " (" + b.detail + ")", b.cost);
  h << "</table>\n";

  // Frontier: energy vs latency, baselines as labelled points, the plan highlighted, the latency limit dashed.
  const int W = 720, H = 420, L = 70, R = 20, T = 20, B = 50;
  double xmax = 0, ymax = 0;
  std::vector<std::pair<std::string, PlanCost>> pts;
  for (const BaselineReport& b : report.baselines)
    if (std::isfinite(b.cost.latency_ms) && std::isfinite(b.cost.energy_mj)) pts.push_back({b.name, b.cost});
  for (const FrontierPoint& f : report.frontier) {
    xmax = std::max(xmax, f.latency_ms);
    ymax = std::max(ymax, f.energy_mj);
  }
  for (const auto& [n, c] : pts) {
    xmax = std::max(xmax, c.latency_ms);
    ymax = std::max(ymax, c.energy_mj);
  }
  // Far-off baselines (a 3G offload) would squash the frontier: the axes stop at 20x the plan, outliers sit on the
  // edge. The latency limit widens the axis only when it is near the plans.
  xmax = std::min(xmax, report.predicted.latency_ms * 20);
  if (ctx.limits.latency_ms <= 1.5 * xmax) xmax = std::max(xmax, ctx.limits.latency_ms);
  double ycap = report.predicted.energy_mj * 20;
  ymax = std::min(ymax, ycap > 0 ? ycap : ymax) * 1.08;
  xmax *= 1.08;
  if (!(xmax > 0)) xmax = 1;
  if (!(ymax > 0)) ymax = 1;
  auto X = [&](double v) { return L + (W - L - R) * std::min(v, xmax) / xmax; };
  auto Y = [&](double v) { return H - B - (H - T - B) * std::min(v, ymax) / ymax; };
  h << "<h2>Energy-latency frontier</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\""
    << H << "\" font-size=\"11\">\n";
  h << "<line x1=\"" << L << "\" y1=\"" << H - B << "\" x2=\"" << W - R << "\" y2=\"" << H - B
    << "\" stroke=\"black\"/><line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\"" << H - B
    << "\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double xv = xmax * i / 4, yv = ymax * i / 4;
    h << "<text x=\"" << X(xv) << "\" y=\"" << H - B + 15 << "\" text-anchor=\"middle\">" << F(xv, 1) << "</text>";
    h << "<text x=\"" << L - 5 << "\" y=\"" << Y(yv) + 4 << "\" text-anchor=\"end\">" << F(yv, 1) << "</text>\n";
  }
  h << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 10 << "\" text-anchor=\"middle\">latency (ms)</text>";
  h << "<text x=\"15\" y=\"" << (T + H - B) / 2 << "\" transform=\"rotate(-90 15 " << (T + H - B) / 2
    << ")\" text-anchor=\"middle\">energy (mJ, " << report.energy_source << ")</text>\n";
  if (ctx.limits.latency_ms <= xmax)
    h << "<line x1=\"" << X(ctx.limits.latency_ms) << "\" y1=\"" << T << "\" x2=\"" << X(ctx.limits.latency_ms)
      << "\" y2=\"" << H - B << "\" stroke=\"#b00\" stroke-dasharray=\"4 3\"/><text x=\"" << X(ctx.limits.latency_ms) + 3
      << "\" y=\"" << T + 10 << "\" fill=\"#b00\">latency limit</text>\n";
  if (!report.frontier.empty()) {
    h << "<polyline fill=\"none\" stroke=\"#36c\" stroke-width=\"1.5\" points=\"";
    for (size_t i = 0; i < report.frontier.size(); ++i) {
      const FrontierPoint& f = report.frontier[i];
      if (i > 0) h << X(f.latency_ms) << "," << Y(report.frontier[i - 1].energy_mj) << " ";
      h << X(f.latency_ms) << "," << Y(f.energy_mj) << " ";
    }
    h << "\"/>\n";
    for (const FrontierPoint& f : report.frontier)
      h << "<circle cx=\"" << X(f.latency_ms) << "\" cy=\"" << Y(f.energy_mj) << "\" r=\"2.5\" fill=\"#36c\"/>";
    h << "\n";
  }
  for (const auto& [n, c] : pts)
    h << "<rect x=\"" << X(c.latency_ms) - 3 << "\" y=\"" << Y(c.energy_mj) - 3
      << "\" width=\"6\" height=\"6\" fill=\"#888\"/><text x=\"" << X(c.latency_ms) + 6 << "\" y=\""
      << Y(c.energy_mj) - 4 << "\" fill=\"#555\">" << Escape(n) << "</text>\n";
  h << "<circle cx=\"" << X(report.predicted.latency_ms) << "\" cy=\"" << Y(report.predicted.energy_mj)
    << "\" r=\"6\" fill=\"none\" stroke=\"#e60\" stroke-width=\"2.5\"/><text x=\"" << X(report.predicted.latency_ms) + 8
    << "\" y=\"" << Y(report.predicted.energy_mj) + 14 << "\" fill=\"#e60\">DeepX plan</text>\n</svg>\n";
  h << "<p>Blue: Pareto-optimal plans (within the accuracy and memory limits); grey: baselines; orange: the chosen "
       "plan. Points beyond the axes are drawn at the edge.</p>\n";

  h << "<h2>Blocks</h2><table><tr><th>#</th><th class=l>processor</th><th class=l>nodes</th><th class=l>ranks</th>"
       "<th>latency ms</th><th>transfer in ms</th><th>energy mJ</th><th>memory MB</th><th class=l>latency from</th></tr>\n";
  for (size_t i = 0; i < report.blocks.size(); ++i) {
    const BlockReport& b = report.blocks[i];
    std::string nodes;
    for (size_t k = 0; k < b.nodes.size(); ++k) {
      if (k == 3 && b.nodes.size() > 4) {
        nodes += ", ... (" + std::to_string(b.nodes.size() - 4) + " more), " + g.node(b.nodes.back()).name;
        break;
      }
      nodes += (k ? ", " : "") + g.node(b.nodes[k]).name;
    }
    std::string ranks;
    for (const BlockRank& r : b.ranks) ranks += (ranks.empty() ? "" : ", ") + g.node(r.node).name + ":" + std::to_string(r.rank);
    h << "<tr><td>" << i << "</td><td class=l>" << Escape(ctx.processors[static_cast<size_t>(b.processor)].name)
      << (b.split_group >= 0 ? " (split " + F(b.split_fraction * 100, 0) + " %)" : "") << "</td><td class=l>"
      << Escape(nodes) << "</td><td class=l>" << Escape(ranks.empty() ? "dense" : ranks) << "</td><td>"
      << F(b.latency_ms) << "</td><td>" << F(b.transfer_in_ms) << "</td><td>" << F(b.energy_mj) << "</td><td>"
      << F(b.memory_mb, 1) << "</td><td class=l>" << (b.measured_latency ? "measured" : "roofline") << "</td></tr>\n";
  }
  h << "</table>\n";
  if (!report.notes.empty()) {
    h << "<h2>Notes</h2><ul>";
    for (const std::string& n : report.notes) h << "<li>" << Escape(n) << "</li>";
    h << "</ul>\n";
  }
  h << "</body></html>\n";
  return h.str();
}

}  // namespace deepx
