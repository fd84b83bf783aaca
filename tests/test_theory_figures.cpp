// The figures and options of modnet-theory (analysis/theory_figures.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "modnet/analysis/plot.h"
#include "modnet/analysis/theory_figures.h"
#include "modnet/core/cli.h"
#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "fixtures.h"

namespace fs = std::filesystem;
using namespace modnet;

namespace {

// ---- modnet-theory options and figures -------------------------------------------------------------

TEST(TheoryFigures, FigureOptionsFromOverridesAndLists) {
  EXPECT_EQ(cli::list_argument_yaml("2:5"), "[2, 3, 4, 5]");
  EXPECT_EQ(cli::list_argument_yaml("87,213"), "[87,213]");
  EXPECT_EQ(cli::list_argument_yaml("[1, 2]"), "[1, 2]");
  EXPECT_THROW(cli::list_argument_yaml("5:x"), modnet::Error);
  EXPECT_THROW(cli::list_argument_yaml("5:2"), modnet::Error);
  const auto o = config::load<analysis::TheoryFigureOptions>("", {"c=2", "m=" + cli::list_argument_yaml("3:4"), "n=500"});
  EXPECT_EQ(o.c, 2.0);
  EXPECT_EQ(o.m, (std::vector<double>{3, 4}));
  EXPECT_EQ(o.n, 500.0);
  EXPECT_DOUBLE_EQ(o.resolved_target_loss(), 2.0 / 0.96);
  EXPECT_THROW(config::load<analysis::TheoryFigureOptions>("", {"no_such_key=1"}), modnet::ConfigError);
  EXPECT_THROW(config::load<analysis::TheoryFigureOptions>("", {"omega=-1"}), modnet::ConfigError);
  EXPECT_THROW(config::load<analysis::TheoryFigureOptions>("", {"sweep_min=10", "sweep_max=5"}), modnet::ConfigError);
  // The preset is the defaults written out, plus the Monte Carlo overlay.
  const auto preset = config::load<analysis::TheoryFigureOptions>(std::string(MODNET_SOURCE_DIR) + "/configs/theory/paper.yaml", {});
  const analysis::TheoryFigureOptions defaults;
  EXPECT_TRUE(preset.simulate);
  EXPECT_EQ(preset.sample_p, defaults.sample_p);
  EXPECT_EQ(preset.m, defaults.m);
  EXPECT_EQ(preset.c, defaults.c);
  EXPECT_EQ(preset.omega, defaults.omega);
  EXPECT_FALSE(preset.target_loss.has_value());
}

TEST(TheoryFigures, FiguresAndCsvsAreWritten) {
  const modnet::testing::TempDir temp("theory_figures");
  const fs::path dir = temp.path() / "figures";
  auto o = config::load<analysis::TheoryFigureOptions>("", {"sweep_points=20", "m=[2, 9]", "simulate=true",
                                                  "simulate_p=[50, 2000]", "simulate_trials=2", "n=300"});
  const auto written = analysis::write_theory_figures(o, dir.string());
  for (const char* name : {"p_sweep.csv", "n_sweep.csv", "m_sweep.csv", "k_sweep.csv", "sample_complexity.csv",
                           "p_sweep_simulated.csv", "summary.json", "config.yaml", "p_sweep.gp"})
    EXPECT_TRUE(fs::exists(dir / name)) << name;
  if (modnet::analysis::gnuplot_available())
    for (const char* name : {"p_sweep.png", "n_sweep.png", "m_sweep.png", "k_sweep.png", "sample_complexity.png"})
      EXPECT_GT(fs::file_size(dir / name), 1000u) << name;
  // p_sweep.csv: header + (sweep points + the points beside the pole) per m; +inf at the pole is never
  // written because the grid avoids |n − p| ≤ 1.
  const std::string csv = modnet::read_file((dir / "p_sweep.csv").string());
  EXPECT_EQ(csv.rfind("m,n,p,d,train,test\n", 0), 0u);
  EXPECT_EQ(csv.find("inf"), std::string::npos);
  const std::string summary = modnet::read_file((dir / "summary.json").string());
  EXPECT_NE(summary.find("\"n1000_p100_m7\""), std::string::npos);
  EXPECT_NE(summary.find("\"p72594_m9\""), std::string::npos);
  // The written config reads back to the same options.
  const auto again = config::load<analysis::TheoryFigureOptions>((dir / "config.yaml").string(), {});
  EXPECT_EQ(again.m, o.m);
  EXPECT_EQ(again.simulate_trials, 2);
}

}  // namespace
