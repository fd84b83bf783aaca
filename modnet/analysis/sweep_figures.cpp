#include "modnet/analysis/sweep_figures.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "modnet/core/error.h"
#include "modnet/core/files.h"

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
  // The "setting" of a row: every column that is a sweep coordinate other than the axis (the
  // columns before `seed`, plus seed), so one light line per setting.
  const size_t c_seed = results.has("seed") ? column(results, "seed") : results.header.size();
  std::vector<std::string> methods;
  std::map<std::string, std::map<std::string, std::map<double, std::pair<double, double>>>> lines;
  for (const auto& row : results.rows) {
    if (has_status && row[c_status] != "done") continue;
    const std::string method = has_config ? row[c_config] : "run";
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
    std::string setting;
    for (size_t c = 0; c <= std::min(c_seed, results.header.size() - 1); ++c)
      if (c != c_axis && c != c_config && results.header[c] != "point" && results.header[c] != "status")
        setting += results.header[c] + "=" + row[c] + ";";
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
    test.title = c.method + " test";
    test.x = c.x;
    test.y = c.test;
    test.color = color;
    test.style = "linespoints";
    train.title = c.method + " train";
    train.x = c.x;
    train.y = c.train;
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
    seeds.alpha = 0.35;
    seeds.width = 1.0;
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

}  // namespace modnet::analysis
