// modnet-sweep: run a grid of modnet-train runs described by a sweep file (see modnet/run/sweep.h).
#include "modnet/core/cli.h"
#include "modnet/core/error.h"
#include "modnet/run/sweep.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-sweep", [&] {
    using namespace modnet;
    const auto args = cli::parse(
        argc, argv,
        "modnet-sweep --config SWEEP.yaml [key.sub=value ...] --out DIR [--jobs N] [--dry-run] [--force]\n"
        "Runs every point of the sweep as `modnet-train ... --out DIR/runs/POINT`, N at a time; running the same\n"
        "command again resumes it (finished points are kept, failed and unfinished ones run again). Overrides on\n"
        "the command line apply to every point (and are part of the sweep).",
        {{"--config", true, "sweep file (YAML: base|configs, overrides, axes, zip, only, seeds)", "FILE"},
         {"--out", true, "sweep directory (sweep.yaml, results.csv, runs/)", "DIR"},
         {"--jobs", true, "points run at the same time (default 1)", "N"},
         {"--dry-run", false, "validate and list the points and their commands; run and write nothing"},
         {"--force", false, "empty an existing sweep directory first"},
         {"--train-bin", true, "modnet-train to run (default: the one beside modnet-sweep)", "PATH"}});
    auto sweep = run::load_sweep(args.require("--config"), args.overrides);
    run::SweepRunOptions options;
    options.out_dir = args.require("--out");
    options.jobs = args.get_int("--jobs").value_or(1);
    if (options.jobs < 1) throw Error(fmt::format("option --jobs: expected an integer >= 1, got {}", options.jobs));
    options.dry_run = args.has("--dry-run");
    options.force = args.has("--force");
    options.train_bin = args.get("--train-bin").value_or("");
    run::install_sweep_signal_handlers();
    return run::run_sweep(sweep, options).exit_code();
  });
}
