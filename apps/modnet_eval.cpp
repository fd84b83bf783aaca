// modnet-eval: evaluate a finished run's final weights on a split, optionally under input noise.
#include <cstdio>

#include "modnet/core/cli.h"
#include "modnet/core/files.h"
#include "modnet/core/json.h"
#include "modnet/core/run_dir.h"
#include "modnet/core/rng.h"
#include "modnet/train/evaluator.h"
#include "modnet/run/experiment.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-eval", [&] {
    using namespace modnet;
    const auto args = cli::parse(
        argc, argv, "modnet-eval --run DIR [--split test|ood|val|train] [--noise 0,0.5,1.0] [--seed N]",
        {{"--run", true, "a finished run directory", "DIR"},
         {"--split", true, "split to evaluate (default test; ood = unseen class combinations)", "SPLIT"},
         {"--noise", true, "comma-separated input-noise σ list (default 0)", "LIST"},
         {"--seed", true, "seed of the noise (default: the run's)", "N"}},
        /*allow_overrides=*/false);
    const std::string dir = args.require("--run");
    const auto split = data::parse_split(args.get("--split").value_or("test"));
    const auto sigmas = cli::to_doubles("--noise", args.get("--noise").value_or("0"));
    for (double sigma : sigmas)
      if (!(sigma >= 0)) throw Error(fmt::format("option --noise: σ must be >= 0, got {}", sigma));
    auto experiment = run::Experiment::from_run(dir);
    if (experiment.task()->size(split) == 0)
      throw ConfigError(fmt::format("--split {}: the run's task has no such split (size 0)", data::to_string(split)));
    const uint64_t seed = args.get("--seed") ? uint64_t(*args.get_int("--seed"))
                                             : derive_seed(uint64_t(experiment.config().seed), "eval");
    Json out;
    out.set("split", data::to_string(split));
    for (const auto& [sigma, r] :
         train::evaluate_under_noise(experiment.model(), *experiment.task(), split, experiment.device(), sigmas, seed)) {
      Json entry;
      entry.set("noise", sigma).set("samples", r.samples).set("loss", r.loss);
      std::string line = fmt::format("{} loss {:.6g}", data::to_string(split), r.loss);
      for (const auto& [name, value] : r.metrics) {
        entry.set(name, value);
        line += fmt::format(" {} {:.4f}", name, value);
      }
      std::printf("%s (noise %g, %lld samples)\n", line.c_str(), sigma, static_cast<long long>(r.samples));
      out.set(fmt::format("noise{}", sigma), entry);
    }
    write_file_atomic(RunDir{dir}.eval(data::to_string(split)), out.dump());
    return 0;
  });
}
