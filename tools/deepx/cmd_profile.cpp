#include <iostream>

#include "commands.h"

namespace deepx::cli {

// Placeholder until the command lands.
void AddProfileCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("profile", "(not yet implemented)");
  cmd->callback([] {
    std::cerr << "deepx profile: not implemented yet\n";
    SetExitCode(1);
  });
}

}  // namespace deepx::cli
