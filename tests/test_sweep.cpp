// Sweeps: the grid a sweep file expands to, its validation, and modnet-sweep end to end (2 jobs,
// a failing point, resuming after deleted results and after SIGTERM).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "fixtures.h"
#include "modnet/analysis/report.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/run/sweep.h"
#include "shell.h"

namespace fs = std::filesystem;
using namespace modnet;

namespace {

const std::string kSource = MODNET_SOURCE_DIR;
const std::string kSweepBin = std::string(MODNET_BINARY_DIR) + "/bin/modnet-sweep";
const std::string kTrainBin = std::string(MODNET_BINARY_DIR) + "/bin/modnet-train";
const std::string kMono = kSource + "/configs/sine/monolithic.yaml";
const std::string kModular = kSource + "/configs/sine/modular.yaml";
// A tiny sine run (~0.5 s): the overrides every end-to-end sweep below starts from.
const std::string kTiny =
    "[task.n_train=128, task.n_val=64, task.n_test=128, model.params=400, train.steps=20, train.eval_every=10, "
    "train.progress=false, log_level=warn, train.early_stopping.enabled=false]";

run::Sweep parse(const std::string& text) {
  return run::parse_sweep(config::load_string(text, "test.yaml"), kSource + "/configs/sweeps");
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

using modnet::testing::Result;
using modnet::testing::sh;

std::vector<std::string> column(const CsvTable& t, const std::string& name) {
  const auto it = std::find(t.header.begin(), t.header.end(), name);
  EXPECT_NE(it, t.header.end()) << "results.csv has no column " << name;
  std::vector<std::string> out;
  if (it == t.header.end()) return out;
  for (const auto& row : t.rows) out.push_back(row[size_t(it - t.header.begin())]);
  return out;
}

std::vector<std::string> names(const run::Sweep& s) {
  std::vector<std::string> out;
  for (const auto& p : s.points) out.push_back(p.name);
  return out;
}

}  // namespace

// ---- grid expansion

TEST(SweepGrid, CartesianProductLastAxisFastestSeedsOutermost) {
  const auto s =
      parse("base: " + kMono +
            "\noverrides: [train.steps=10]\naxes:\n  task.module_dim: [2, 3]\n  train.lr: [0.1, 0.01, 0.001]\n"
            "seeds: [0, 7]\n");
  ASSERT_EQ(s.points.size(), 12u);
  EXPECT_EQ(s.points[0].name, "task.module_dim=2__train.lr=0.1__seed=0");
  EXPECT_EQ(s.points[1].name, "task.module_dim=2__train.lr=0.01__seed=0");
  EXPECT_EQ(s.points[3].name, "task.module_dim=3__train.lr=0.1__seed=0");
  EXPECT_EQ(s.points[6].name, "task.module_dim=2__train.lr=0.1__seed=7");
  EXPECT_EQ(s.points[6].seed, 7);
  EXPECT_EQ(s.points[0].config, "monolithic");  // the base's stem
  // Fixed overrides first, then the run name (shared across seeds), the axes, the seed.
  const std::vector<std::string> expected{"train.steps=10", "name=task.module_dim=2__train.lr=0.1", "task.module_dim=2",
                                          "train.lr=0.1", "seed=0"};
  EXPECT_EQ(s.points[0].overrides, expected);
  ASSERT_EQ(s.points[4].values.size(), 2u);
  EXPECT_EQ(s.points[4].values[0], (std::pair<std::string, std::string>{"task.module_dim", "3"}));
  EXPECT_EQ(s.points[4].values[1], (std::pair<std::string, std::string>{"train.lr", "0.01"}));
}

TEST(SweepGrid, ZipVariesAxesTogether) {
  const auto s = parse("base: " + kModular +
                       "\naxes:\n  task.module_dim: [2, 3, 4]\n  train.lr: [0.1, 0.01]\n  model.module_dim: [2, 3, 4]\n"
                       "zip: [[task.module_dim, model.module_dim]]\n");
  ASSERT_EQ(s.points.size(), 6u);  // 3 (zipped) x 2
  for (const auto& p : s.points) EXPECT_EQ(p.values[0].second, p.values[2].second) << p.name;
  EXPECT_EQ(s.points[0].name, "task.module_dim=2__train.lr=0.1__model.module_dim=2__seed=0");
  EXPECT_EQ(s.points[5].name, "task.module_dim=4__train.lr=0.01__model.module_dim=4__seed=0");
}

TEST(SweepGrid, RangesAreLogOrLinSpacedAndRounded) {
  const auto s = parse("base: " + kMono +
                       "\naxes:\n"
                       "  task.n_train: {logspace: [100, 10000], num: 5, integer: true}\n"
                       "  model.params: {linspace: [1000, 5000], num: 3, integer: true}\n"
                       "  train.lr: {logspace: [1.0e-3, 0.1], num: 3}\n"
                       "  task.dim: {logspace: [1, 4], num: 10, integer: true}\n"
                       "  task.noise: {linspace: [0.5, 0.5], num: 1}\n");
  ASSERT_EQ(s.axes.size(), 5u);
  EXPECT_EQ(s.axes[0].values, (std::vector<std::string>{"100", "316", "1000", "3162", "10000"}));
  EXPECT_EQ(s.axes[1].values, (std::vector<std::string>{"1000", "3000", "5000"}));
  EXPECT_EQ(s.axes[2].values, (std::vector<std::string>{"0.001", "0.01", "0.1"}));
  EXPECT_EQ(s.axes[3].values, (std::vector<std::string>{"1", "2", "3", "4"}));  // repeats after rounding dropped
  EXPECT_EQ(s.axes[4].values, (std::vector<std::string>{"0.5"}));
  EXPECT_EQ(s.points.size(), 5u * 3 * 3 * 4);
  // A one-value axis is set but not part of the name.
  EXPECT_EQ(s.points[0].name.find("task.noise"), std::string::npos);
  EXPECT_NE(std::find(s.points[0].overrides.begin(), s.points[0].overrides.end(), "task.noise=0.5"),
            s.points[0].overrides.end());
}

TEST(SweepGrid, ConfigsAxisSeedsAndOnly) {
  const auto s = parse("configs: {mono: " + kMono + ", mod: " + kModular +
                       "}\naxes:\n  task.module_dim: [2, 3]\n  model.module_dim: [2, 3]\n"
                       "zip: [[task.module_dim, model.module_dim]]\nonly: {model.module_dim: [mod]}\nseeds: [1, 2]\n");
  ASSERT_EQ(s.configs.size(), 2u);
  ASSERT_EQ(s.points.size(), 8u);  // 2 seeds x 2 configs x 2
  EXPECT_EQ(s.points[0].name, "config=mono__task.module_dim=2__seed=1");
  EXPECT_EQ(s.points[0].config_path, kMono);
  EXPECT_EQ(s.points[0].values[1].second, "");  // model.module_dim does not apply to mono
  for (const auto& o : s.points[0].overrides) EXPECT_EQ(o.rfind("model.module_dim", 0), std::string::npos) << o;
  EXPECT_EQ(s.points[2].name, "config=mod__task.module_dim=2__model.module_dim=2__seed=1");
  EXPECT_EQ(s.points[2].config, "mod");
  EXPECT_EQ(s.points[4].seed, 2);

  // An `only` axis that is not zipped: the configs it skips run once, not once per value.
  const auto t = parse("configs: [" + kMono + ", " + kModular +
                       "]\naxes:\n  model.module_dim: [2, 3, 4]\nonly: {model.module_dim: modular}\n");
  ASSERT_EQ(t.points.size(), 4u);
  EXPECT_EQ(t.points[0].name, "config=monolithic__seed=0");  // a list of configs is named by stems
  EXPECT_EQ(t.points[1].name, "config=modular__model.module_dim=2__seed=0");
}

TEST(SweepGrid, ListValuedAxisBecomesAListOverride) {
  auto s = parse("base: " + kMono + "\noverrides: [model.params=null]\naxes:\n  model.hidden: [[8, 8], [16]]\n");
  ASSERT_EQ(s.points.size(), 2u);
  EXPECT_EQ(s.points[0].values[0].second, "[8, 8]");
  EXPECT_NE(std::find(s.points[0].overrides.begin(), s.points[0].overrides.end(), "model.hidden=[8, 8]"),
            s.points[0].overrides.end());
  EXPECT_EQ(s.points[0].name, "model.hidden=8-8__seed=0");
  EXPECT_EQ(s.points[1].name, "model.hidden=16__seed=0");
  run::validate_sweep(s);  // the list reaches the config as a list
  EXPECT_NE(s.points[0].resolved.find("hidden: [8, 8]"), std::string::npos) << s.points[0].resolved;
}

TEST(SweepGrid, NamesAreReadableUniqueAndBounded) {
  const std::string long_value(300, 'x');
  const auto s = parse("base: " + kMono + "\naxes:\n  name: ['a,b', 'a-b', 'ok', '" + long_value + "']\n");
  ASSERT_EQ(s.points.size(), 4u);
  const std::regex allowed("[A-Za-z0-9._=-]+");
  std::set<std::string> seen;
  for (const auto& p : s.points) {
    EXPECT_TRUE(std::regex_match(p.name, allowed)) << p.name;
    EXPECT_LE(p.name.size(), 200u) << p.name;
    EXPECT_TRUE(seen.insert(p.name).second) << "duplicate " << p.name;
  }
  EXPECT_EQ(s.points[2].name, "name=ok__seed=0");  // readable where it can be
  EXPECT_EQ(s.points[0].name.rfind("p00000-", 0), 0u) << s.points[0].name;  // 'a,b' and 'a-b' collide
  EXPECT_EQ(s.points[3].name.rfind("p00003-", 0), 0u) << s.points[3].name;  // too long
  EXPECT_EQ(run::sanitize_name("a b/c,d=1"), "a_b_c_d=1");
}

// ---- validation

TEST(SweepValidation, SweepFileErrorsNameKeyAndLine) {
  EXPECT_NE(error_of([] { parse("base: " + kMono + "\nbogus: 1\n"); }).find("test.yaml:2:1: unknown key 'bogus'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse("base: " + kMono + "\nconfigs: {a: " + kMono + "}\n"); }).find("only one of"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse("name: x\n"); }).find("one of base, configs is required"), std::string::npos);
  auto e = error_of([] { parse("base: missing.yaml\n"); });
  EXPECT_NE(e.find("test.yaml:1:7"), std::string::npos) << e;
  EXPECT_NE(e.find("missing.yaml"), std::string::npos) << e;
  e = error_of([] { parse("base: " + kMono + "\naxes:\n  task.n_train: {logspace: [0, 100], num: 3}\n"); });
  EXPECT_NE(e.find("axes.task.n_train"), std::string::npos) << e;
  EXPECT_NE(e.find("> 0"), std::string::npos) << e;
  e = error_of([] { parse("base: " + kMono + "\naxes:\n  task.n_train: {logspace: [10, 100]}\n"); });
  EXPECT_NE(e.find("missing required key 'axes.task.n_train.num'"), std::string::npos) << e;
  e = error_of([] { parse("base: " + kMono + "\naxes:\n  a.b: [1, 2]\n  c.d: [1, 2, 3]\nzip: [[a.b, c.d]]\n"); });
  EXPECT_NE(e.find("a.b has 2 values, c.d has 3"), std::string::npos) << e;
  e = error_of([] { parse("base: " + kMono + "\naxes:\n  a.b: [1, 2]\nzip: [[a.b, c.d]]\n"); });
  EXPECT_NE(e.find("test.yaml:4:13"), std::string::npos) << e;
  EXPECT_NE(e.find("'c.d' is not under axes"), std::string::npos) << e;
  e = error_of([] { parse("base: " + kMono + "\naxes:\n  seed: [1, 2]\n"); });
  EXPECT_NE(e.find("use seeds"), std::string::npos) << e;
  e = error_of([] { parse("base: " + kMono + "\naxes:\n  a.b: [1, 1]\n"); });
  EXPECT_NE(e.find("axes.a.b[1]"), std::string::npos) << e;
  e = error_of([] { parse("base: " + kMono + "\naxes:\n  a.b: [1]\nonly: {a.b: [nope]}\n"); });
  EXPECT_NE(e.find("one of the configs: monolithic"), std::string::npos) << e;
}

TEST(SweepValidation, EveryPointIsValidatedUpFrontNamingThePoint) {
  auto s = parse(
      "configs: {mono: " + kMono + ", mod: " + kModular +
      "}\naxes:\n  task.module_dim: [2, 3]\n  model.module_dim: [2, 3]\nzip: [[task.module_dim, model.module_dim]]\n");
  // model.module_dim is not a key of the monolithic model.
  auto e = error_of([&] { run::validate_sweep(s); });
  EXPECT_NE(e.find("point 'config=mono__task.module_dim=2__model.module_dim=2__seed=0'"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'model.module_dim'"), std::string::npos) << e;
  EXPECT_NE(e.find("sweep override 'model.module_dim=2'"), std::string::npos) << e;

  auto t = parse("base: " + kMono + "\naxes:\n  task.n_train: [100, -5]\n");
  e = error_of([&] { run::validate_sweep(t); });
  EXPECT_NE(e.find("point 'task.n_train=-5__seed=0'"), std::string::npos) << e;
  EXPECT_NE(e.find("task.n_train"), std::string::npos) << e;

  auto u = parse("base: " + kMono + "\noverrides: [train.lr=0.01]\naxes:\n  task.n_train: [100, 200]\n");
  run::validate_sweep(u);
  EXPECT_NE(u.points[1].resolved.find("n_train: 200"), std::string::npos);
}

TEST(SweepValidation, SameSweepIgnoresOnlyConfigPaths) {
  auto a = parse("base: " + kMono + "\naxes:\n  task.n_train: [100, 200]\n");
  auto b = a;
  b.configs[0].second = "/elsewhere/monolithic.yaml";
  EXPECT_TRUE(run::same_sweep(run::sweep_yaml(a), run::sweep_yaml(b)));
  auto c = parse("base: " + kMono + "\naxes:\n  task.n_train: [100, 300]\n");
  EXPECT_FALSE(run::same_sweep(run::sweep_yaml(a), run::sweep_yaml(c)));
  // The saved sweep.yaml can be run again as it is.
  const auto again = run::parse_sweep(config::load_string(config::to_yaml(run::sweep_yaml(a)), "saved"), "/");
  EXPECT_EQ(names(again), names(a));
}

// ---- modnet-sweep end to end

// Each test gets a fresh directory of its own (dir_, sub(name), write(name, text)), removed after it.
using SweepRun = modnet::testing::TempDirTest;

TEST_F(SweepRun, DryRunRefusesAModelThatDoesNotFitTheTaskNamingTheBaseConfigsLine) {
  // The model section is valid on its own; only with the task (dim 32) is module_dim 40 impossible.
  const std::string base = write("base.yaml",
                                 "name: too-wide\n"
                                 "task:\n"
                                 "  type: sine\n"
                                 "  dim: 32\n"
                                 "model:\n"
                                 "  type: modular\n"
                                 "  modules: 4\n"
                                 "  module_dim: 40\n"  // line 8
                                 "  hidden: [8]\n"
                                 "train:\n"
                                 "  steps: 10\n");
  const std::string file = write("sweep.yaml", "base: " + base + "\naxes:\n  train.lr: [0.01, 0.001]\n");
  for (const std::string flag : {" --dry-run", ""}) {
    SCOPED_TRACE("with '" + flag + "'");
    const auto r = sh(kSweepBin + " --config " + file + " --out " + sub("out") + flag);
    EXPECT_NE(r.status, 0) << r.output;
    // One line, naming the point, the key and where in the base config it was set.
    std::vector<std::string> lines;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(line);
    ASSERT_EQ(lines.size(), 1u) << r.output;
    EXPECT_CONTAINS(lines[0], "modnet-sweep: error:");
    EXPECT_CONTAINS(lines[0], "point 'train.lr=0.01__seed=0'");
    EXPECT_CONTAINS(lines[0], "'model.module_dim'");
    EXPECT_CONTAINS(lines[0], base + ":8:");
    // Before any child started: nothing was written.
    EXPECT_FALSE(fs::exists(sub("out"))) << r.output;
  }
  // The same base with a module_dim that fits passes the dry run.
  std::string fitting = read_file(base);
  fitting.replace(fitting.find("module_dim: 40"), std::strlen("module_dim: 40"), "module_dim: 4");
  write("base.yaml", fitting);
  const auto ok = sh(kSweepBin + " --config " + file + " --out " + sub("out") + " --dry-run");
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("2 points"), std::string::npos) << ok.output;
  EXPECT_FALSE(fs::exists(sub("out")));
}

TEST_F(SweepRun, TwoJobsResultsAndResume) {
  const std::string file = write("tiny.yaml", "name: tiny\nconfigs: {mono: " + kMono + ", mod: " + kModular +
                                                  "}\noverrides: " + kTiny +
                                                  "\naxes:\n  task.module_dim: [2, 3]\n  model.module_dim: [2, 3]\n"
                                                  "zip: [[task.module_dim, model.module_dim]]\n"
                                                  "only: {model.module_dim: [mod]}\nseeds: [0, 1]\n");
  const std::string cmd = kSweepBin + " --config " + file + " --out " + sub("out") + " --jobs 2";

  // A dry run lists the points and writes nothing.
  auto r = sh(cmd + " --dry-run");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("8 points"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("config=mod__task.module_dim=3__model.module_dim=3__seed=1"), std::string::npos);
  EXPECT_FALSE(fs::exists(sub("out")));

  r = sh(cmd);
  ASSERT_EQ(r.status, 0) << r.output;
  auto t = read_csv(sub("out/results.csv"));
  ASSERT_EQ(t.rows.size(), 8u);
  const std::vector<std::string> head(t.header.begin(), t.header.begin() + 6);
  EXPECT_EQ(head,
            (std::vector<std::string>{"point", "status", "config", "task.module_dim", "model.module_dim", "seed"}));
  EXPECT_EQ(t.header[t.header.size() - 2], "error");
  EXPECT_EQ(t.header.back(), "dir");
  for (const char* c : {"test_loss", "train_loss", "parameters", "similarity"}) EXPECT_TRUE(t.has(c)) << c;
  for (const auto& s : column(t, "status")) EXPECT_EQ(s, "done");
  const auto points = column(t, "point"), dirs = column(t, "dir"), loss = column(t, "test_loss");
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(dirs[i], "runs/" + points[i]);
    EXPECT_TRUE(fs::exists(sub("out/" + dirs[i] + "/summary.json"))) << dirs[i];
    EXPECT_TRUE(fs::exists(sub("out/" + dirs[i] + ".log"))) << dirs[i];
    EXPECT_GT(std::stod(loss[i]), 0.0);
  }
  EXPECT_EQ(column(t, "config")[0], "mono");
  EXPECT_EQ(column(t, "model.module_dim")[0], "");   // does not apply to mono
  EXPECT_EQ(column(t, "model.module_dim")[3], "3");
  EXPECT_EQ(column(t, "seed")[7], "1");
  EXPECT_EQ(column(t, "similarity")[0], "");          // monolithic runs have no modules
  EXPECT_NE(column(t, "similarity")[3], "");
  EXPECT_TRUE(fs::exists(sub("out/sweep.yaml")));

  // Resume: a point without summary.json runs again, and only it.
  const std::string again = points[5];
  fs::remove(sub("out/runs/" + again + "/summary.json"));
  for (const auto& p : points) fs::remove(sub("out/runs/" + p + ".log"));
  r = sh(cmd);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("7 already done, 1 to run"), std::string::npos) << r.output;
  for (const auto& p : points) EXPECT_EQ(fs::exists(sub("out/runs/" + p + ".log")), p == again) << p;
  t = read_csv(sub("out/results.csv"));
  ASSERT_EQ(t.rows.size(), 8u);
  for (const auto& s : column(t, "status")) EXPECT_EQ(s, "done");
  EXPECT_NE(column(t, "test_loss")[5], "");

  // Nothing left: nothing runs.
  r = sh(cmd);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("8 already done, 0 to run"), std::string::npos) << r.output;

  // A different sweep into the same directory is refused; so is a directory that is no sweep.
  const std::string other = write("other.yaml", "base: " + kMono + "\noverrides: " + kTiny + "\n");
  r = sh(kSweepBin + " --config " + other + " --out " + sub("out"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("holds a different sweep"), std::string::npos) << r.output;
  fs::create_directories(sub("plain"));
  write("plain/file.txt", "x");
  r = sh(kSweepBin + " --config " + other + " --out " + sub("plain"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("holds no sweep"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(sub("plain/file.txt")));
  // --force empties it and runs.
  r = sh(kSweepBin + " --config " + other + " --out " + sub("plain") + " --force");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(sub("plain/file.txt")));
  EXPECT_TRUE(fs::exists(sub("plain/runs/seed=0/summary.json")));
}

TEST_F(SweepRun, FailingPointIsRecordedAndTheSweepGoesOn) {
  // lr 1e12 with SGD passes validation and diverges in modnet-train.
  const std::string file =
      write("fail.yaml", "base: " + kMono + "\noverrides: " + kTiny +
                             "\naxes:\n  train.optimizer: [sgd]\n  train.lr: [0.01, 1e12, 0.001]\n");
  const std::string cmd = kSweepBin + " --config " + file + " --out " + sub("out") + " --jobs 2";
  auto r = sh(cmd);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("1 failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("failed: train.lr=1e12__seed=0"), std::string::npos) << r.output;
  auto t = read_csv(sub("out/results.csv"));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(column(t, "status"), (std::vector<std::string>{"done", "failed", "done"}));
  const auto error = column(t, "error")[1];
  EXPECT_NE(error.find("exit status 1"), std::string::npos) << error;
  EXPECT_NE(error.find("diverged"), std::string::npos) << error;
  EXPECT_EQ(column(t, "error")[0], "");
  EXPECT_EQ(column(t, "test_loss")[1], "");

  // Re-running retries the failed point only (from scratch).
  fs::remove(sub("out/runs/train.lr=0.01__seed=0.log"));
  r = sh(cmd);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("2 already done, 1 to run"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(sub("out/runs/train.lr=0.01__seed=0.log")));
  EXPECT_NE(read_file(sub("out/runs/train.lr=1e12__seed=0.log")).find("(fresh)"), std::string::npos);

  // A bad sweep fails before anything runs, naming the point.
  const std::string bad = write("bad.yaml", "base: " + kMono + "\naxes:\n  task.n_trian: [1, 2]\n");
  r = sh(kSweepBin + " --config " + bad + " --out " + sub("bad"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("point 'task.n_trian=1__seed=0'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unknown key 'task.n_trian'"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(sub("bad")));
}

TEST_F(SweepRun, SigtermStopsAndTheSweepResumesFromCheckpoints) {
  // Points long enough to be caught running (~1-2 s each), checkpointing every 20 steps.
  const std::string file = write(
      "slow.yaml", "base: " + kMono + "\noverrides: " + kTiny +
                       "\naxes:\n  train.steps: [1500]\n  train.eval_every: [20]\n  task.n_train: [256, 257, 258]\n");
  const std::string out = sub("out");
  const std::string log = sub("sweep.log");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(kSweepBin.c_str(), kSweepBin.c_str(), "--config", file.c_str(), "--out", out.c_str(), "--jobs", "1",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // While it runs, a second modnet-sweep into the same directory is refused.
  auto wait_for = [](const std::string& path) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(path) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  wait_for(out + "/sweep.yaml");
  auto busy = sh(kSweepBin + " --config " + file + " --out " + out);
  EXPECT_EQ(busy.status, 1) << busy.output;
  EXPECT_NE(busy.output.find("in use by another modnet-sweep"), std::string::npos) << busy.output;
  // Wait for the first point to finish and the second to have a checkpoint, then SIGTERM.
  const std::string second = out + "/runs/task.n_train=257__seed=0";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!(fs::exists(out + "/runs/task.n_train=256__seed=0/summary.json") && fs::exists(second + "/checkpoint.pt")) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const bool caught = !fs::exists(second + "/summary.json");
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  const std::string output = read_file(log);
  ASSERT_TRUE(caught) << "the second point finished before it could be interrupted; make it longer\n" << output;
  EXPECT_EQ(WEXITSTATUS(status), 130) << output;
  auto t = read_csv(out + "/results.csv");
  EXPECT_EQ(column(t, "status"), (std::vector<std::string>{"done", "pending", "pending"})) << output;
  EXPECT_NE(column(t, "error")[1].find("interrupted"), std::string::npos);

  // The same command resumes: the interrupted point from its checkpoint, the last one fresh.
  auto r = sh(kSweepBin + " --config " + file + " --out " + out + " --jobs 2");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("1 already done, 2 to run"), std::string::npos) << r.output;
  t = read_csv(out + "/results.csv");
  EXPECT_EQ(column(t, "status"), (std::vector<std::string>{"done", "done", "done"}));
  EXPECT_NE(read_file(second + ".log").find("resumed from its checkpoint"), std::string::npos)
      << read_file(second + ".log");
  EXPECT_EQ(YAML::LoadFile(second + "/summary.json")["steps"].as<int>(), 1500);
}

// ---- the shipped sweeps

TEST(SweepConfigs, ShippedSweepsAreValid) {
  for (const char* name : {"loss-vs-k-small", "loss-vs-k", "loss-vs-m-small", "loss-vs-m", "loss-vs-p-small",
                           "loss-vs-p", "loss-vs-n-small", "loss-vs-n", "sample-complexity-small",
                           "sample-complexity"}) {
    SCOPED_TRACE(name);
    auto s = run::load_sweep(kSource + "/configs/sweeps/" + name + ".yaml");
    EXPECT_EQ(s.options.name, name);
    EXPECT_GT(s.points.size(), 10u);
    run::validate_sweep(s);  // every point's config is valid
  }
}
