// modnet-theory: the predicted losses and sample complexity of the linear random-feature model
// (PAPER.md §2) as CSVs and figures; docs/theory.md says what each file shows.
#include <cstdio>
#include <utility>
#include <vector>

#include "modnet/core/cli.h"
#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/theory/simulation.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-theory", [&] {
    using namespace modnet;
    const auto args = cli::parse(
        argc, argv, "modnet-theory --out DIR [--config FILE] [--c C] [--omega W] [--target-loss L] [--p LIST] "
                    "[--m LIST] [--n N] [--simulate] [key=value ...]",
        {{"--out", true, "folder for the CSVs, figures, summary.json and config.yaml", "DIR"},
         {"--config", true, "options (YAML; see --config-reference)", "FILE"},
         {"--c", true, "Tr Λ, the target's variance (default 1.16)", "C"},
         {"--omega", true, "Ω of α = Ω^(−m) (default 1.56)", "W"},
         {"--target-loss", true, "target loss L* of n*(m) (default c/0.96)", "L"},
         {"--p", true, "p of the n*(m) curves, e.g. 87,213,338", "LIST"},
         {"--m", true, "intrinsic dimensions, e.g. 2:9 or 2,5,9", "LIST"},
         {"--n", true, "samples of the p-, m- and k-sweeps (default 1000)", "N"},
         {"--simulate", false, "overlay Monte Carlo points of the model on the p-sweep"},
         {"--print-config", false, "print the resolved options and exit"},
         {"--config-reference", false, "print every option with its default and meaning (Markdown)"}});
    if (args.has("--config-reference")) {
      std::fputs(config::document<theory::TheoryFigureOptions>().c_str(), stdout);
      return 0;
    }
    // Flags are shorthands for overrides (applied after key=value words, so they win).
    std::vector<std::string> overrides = args.overrides;
    const std::vector<std::pair<const char*, const char*>> scalars = {
        {"--c", "c"}, {"--omega", "omega"}, {"--target-loss", "target_loss"}, {"--n", "n"}};
    for (const auto& [flag, key] : scalars)
      if (const auto v = args.get(flag)) overrides.push_back(std::string(key) + "=" + *v);
    if (const auto v = args.get("--p")) overrides.push_back("sample_p=" + theory::list_argument_yaml(*v));
    if (const auto v = args.get("--m")) overrides.push_back("m=" + theory::list_argument_yaml(*v));
    if (args.has("--simulate")) overrides.push_back("simulate=true");
    const auto options = theory::load_figure_options(args.get("--config"), overrides);
    if (args.has("--print-config")) {
      std::puts(config::to_yaml(config::write(options)).c_str());
      return 0;
    }
    for (const auto& path : theory::write_theory_figures(options, args.require("--out")))
      std::printf("wrote %s\n", path.c_str());
    return 0;
  });
}
