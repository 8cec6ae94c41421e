#include <iostream>

#include "commands.h"

namespace deepx::cli {

// Placeholder until the command lands.
void AddBenchCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "(not yet implemented)");
  cmd->callback([] {
    std::cerr << "deepx bench: not implemented yet\n";
    SetExitCode(1);
  });
}

}  // namespace deepx::cli
