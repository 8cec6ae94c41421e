#include <iostream>

#include "commands.h"

namespace deepx::cli {

// Placeholder until the command lands.
void AddDevicesCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("devices", "(not yet implemented)");
  cmd->callback([] {
    std::cerr << "deepx devices: not implemented yet\n";
    SetExitCode(1);
  });
}

}  // namespace deepx::cli
