// modnet-theory: the predicted losses and sample complexity of the linear random-feature model
// (PAPER.md §2) as CSVs and figures; docs/theory.md says what each file shows.
#include <cstdio>

#include "modnet/core/cli.h"
#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/analysis/theory_figures.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-theory", [&] {
    using namespace modnet;
    const auto args = cli::parse(
        argc, argv, "modnet-theory --out DIR [--config FILE] [--c C] [--omega W] [--target-loss L] [--p LIST] "
                    "[--m LIST] [--n N] [--simulate] [key=value ...]",
        {{"--out", true, "folder for the CSVs, figures, summary.json and config.yaml", "DIR"},
         {"--config", true, "options (YAML; see --config-reference)", "FILE"},
         {"--c", true, "Tr Λ, the target's variance (default 1.16)", "C", "c"},
         {"--omega", true, "Ω of α = Ω^(−m) (default 1.56)", "W", "omega"},
         {"--target-loss", true, "target loss L* of n*(m) (default c/0.96)", "L", "target_loss"},
         {"--p", true, "p of the n*(m) curves, e.g. 87,213,338", "LIST", "sample_p", cli::list_argument_yaml},
         {"--m", true, "intrinsic dimensions, e.g. 2:9 or 2,5,9", "LIST", "m", cli::list_argument_yaml},
         {"--n", true, "samples of the p-, m- and k-sweeps (default 1000)", "N", "n"},
         {"--simulate", false, "overlay Monte Carlo points of the model on the p-sweep", "", "simulate"},
         {"--print-config", false, "print the resolved options and exit"},
         {"--config-reference", false, "print every option with its default and meaning (Markdown)"}});
    if (args.has("--config-reference")) {
      std::fputs(config::document<analysis::TheoryFigureOptions>().c_str(), stdout);
      return 0;
    }
    const auto options = config::load<analysis::TheoryFigureOptions>(args.get("--config").value_or(""),
                                                                     args.config_overrides());
    if (args.has("--print-config")) {
      std::puts(config::to_yaml(config::write(options)).c_str());
      return 0;
    }
    for (const auto& path : analysis::write_theory_figures(options, args.require("--out")))
      std::printf("wrote %s\n", path.c_str());
    return 0;
  });
}
