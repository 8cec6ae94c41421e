// `deepx serve`: serve models over the KServe v2 / Open Inference Protocol.
#include <iostream>

#include "commands.h"

namespace deepx::cli {

void AddServeCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("serve", "Serve models over the KServe v2 / Open Inference Protocol (not implemented yet)");
  cmd->callback([] {
    std::cerr << "deepx serve: not implemented yet\n";
    SetExitCode(1);
  });
}

}  // namespace deepx::cli
