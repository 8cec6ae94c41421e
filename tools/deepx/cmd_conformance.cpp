// `deepx conformance`: runs the ONNX backend test suite and reports passed / failed / unsupported per op.
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "conformance/onnx_backend_suite.h"

namespace deepx::cli {
namespace {

namespace conf = deepx::conformance;

struct ConformanceArgs {
  std::string data = conf::kDefaultDataRoot;
  std::vector<std::string> suites;
  std::string filter;
  bool json = false;
  bool verbose = false;
  std::string junit;
  double timeout_s = 120;
  bool no_isolate = false;
  bool no_optimize = false;
  std::string backend = "reference";
};

std::string Pad(const std::string& s, size_t width) { return s.size() >= width ? s : s + std::string(width - s.size(), ' '); }

std::string Num(int n, size_t width) {
  std::string s = std::to_string(n);
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

void PrintOpTable(const conf::SuiteReport& report) {
  std::set<std::string> ops;
  for (const auto& [op, c] : report.by_op) ops.insert(op);
  for (const auto& [op, c] : report.by_primary_op) ops.insert(op);
  size_t width = 8;
  for (const auto& op : ops) width = std::max(width, op.size() + 2);
  std::cout << "\nPer op: tests whose model uses the op | tests about the op (primary op of the test name)\n";
  std::cout << Pad("op", width) << "  pass  fail unsup | pass  fail unsup\n";
  for (const auto& op : ops) {
    auto a = report.by_op.count(op) ? report.by_op.at(op) : conf::StatusCounts{};
    auto p = report.by_primary_op.count(op) ? report.by_primary_op.at(op) : conf::StatusCounts{};
    std::cout << Pad(op, width) << Num(a.passed, 6) << Num(a.failed, 6) << Num(a.unsupported, 6) << " |"
              << Num(p.passed, 5) << Num(p.failed, 6) << Num(p.unsupported, 6) << "\n";
  }
}

// Failures (or unsupported tests) grouped by primary op, so each group can go to the kernel's owner.
void PrintGrouped(const conf::SuiteReport& report, conf::TestStatus which, const std::string& title) {
  std::map<std::string, std::vector<const conf::TestCaseResult*>> groups;
  int count = 0;
  for (const auto& t : report.tests) {
    if (t.status != which) continue;
    groups[t.primary_op.empty() ? "(unparsed model)" : t.primary_op].push_back(&t);
    ++count;
  }
  std::cout << "\n" << title << " (" << count << "):\n";
  for (const auto& [op, tests] : groups) {
    std::cout << "  " << op << ":\n";
    for (const auto* t : tests) std::cout << "    " << t->suite << "/" << t->name << ": " << t->message << "\n";
  }
}

void RunConformance(const ConformanceArgs& args) {
  conf::SuiteOptions options;
  options.data_root = args.data;
  options.suites = args.suites;
  options.filter = args.filter;
  options.time_limit_s = args.timeout_s;
  options.isolate = !args.no_isolate;
  options.load.optimize = !args.no_optimize;
  options.session.backend = args.backend;
  if (args.verbose) {
    options.on_result = [](const conf::TestCaseResult& r) {
      std::fprintf(stderr, "%-11s %7.3fs %s/%s\n", conf::TestStatusName(r.status), r.seconds, r.suite.c_str(),
                   r.name.c_str());
    };
  }
  auto report = conf::RunBackendSuite(options);
  if (!report.ok()) {
    std::cerr << "deepx conformance: " << report.status().ToString() << "\n";
    SetExitCode(1);
    return;
  }
  if (!args.junit.empty()) {
    std::ofstream out(args.junit, std::ios::binary);
    out << conf::ReportToJUnitXml(*report);
    if (!out) {
      std::cerr << "deepx conformance: cannot write JUnit report '" << args.junit << "'\n";
      SetExitCode(1);
      return;
    }
  }
  const auto& t = report->totals;
  if (args.json) {
    std::cout << conf::ReportToJson(*report) << "\n";
  } else {
    std::cout << "ONNX backend tests in " << report->data_root << ": " << t.total() << " tests, "
              << std::fixed << std::setprecision(1) << report->seconds << " s\n";
    PrintOpTable(*report);
    PrintGrouped(*report, conf::TestStatus::kFailed, "Failures");
    if (args.verbose) PrintGrouped(*report, conf::TestStatus::kUnsupported, "Unsupported");
    std::cout << "\npassed " << t.passed << ", failed " << t.failed << ", unsupported " << t.unsupported
              << " (of " << t.total() << ")\n";
  }
  SetExitCode(t.failed == 0 ? 0 : 1);
}

}  // namespace

void AddConformanceCommand(CLI::App& app) {
  auto args = std::make_shared<ConformanceArgs>();
  auto* cmd = app.add_subcommand("conformance", "Run the ONNX backend test suite: passed / failed / unsupported per op");
  cmd->add_option("--data", args->data, "Root of the ONNX backend test data (suites are its subfolders)")
      ->capture_default_str();
  cmd->add_option("--suite", args->suites,
                  "Comma-separated suites to run (default: node,pytorch-converted,pytorch-operator,simple)")
      ->delimiter(',');
  cmd->add_option("--filter", args->filter, "Run only tests whose name contains this substring");
  cmd->add_flag("--json", args->json, "Print the report as JSON");
  cmd->add_flag("--verbose,-v", args->verbose, "Show progress on stderr and list unsupported tests with reasons");
  cmd->add_option("--junit", args->junit, "Also write a JUnit XML report to this file");
  cmd->add_option("--timeout", args->timeout_s, "Wall-clock cap per test in seconds")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-isolate", args->no_isolate, "Run tests in this process (for debuggers; a crash ends the run)");
  cmd->add_flag("--no-optimize", args->no_optimize, "Load models without the graph optimisation passes");
  cmd->add_option("--backend", args->backend, "Processor to run on")->capture_default_str();
  cmd->callback([args] { RunConformance(*args); });
}

}  // namespace deepx::cli
