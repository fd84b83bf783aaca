#include "modnet/analysis/metric_report.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "modnet/analysis/plot.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"

#include <sstream>

#include <yaml-cpp/yaml.h>

namespace modnet::analysis {
namespace {

const std::vector<std::string> kColors{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

size_t index_of(const CsvTable& t, const std::string& name, const std::string& what) {
  auto it = std::find(t.header.begin(), t.header.end(), name);
  if (it == t.header.end()) throw DataError(fmt::format("{}: results have no column '{}'", what, name));
  return size_t(it - t.header.begin());
}


MetricStats stats(const std::vector<double>& v) {
  MetricStats s;
  s.n = int64_t(v.size());
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / double(v.size() - 1));
  }
  return s;
}

// Per method and metric: (x, value) of every finished row.
using Points = std::map<std::string, std::map<std::string, std::vector<std::pair<double, double>>>>;

Points collect(const CsvTable& results, const std::string& axis, const std::vector<std::string>& metrics,
               std::vector<std::string>& methods) {
  const size_t c_axis = index_of(results, axis, "--x");
  std::vector<size_t> c_metric;
  for (const auto& m : metrics) c_metric.push_back(index_of(results, m, "--metrics"));
  const bool has_config = results.has("config"), has_status = results.has("status");
  const size_t c_config = has_config ? index_of(results, "config", "") : 0;
  const size_t c_status = has_status ? index_of(results, "status", "") : 0;
  Points points;
  for (const auto& row : results.rows) {
    if (has_status && row[c_status] != "done") continue;
    const std::string method = has_config ? row[c_config] : "run";
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
    const double x = parse_number(row[c_axis]);
    for (size_t i = 0; i < metrics.size(); ++i) {
      const double v = parse_number(row[c_metric[i]]);
      if (std::isfinite(x) && std::isfinite(v)) points[method][metrics[i]].emplace_back(x, v);
    }
  }
  return points;
}

std::string stem(std::string s) {
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

}  // namespace

MetricTable metric_table(const CsvTable& results, const std::string& axis, const std::vector<std::string>& metrics) {
  MetricTable t;
  t.axis = axis;
  t.metrics = metrics;
  const auto points = collect(results, axis, metrics, t.methods);
  std::set<double> xs;
  for (const auto& [method, by_metric] : points)
    for (const auto& [metric, pts] : by_metric) {
      std::map<double, std::vector<double>> by_x;
      for (const auto& [x, v] : pts) by_x[x].push_back(v);
      for (const auto& [x, values] : by_x) {
        xs.insert(x);
        t.cells[method][x][metric] = stats(values);
      }
    }
  t.xs.assign(xs.begin(), xs.end());
  return t;
}

std::string format_metric_table(const MetricTable& t, std::optional<double> at) {
  std::string out = "| method | " + t.axis + " |";
  for (const auto& m : t.metrics) out += " " + m + " |";
  out += "\n|---|---|";
  for (size_t i = 0; i < t.metrics.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& method : t.methods)
    for (double x : t.xs) {
      if (at && std::abs(x - *at) > 1e-12 * std::max(1.0, std::abs(x))) continue;
      auto mit = t.cells.find(method);
      if (mit == t.cells.end() || !mit->second.count(x)) continue;
      out += fmt::format("| {} | {} |", method, x);
      for (const auto& m : t.metrics) {
        auto it = mit->second.at(x).find(m);
        if (it == mit->second.at(x).end() || it->second.n == 0) {
          out += " – |";
        } else {
          out += fmt::format(" {:.4f} ± {:.4f} ({}) |", it->second.mean, it->second.std, it->second.n);
        }
      }
      out += "\n";
    }
  return out;
}

std::vector<ReferenceRow> read_reference(const std::string& path) {
  const auto csv = read_csv(path);
  const size_t c_method = index_of(csv, "method", path), c_x = index_of(csv, "x", path),
               c_metric = index_of(csv, "metric", path), c_value = index_of(csv, "value", path);
  std::vector<ReferenceRow> rows;
  for (size_t i = 0; i < csv.rows.size(); ++i) {
    const auto& r = csv.rows[i];
    const double x = parse_number(r[c_x]), v = parse_number(r[c_value]);
    if (!std::isfinite(x) || !std::isfinite(v))
      throw DataError(fmt::format("{}: row {}: x and value must be numbers, got '{}' and '{}'", path, i + 2, r[c_x],
                                  r[c_value]));
    rows.push_back({r[c_method], r[c_metric], x, v});
  }
  return rows;
}

CsvTable read_sweep_results(const std::string& dirs, const std::vector<std::string>& keys) {
  std::vector<std::string> list;
  std::stringstream ss(dirs);
  for (std::string d; std::getline(ss, d, ',');)
    if (!d.empty()) list.push_back(d);
  if (list.empty()) throw Error("--sweep: give a sweep folder (or several, comma-separated)");
  CsvTable merged;
  auto column = [&](const std::string& name) {
    auto it = std::find(merged.header.begin(), merged.header.end(), name);
    if (it != merged.header.end()) return size_t(it - merged.header.begin());
    merged.header.push_back(name);
    for (auto& row : merged.rows) row.emplace_back();
    return merged.header.size() - 1;
  };
  for (const auto& dir : list) {
    const auto table = read_csv(dir + "/results.csv");
    std::vector<size_t> target;
    for (const auto& name : table.header) target.push_back(column(name));
    std::vector<std::string> missing;
    for (const auto& key : keys)
      if (!table.has(key)) missing.push_back(key);
    if (!missing.empty() && !table.has("dir"))
      throw DataError(fmt::format("{}/results.csv: no column '{}' and no run folders to read it from", dir, missing[0]));
    const size_t c_dir = table.has("dir") ? index_of(table, "dir", dir) : 0;
    const size_t c_status = table.has("status") ? index_of(table, "status", dir) : 0;
    for (const auto& row : table.rows) {
      std::vector<std::string> out(merged.header.size());
      for (size_t i = 0; i < row.size() && i < target.size(); ++i) out[target[i]] = row[i];
      if (!missing.empty() && (!table.has("status") || row[c_status] == "done")) {
        // A key this sweep does not vary: its value in the run's resolved config.
        const std::string config_path = dir + "/" + row[c_dir] + "/config.yaml";
        YAML::Node config;
        try {
          config = YAML::LoadFile(config_path);
        } catch (const YAML::Exception& e) {
          throw DataError(fmt::format("{}: cannot read it ({})", config_path, e.what()));
        }
        for (const auto& key : missing) {
          YAML::Node node = YAML::Clone(config);
          std::stringstream parts(key);
          for (std::string part; std::getline(parts, part, '.') && node.IsDefined();)
            node = node.IsMap() ? node[part] : YAML::Node();
          const size_t c = column(key);
          out.resize(merged.header.size());
          if (node.IsDefined() && node.IsScalar()) out[c] = node.as<std::string>();
        }
      }
      out.resize(merged.header.size());
      merged.rows.push_back(std::move(out));
    }
  }
  return merged;
}

std::string report_sweep_metrics(const std::string& sweep_dir, const std::string& axis,
                                 const std::vector<std::string>& metrics, const std::string& prefix,
                                 std::optional<double> at, const std::string& reference_csv) {
  if (metrics.empty()) throw Error("--metrics: give at least one summary column");
  const auto results = read_sweep_results(sweep_dir, {axis});
  const auto table = metric_table(results, axis, metrics);
  std::vector<std::string> methods;
  const auto points = collect(results, axis, metrics, methods);
  const auto reference = reference_csv.empty() ? std::vector<ReferenceRow>{} : read_reference(reference_csv);

  std::vector<Panel> panels;
  for (const auto& metric : metrics) {
    Panel panel;
    panel.title = metric;
    panel.xlabel = axis;
    panel.ylabel = metric;
    for (size_t i = 0; i < table.methods.size(); ++i) {
      const auto& method = table.methods[i];
      const auto color = kColors[i % kColors.size()];
      Series light;
      light.style = "points";
      light.color = color;
      light.alpha = 0.35;
      light.width = 1.0;
      auto pit = points.find(method);
      if (pit != points.end() && pit->second.count(metric))
        for (const auto& [x, v] : pit->second.at(metric)) {
          light.x.push_back(x);
          light.y.push_back(v);
        }
      Series mean;
      mean.title = method;
      mean.style = "linespoints";
      mean.color = color;
      for (double x : table.xs) {
        const auto& cells = table.cells.at(method);
        if (!cells.count(x) || !cells.at(x).count(metric)) continue;
        mean.x.push_back(x);
        mean.y.push_back(cells.at(x).at(metric).mean);
      }
      Series ref;
      ref.title = method + " (reference)";
      ref.style = "linespoints";
      ref.color = color;
      ref.dashed = true;
      ref.width = 1.5;
      for (const auto& r : reference)
        if (r.method == method && r.metric == metric) {
          ref.x.push_back(r.x);
          ref.y.push_back(r.value);
        }
      if (!light.x.empty()) panel.series.push_back(light);
      if (!mean.x.empty()) panel.series.push_back(mean);
      if (!ref.x.empty()) panel.series.push_back(ref);
    }
    panels.push_back(panel);
  }
  std::string name = prefix + "_";
  for (size_t i = 0; i < metrics.size(); ++i) name += (i ? "-" : "") + stem(metrics[i]);
  name += "_vs_" + stem(axis);
  const std::string text = format_metric_table(table, at);
  write_file_atomic(name + ".md", text);
  write_png(name + ".png", panels, int(std::min<size_t>(metrics.size(), 3)));
  return text;
}

}  // namespace modnet::analysis
