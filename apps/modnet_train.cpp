// modnet-train: train one experiment described by a YAML config.
#include <cstdio>

#include "modnet/core/cli.h"
#include "modnet/core/error.h"
#include "modnet/run/experiment.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-train", [&] {
    using namespace modnet;
    const auto args = cli::parse(
        argc, argv, "modnet-train --config FILE [key.sub=value ...] --out DIR [--force]\n       modnet-train --resume DIR",
        {{"--config", true, "experiment config (YAML)", "FILE"},
         {"--out", true, "run directory to create", "DIR"},
         {"--force", false, "empty an existing run directory first"},
         {"--resume", true, "continue the run in DIR from its checkpoint", "DIR"},
         {"--print-config", false, "print the resolved config and exit"},
         {"--config-reference", false, "print every config key with its default and meaning (Markdown)"},
         {"--stop-at-step", true, "stop (checkpointed) at this step; continue later with --resume", "N"}});
    if (args.has("--config-reference")) {
      std::fputs(run::config_reference().c_str(), stdout);
      return 0;
    }
    if (args.has("--resume")) {
      if (args.has("--config") || args.has("--out") || args.has("--force") || !args.overrides.empty())
        throw Error("--resume DIR takes the config from DIR/config.yaml; do not combine it with --config, --out, "
                    "--force or overrides");
    } else if (!args.has("--config")) {
      throw Error("missing required option --config (or --resume DIR); see --help");
    }
    const std::string dir = args.has("--resume") ? args.require("--resume") : args.get("--out").value_or("");
    const auto config = args.has("--resume") ? run::load_experiment_config(RunDir{dir}.config())
                                             : run::load_experiment_config(args.require("--config"), args.overrides);
    if (args.has("--print-config")) {
      std::fputs(run::experiment_config_yaml(config).c_str(), stdout);
      return 0;
    }
    if (dir.empty()) throw Error("missing required option --out DIR; see --help");
    const auto mode = args.has("--resume") ? RunDirMode::resume : args.has("--force") ? RunDirMode::force : RunDirMode::fresh;
    train::install_interrupt_handler();
    run::Experiment experiment(config);
    const auto result = experiment.run(dir, mode, args.get_int("--stop-at-step"));
    if (!result.finished) {
      std::fprintf(stderr, "modnet-train: stopped at step %lld; continue with: modnet-train --resume %s\n",
                   static_cast<long long>(result.steps), dir.c_str());
      return train::interrupted() ? 130 : 0;
    }
    return 0;
  });
}
