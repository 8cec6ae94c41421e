// deepx: command-line front end of the DeepX runtime.
#include <iostream>

#include "commands.h"

namespace deepx::cli {
namespace {
int g_exit_code = 0;
}
void SetExitCode(int code) { g_exit_code = code; }
int ExitCode() { return g_exit_code; }
}  // namespace deepx::cli

int main(int argc, char** argv) {
  CLI::App app{"DeepX: run trained ONNX CNNs/DNNs on constrained devices with little energy and memory"};
  app.require_subcommand(1);
  deepx::cli::AddRunCommand(app);
  deepx::cli::AddInfoCommand(app);
  deepx::cli::AddConformanceCommand(app);
  deepx::cli::AddBenchCommand(app);
  deepx::cli::AddProfileCommand(app);
  deepx::cli::AddDevicesCommand(app);
  deepx::cli::AddCompressCommand(app);
  deepx::cli::AddServeCommand(app);
  deepx::cli::AddPlanCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the usage error
    return code == 0 ? 0 : 2;
  }
  return deepx::cli::ExitCode();
}
