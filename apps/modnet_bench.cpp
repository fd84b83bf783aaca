// modnet-bench: the benchmark suite - samples/s, achieved GFLOP/s and their fraction of the
// machine's GEMM rate for fixed workloads (see modnet/bench/bench.h and configs/bench/).
#include <cstdio>

#include "modnet/bench/bench.h"
#include "modnet/core/cli.h"
#include "modnet/core/files.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-bench", [&] {
    using namespace modnet;
    const auto args = cli::parse(argc, argv,
                                 "modnet-bench [--config FILE] [--workloads A,B] [--repeats N] [--warmup N] "
                                 "[--seconds S]\n                    [--threads N] [--blas-threads N] [--device "
                                 "cpu|cuda] [--json FILE] [key=value ...]",
                                 bench::bench_flags());
    if (args.has("--list")) {
      for (const auto& name : bench::workload_names())
        std::printf("%-20s %s\n", name.c_str(), bench::workload_description(name).c_str());
      return 0;
    }
    const auto options = bench::bench_options_from_args(args);
    const auto report = bench::run_bench(options);
    std::fputs(bench::format_table(report).c_str(), stdout);
    if (auto json = args.get("--json")) write_file_atomic(*json, bench::report_json(report).dump() + "\n");
    return 0;
  });
}
