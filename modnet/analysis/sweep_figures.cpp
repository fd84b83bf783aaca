#include "modnet/analysis/sweep_figures.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/run_dir.h"
#include "modnet/theory/losses.h"

#include <sstream>

#include <yaml-cpp/yaml.h>

namespace modnet::analysis {

namespace {
const std::vector<std::string> kPalette{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
double num(const std::string& s) {
  try {
    return s.empty() ? NAN : std::stod(s);
  } catch (const std::exception&) {
    return NAN;
  }
}
size_t column(const CsvTable& t, const std::string& name) {
  auto it = std::find(t.header.begin(), t.header.end(), name);
  if (it == t.header.end()) throw DataError(fmt::format("results.csv has no column '{}'", name));
  return static_cast<size_t>(it - t.header.begin());
}
}  // namespace

std::vector<AxisCurve> loss_curves(const CsvTable& results, const std::string& axis) {
  const size_t c_axis = column(results, axis), c_train = column(results, "train_loss"),
               c_test = column(results, "test_loss");
  const bool has_config = results.has("config"), has_status = results.has("status");
  const size_t c_config = has_config ? column(results, "config") : 0;
  const size_t c_status = has_status ? column(results, "status") : 0;
  // The "setting" of a row: the sweep coordinates other than the axis (the columns up to `seed`),
  // so one light line per setting.
  const size_t c_seed = results.has("seed") ? column(results, "seed") : results.header.size();
  // Columns that vary together with the axis (zipped axes such as model.module_dim with
  // task.module_dim) are not settings of their own: a column is one when each axis value goes with
  // a single value of it.
  std::vector<size_t> setting_columns;
  for (size_t c = 0; c <= std::min(c_seed, results.header.size() - 1); ++c) {
    if (c == c_axis || (has_config && c == c_config) || results.header[c] == "point" || results.header[c] == "status")
      continue;
    std::map<std::string, std::string> seen;  // method + axis value -> column value
    bool follows_axis = true;
    for (const auto& row : results.rows) {
      const std::string key = (has_config ? row[c_config] : "") + "|" + row[c_axis];
      auto [it, inserted] = seen.emplace(key, row[c]);
      if (!inserted && it->second != row[c]) follows_axis = false;
    }
    if (!follows_axis || c == c_seed) setting_columns.push_back(c);
  }
  std::vector<std::string> methods;
  std::map<std::string, std::map<std::string, std::map<double, std::pair<double, double>>>> lines;
  for (const auto& row : results.rows) {
    if (has_status && row[c_status] != "done") continue;
    const std::string method = has_config ? row[c_config] : "run";
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
    std::string setting;
    for (size_t c : setting_columns) setting += results.header[c] + "=" + row[c] + ";";
    lines[method][setting][num(row[c_axis])] = {num(row[c_train]), num(row[c_test])};
  }
  std::vector<AxisCurve> out;
  for (const auto& method : methods) {
    AxisCurve curve;
    curve.method = method;
    std::map<double, std::vector<std::pair<double, double>>> by_x;
    for (const auto& [setting, points] : lines[method]) {
      std::vector<double> x, tr, te;
      for (const auto& [xv, v] : points) {
        x.push_back(xv);
        tr.push_back(v.first);
        te.push_back(v.second);
        by_x[xv].push_back(v);
      }
      curve.light_x.push_back(x);
      curve.light_train.push_back(tr);
      curve.light_test.push_back(te);
    }
    for (const auto& [xv, vs] : by_x) {
      double tr = 0, te = 0;
      for (const auto& v : vs) {
        tr += v.first;
        te += v.second;
      }
      curve.x.push_back(xv);
      curve.train.push_back(tr / double(vs.size()));
      curve.test.push_back(te / double(vs.size()));
    }
    out.push_back(curve);
  }
  return out;
}

Panel loss_panel(const std::vector<AxisCurve>& curves, const std::string& axis_label, bool logx, bool logy,
                 const std::vector<Series>& extra) {
  Panel p;
  p.title = "loss vs " + axis_label;
  p.xlabel = axis_label;
  p.ylabel = "loss";
  p.logx = logx;
  p.logy = logy;
  for (size_t i = 0; i < curves.size(); ++i) {
    const auto& c = curves[i];
    const std::string color = kPalette[i % kPalette.size()];
    for (size_t s = 0; s < c.light_x.size(); ++s) {
      Series light;
      light.x = c.light_x[s];
      light.y = c.light_test[s];
      light.color = color;
      light.alpha = 0.25;
      light.width = 1.0;
      p.series.push_back(light);
    }
    Series test, train;
    // An interpolating model's train loss (~1e-14) would squash a log axis: not drawn below 1e-4.
    auto floor_log = [&](std::vector<double> v) {
      if (logy)
        for (auto& y : v)
          if (y < 1e-4) y = NAN;
      return v;
    };
    test.title = c.method + " test";
    test.x = c.x;
    test.y = c.test;
    test.color = color;
    test.style = "linespoints";
    train.title = c.method + " train";
    train.x = c.x;
    train.y = floor_log(c.train);
    train.color = color;
    train.alpha = 0.7;
    train.width = 1.5;
    train.style = "linespoints";
    p.series.push_back(test);
    p.series.push_back(train);
  }
  for (const auto& s : extra) p.series.push_back(s);
  return p;
}

Panel sample_complexity_panel(const std::vector<SampleComplexityRow>& rows, const std::string& group_label) {
  Panel p;
  p.title = "sample complexity";
  p.xlabel = group_label;
  p.ylabel = "samples to reach the threshold";
  p.logy = true;
  std::vector<std::string> methods;
  for (const auto& r : rows)
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) methods.push_back(r.method);
  for (size_t i = 0; i < methods.size(); ++i) {
    const std::string color = kPalette[i % kPalette.size()];
    Series seeds, median;
    seeds.style = "points";
    seeds.color = color;
    seeds.alpha = 0.6;
    seeds.width = 1.5;
    median.title = methods[i] + " (median)";
    median.style = "linespoints";
    median.color = color;
    for (const auto& r : rows) {
      if (r.method != methods[i]) continue;
      for (double v : r.per_seed) {
        seeds.x.push_back(r.m);
        seeds.y.push_back(v);
      }
      median.x.push_back(r.m);
      median.y.push_back(r.median);
    }
    p.series.push_back(seeds);
    p.series.push_back(median);
  }
  return p;
}

std::string format_loss_curves(const std::vector<AxisCurve>& curves, const std::string& axis) {
  std::string out = fmt::format("| method | {} | train loss (mean) | test loss (mean) | settings |\n|---|---|---|---|---|\n", axis);
  for (const auto& c : curves)
    for (size_t i = 0; i < c.x.size(); ++i) {
      size_t settings = 0;
      for (const auto& lx : c.light_x) settings += size_t(std::count(lx.begin(), lx.end(), c.x[i]));
      out += fmt::format("| {} | {:g} | {:.4f} | {:.4f} | {} |\n", c.method, c.x[i], c.train[i], c.test[i], settings);
    }
  return out;
}

std::string report_sweep_losses(const std::string& sweep_dir, const std::string& axis, bool logx, bool logy,
                                const std::string& prefix) {
  const auto curves = loss_curves(read_csv(sweep_dir + "/results.csv"), axis);
  const std::string table = format_loss_curves(curves, axis);
  std::string stem = axis;
  std::replace(stem.begin(), stem.end(), '.', '_');
  write_file_atomic(prefix + "_loss_vs_" + stem + ".md", table);
  write_png(prefix + "_loss_vs_" + stem + ".png", {loss_panel(curves, axis, logx, logy)});
  return table;
}

std::string report_sample_complexity(const std::string& sweep_dir, const SampleComplexityOptions& options,
                                     const std::string& prefix) {
  const auto rows = sample_complexity_table(read_csv(sweep_dir + "/results.csv"), options);
  const std::string table = format_sample_complexity(rows, options);
  write_file_atomic(prefix + "_sample_complexity.md", table);
  write_png(prefix + "_sample_complexity.png", {sample_complexity_panel(rows, options.group_column)});
  return table;
}

namespace {
// Mean of a numeric column over finished rows (NaN when absent).
double column_mean(const CsvTable& t, const std::string& name) {
  if (!t.has(name)) return NAN;
  double sum = 0;
  int64_t count = 0;
  const auto values = t.column(name);
  const size_t c_status = t.has("status") ? column(t, "status") : 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (t.has("status") && t.rows[i][c_status] != "done") continue;
    if (std::isnan(values[i])) continue;
    sum += values[i];
    ++count;
  }
  return count ? sum / double(count) : NAN;
}

// A config value of the sweep's first finished run (for keys that are not sweep axes).
double run_config_value(const std::string& sweep_dir, const CsvTable& t, const std::string& key) {
  if (!t.has("dir")) return NAN;
  const size_t c_dir = column(t, "dir");
  const size_t c_status = t.has("status") ? column(t, "status") : 0;
  for (const auto& row : t.rows) {
    if (t.has("status") && row[c_status] != "done") continue;
    try {
      YAML::Node node = YAML::LoadFile(RunDir{sweep_dir + "/" + row[c_dir]}.config());
      std::stringstream parts(key);
      for (std::string part; std::getline(parts, part, '.');) node = node[part];
      return node.IsScalar() ? num(node.Scalar()) : NAN;
    } catch (const YAML::Exception&) {
      return NAN;
    }
  }
  return NAN;
}

// A sweep coordinate's mean, or the runs' config value when it is not an axis.
double coordinate(const std::string& sweep_dir, const CsvTable& t, const std::string& key) {
  const double v = column_mean(t, key);
  return std::isnan(v) ? run_config_value(sweep_dir, t, key) : v;
}

// The theory curve for one panel, dashed: test (and train) loss predicted along the axis.
std::vector<Series> theory_series(const std::string& sweep_dir, const CsvTable& t, const std::string& axis,
                                  const std::vector<double>& xs, double omega) {
  theory::Spectrum spectrum;
  spectrum.c = column_mean(t, "test_target_variance");
  spectrum.omega = omega;
  spectrum.m = coordinate(sweep_dir, t, "task.module_dim");
  if (std::isnan(spectrum.m)) spectrum.m = 2;  // the presets' module dimension
  const double n = coordinate(sweep_dir, t, "task.n_train"), p = column_mean(t, "parameters");
  if (std::isnan(spectrum.c) || xs.empty()) return {};
  Series test, train;
  test.title = "theory test";
  train.title = "theory train";
  for (auto* s : {&test, &train}) {
    s->dashed = true;
    s->color = "#000000";
  }
  train.alpha = 0.5;
  // Dense grid along continuous axes, the sweep's own values along discrete ones.
  std::vector<double> grid = xs;
  if (axis == "model.params" || axis == "task.n_train") {
    grid.clear();
    const double lo = std::log(xs.front()), hi = std::log(xs.back());
    for (int i = 0; i <= 200; ++i) grid.push_back(std::exp(lo + (hi - lo) * i / 200.0));
  }
  for (double x : grid) {
    theory::LossPrediction pred{NAN, NAN};
    if (axis == "model.params" && !std::isnan(n)) pred = theory::predict(spectrum, n, x);
    else if (axis == "task.n_train" && !std::isnan(p)) pred = theory::predict(spectrum, x, p);
    else if (axis == "task.module_dim" && !std::isnan(n) && !std::isnan(p)) pred = theory::predict(spectrum.with_m(x), n, p);
    else if (axis == "task.modules" && !std::isnan(n) && !std::isnan(p))
      pred = theory::predict_modular(spectrum, static_cast<int64_t>(std::lround(x)), n, p);
    if (!std::isfinite(pred.test)) pred.test = NAN;  // the pole: leave a gap
    test.x.push_back(x);
    test.y.push_back(pred.test);
    train.x.push_back(x);
    train.y.push_back(pred.train);
  }
  return {test, train};
}
}  // namespace

std::string report_loss_trends(const std::vector<TrendPanel>& panels, const std::string& path, double omega) {
  std::vector<Panel> figure;
  std::string tables;
  for (const auto& tp : panels) {
    const auto results = read_csv(tp.sweep_dir + "/results.csv");
    const auto curves = loss_curves(results, tp.axis);
    std::vector<double> xs;
    for (const auto& c : curves) xs.insert(xs.end(), c.x.begin(), c.x.end());
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    figure.push_back(loss_panel(curves, tp.axis, tp.logx, true, theory_series(tp.sweep_dir, results, tp.axis, xs, omega)));
    tables += fmt::format("### loss vs {} ({})\n\n{}\n", tp.axis, tp.sweep_dir, format_loss_curves(curves, tp.axis));
  }
  write_png(path, figure, static_cast<int>(std::min<size_t>(panels.size(), 2)), 1200, 900);
  return tables;
}

}  // namespace modnet::analysis
