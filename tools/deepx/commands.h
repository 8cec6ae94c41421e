// The `deepx` CLI: one file per subcommand, each adding itself to the app.
#pragma once

#include <CLI/CLI.hpp>

namespace deepx::cli {

// Each Add*Command registers a subcommand whose callback runs it and sets the process exit code through
// SetExitCode (0 success, 1 failure, 2 usage error).
void AddRunCommand(CLI::App& app);
void AddInfoCommand(CLI::App& app);
void AddConformanceCommand(CLI::App& app);
void AddBenchCommand(CLI::App& app);
void AddProfileCommand(CLI::App& app);
void AddDevicesCommand(CLI::App& app);
void AddCompressCommand(CLI::App& app);
void AddServeCommand(CLI::App& app);
void AddPlanCommand(CLI::App& app);

void SetExitCode(int code);
int ExitCode();

}  // namespace deepx::cli
