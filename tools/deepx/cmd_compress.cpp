// `deepx compress`: compress a model by truncated SVD (RLC) within an accuracy-drop bound.
#include <iostream>

#include "commands.h"

namespace deepx::cli {

void AddCompressCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("compress", "Compress a model by truncated SVD (RLC) within an accuracy-drop bound (not implemented yet)");
  cmd->callback([] {
    std::cerr << "deepx compress: not implemented yet\n";
    SetExitCode(1);
  });
}

}  // namespace deepx::cli
