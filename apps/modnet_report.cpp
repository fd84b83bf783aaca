// modnet-report: a table and figures over finished runs (all run directories below DIR).
#include <cstdio>

#include "modnet/analysis/report.h"
#include "modnet/core/cli.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-report", [&] {
    using namespace modnet;
    const auto args = cli::parse(argc, argv, "modnet-report --runs DIR [--out PREFIX]",
                                 {{"--runs", true, "folder holding run directories (searched recursively)", "DIR"},
                                  {"--out", true, "prefix of the report files (default DIR/report)", "PREFIX"}},
                                 /*allow_overrides=*/false);
    const std::string dir = args.require("--runs");
    const std::string prefix = args.get("--out").value_or(dir + "/report");
    const auto runs = analysis::collect_runs(dir);
    if (runs.empty()) throw Error(fmt::format("no finished runs (summary.json) below '{}'", dir));
    const auto table = analysis::format_table(analysis::group_runs(runs));
    std::fputs(table.c_str(), stdout);
    write_file_atomic(prefix + ".md", table);
    for (const auto& path : analysis::plot_runs(runs, prefix)) std::printf("figure: %s\n", path.c_str());
    std::printf("table: %s.md\n", prefix.c_str());
    return 0;
  });
}
