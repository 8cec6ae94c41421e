// `deepx plan`: plan a model across processors (DAD) for minimum energy under latency/accuracy/memory limits.
#include <iostream>

#include "commands.h"

namespace deepx::cli {

void AddPlanCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("plan", "Plan a model across processors (DAD) for minimum energy under latency/accuracy/memory limits (not implemented yet)");
  cmd->callback([] {
    std::cerr << "deepx plan: not implemented yet\n";
    SetExitCode(1);
  });
}

}  // namespace deepx::cli
