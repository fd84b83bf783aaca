// modnet-report: a table and figures over finished runs (all run directories below DIR).
#include <cstdio>
#include <sstream>

#include "modnet/analysis/report.h"
#include "modnet/analysis/metric_report.h"
#include "modnet/analysis/sweep_figures.h"
#include "modnet/core/cli.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"

int main(int argc, char** argv) {
  return modnet::cli::run_main("modnet-report", [&] {
    using namespace modnet;
    const auto args = cli::parse(
        argc, argv,
        "modnet-report --runs DIR [--out PREFIX]\n"
        "       modnet-report --sweep DIR --x KEY [--logx] [--logy] [--out PREFIX]\n"
        "       modnet-report --sweep DIR[,DIR...] --x KEY --metrics COL,... [--at X] [--reference CSV] [--out PREFIX]\n"
        "       modnet-report --sweep DIR --sample-complexity [--threshold T] [--relative] [--group KEY] [--out PREFIX]\n"
        "       modnet-report --trends DIR:KEY[:log],... [--out PREFIX]",
        {{"--runs", true, "folder holding run directories (searched recursively)", "DIR"},
         {"--sweep", true, "a modnet-sweep output folder (its results.csv); with --metrics several, comma-separated, read as one", "DIR"},
         {"--metrics", true, "summary columns to report against --x as mean ± std (e.g. test_accuracy,ood_accuracy)", "LIST"},
         {"--at", true, "table only at this --x value (e.g. --at 6 for Table 1)", "X"},
         {"--reference", true, "CSV method,x,metric,value drawn dashed beside --metrics (e.g. the paper's)", "CSV"},
         {"--x", true, "sweep axis to plot the losses against (a config key, e.g. task.n_train)", "KEY"},
         {"--logx", false, "log-scaled x axis"},
         {"--logy", false, "log-scaled y axis"},
         {"--sample-complexity", false, "smallest n reaching the threshold, per method and group"},
         {"--threshold", true, "loss threshold for --sample-complexity (default 1.5)", "T"},
         {"--relative", false, "threshold as a fraction of the test-target variance"},
         {"--group", true, "grouping axis for --sample-complexity (default task.module_dim)", "KEY"},
         {"--n-key", true, "sample-size axis for --sample-complexity (default task.n_train)", "KEY"},
         {"--trends", true, "loss-trends figure: comma-separated DIR:KEY[:log] panels (sweep folder, axis)", "LIST"},
         {"--out", true, "prefix of the report files (default DIR/report)", "PREFIX"}},
        /*allow_overrides=*/false);
    if (args.has("--trends")) {
      std::vector<analysis::TrendPanel> panels;
      std::stringstream list(args.require("--trends"));
      for (std::string item; std::getline(list, item, ',');) {
        std::vector<std::string> parts;
        std::stringstream ss(item);
        for (std::string part; std::getline(ss, part, ':');) parts.push_back(part);
        if (parts.size() < 2 || parts.size() > 3 || (parts.size() == 3 && parts[2] != "log"))
          throw Error(fmt::format("--trends: '{}' is not DIR:KEY or DIR:KEY:log", item));
        panels.push_back({parts[0], parts[1], parts.size() == 3});
      }
      const std::string out = args.get("--out").value_or("loss_trends");
      std::fputs(analysis::report_loss_trends(panels, out + ".png").c_str(), stdout);
      return 0;
    }
    if (args.has("--sweep")) {
      const std::string dir = args.require("--sweep");
      const std::string prefix = args.get("--out").value_or(dir.substr(0, dir.find(',')) + "/report");
      if (args.has("--sample-complexity")) {
        analysis::SampleComplexityOptions o;
        if (auto t = args.get("--threshold")) o.threshold = cli::to_double("--threshold", *t);
        o.relative = args.has("--relative");
        o.group_column = args.get("--group").value_or(o.group_column);
        o.n_column = args.get("--n-key").value_or(o.n_column);
        std::fputs(analysis::report_sample_complexity(dir, o, prefix).c_str(), stdout);
      } else if (args.has("--metrics")) {
        std::optional<double> at;
        if (auto a = args.get("--at")) at = cli::to_double("--at", *a);
        std::fputs(analysis::report_sweep_metrics(dir, args.require("--x"), cli::split_list("--metrics", *args.get("--metrics")),
                                                  prefix, at, args.get("--reference").value_or(""))
                       .c_str(),
                   stdout);
      } else {
        std::fputs(analysis::report_sweep_losses(dir, args.require("--x"), args.has("--logx"), args.has("--logy"), prefix)
                       .c_str(),
                   stdout);
      }
      return 0;
    }
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
