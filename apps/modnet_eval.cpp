// modnet-eval: evaluate a finished run's final weights on a split.
#include <cstdio>

#include "modnet/core/cli.h"
#include "modnet/core/files.h"
#include "modnet/train/evaluator.h"
#include "modnet/train/experiment.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-eval", [&] {
    using namespace modnet;
    const auto args = cli::parse(argc, argv, "modnet-eval --run DIR [--split test|val|train]",
                                 {{"--run", true, "a finished run directory", "DIR"},
                                  {"--split", true, "split to evaluate (default test)", "SPLIT"}},
                                 /*allow_overrides=*/false);
    const std::string dir = args.require("--run");
    const auto split = data::parse_split(args.get("--split").value_or("test"));
    auto experiment = train::Experiment::from_run(dir);
    const auto r = train::evaluate(experiment.model(), *experiment.task(), split, experiment.device());
    train::Json out;
    out.set("split", data::to_string(split)).set("samples", r.samples).set("loss", r.loss);
    std::string line = fmt::format("{} loss {:.6g}", data::to_string(split), r.loss);
    for (const auto& [name, value] : r.metrics) {
      out.set(name, value);
      line += fmt::format(" {} {:.6g}", name, value);
    }
    std::printf("%s (%lld samples)\n", line.c_str(), static_cast<long long>(r.samples));
    write_file_atomic(dir + "/eval_" + data::to_string(split) + ".json", out.dump());
    return 0;
  });
}
