#include "modnet/analysis/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "modnet/analysis/plot.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/run_dir.h"

namespace fs = std::filesystem;

namespace modnet::analysis {

std::vector<RunRecord> collect_runs(const std::string& root) {
  if (!fs::is_directory(root)) throw Error(fmt::format("'{}' is not a directory", root));
  std::vector<std::string> dirs;
  if (fs::exists(fs::path(root) / RunDir::kSummary)) dirs.push_back(root);
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && entry.path().filename() == RunDir::kSummary && entry.path().parent_path() != fs::path(root))
      dirs.push_back(entry.path().parent_path().string());
  std::sort(dirs.begin(), dirs.end());
  std::vector<RunRecord> runs;
  for (const auto& dir : dirs) {
    RunRecord r;
    r.dir = dir;
    YAML::Node summary;
    try {
      summary = YAML::LoadFile(RunDir{dir}.summary());
    } catch (const YAML::Exception& e) {
      throw DataError(fmt::format("'{}/summary.json': not valid JSON: {}", dir, e.what()));
    }
    for (auto it = summary.begin(); it != summary.end(); ++it) {
      if (!it->second.IsScalar()) continue;
      const auto key = it->first.as<std::string>();
      const auto value = it->second.as<std::string>();
      const double v = parse_number(value);
      if (std::isnan(v) && value != "nan") r.text[key] = value;
      else r.numbers[key] = v;
    }
    r.name = r.text.count("name") && !r.text["name"].empty() ? r.text["name"] : fs::path(dir).filename().string();
    if (fs::exists(RunDir{dir}.metrics())) r.metrics = read_csv(RunDir{dir}.metrics());
    if (fs::exists(RunDir{dir}.similarity())) r.similarity = read_csv(RunDir{dir}.similarity());
    if (fs::exists(RunDir{dir}.tsne_csv())) r.tsne = read_csv(RunDir{dir}.tsne_csv());
    runs.push_back(std::move(r));
  }
  return runs;
}

std::vector<GroupStats> group_runs(const std::vector<RunRecord>& runs) {
  std::vector<GroupStats> groups;
  std::map<std::string, std::map<std::string, std::vector<double>>> values;
  for (const auto& r : runs) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupStats& g) { return g.name == r.name; });
    if (it == groups.end()) {
      groups.push_back({r.name, 0, {}});
      it = groups.end() - 1;
    }
    ++it->runs;
    for (const auto& [k, v] : r.numbers) values[r.name][k].push_back(v);
  }
  for (auto& g : groups) {
    for (const auto& [k, vs] : values[g.name]) {
      double mean = 0, var = 0;
      for (double v : vs) mean += v;
      mean /= double(vs.size());
      for (double v : vs) var += (v - mean) * (v - mean);
      const double sd = vs.size() > 1 ? std::sqrt(var / double(vs.size() - 1)) : 0.0;
      g.mean_std[k] = {mean, sd};
    }
  }
  return groups;
}

std::string format_table(const std::vector<GroupStats>& groups) {
  auto cell = [](const GroupStats& g, const std::string& key, const char* f) -> std::string {
    auto it = g.mean_std.find(key);
    if (it == g.mean_std.end() || std::isnan(it->second.first)) return "-";
    const std::string mean = fmt::format(fmt::runtime(f), it->second.first);
    if (g.runs < 2) return mean;
    return mean + " ± " + fmt::format(fmt::runtime(f), it->second.second);
  };
  std::string out =
      "| method | runs | parameters | train loss | test loss | similarity | chance | ridge coverage | chance | init time (s) "
      "| train time (s) |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& g : groups) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", g.name, g.runs,
                       cell(g, "parameters", "{:.0f}"), cell(g, "train_loss", "{:.4f}"), cell(g, "test_loss", "{:.4f}"),
                       cell(g, "similarity", "{:.3f}"), cell(g, "similarity_chance", "{:.3f}"),
                       cell(g, "ridge_coverage", "{:.3f}"), cell(g, "ridge_coverage_chance", "{:.3f}"),
                       cell(g, "init_seconds", "{:.1f}"), cell(g, "train_seconds", "{:.1f}"));
  }
  return out;
}

std::vector<std::string> plot_runs(const std::vector<RunRecord>& runs, const std::string& prefix) {
  static const std::vector<std::string> palette{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
  std::vector<std::string> names;
  for (const auto& r : runs)
    if (std::find(names.begin(), names.end(), r.name) == names.end()) names.push_back(r.name);
  auto color_of = [&](const std::string& name) {
    return palette[size_t(std::find(names.begin(), names.end(), name) - names.begin()) % palette.size()];
  };
  // Mean over the runs of a group, on the steps all of them logged.
  auto curves = [&](auto get) {
    std::vector<Series> series;
    for (const auto& name : names) {
      std::map<double, std::vector<double>> by_step;
      int64_t count = 0;
      for (const auto& r : runs) {
        if (r.name != name) continue;
        auto [x, y] = get(r);
        if (x.empty()) continue;
        ++count;
        Series light;
        light.x = x;
        light.y = y;
        light.color = color_of(name);
        light.alpha = 0.3;
        light.width = 1.0;
        series.push_back(light);
        for (size_t i = 0; i < x.size(); ++i) by_step[x[i]].push_back(y[i]);
      }
      Series mean;
      mean.title = name;
      mean.color = color_of(name);
      for (const auto& [step, ys] : by_step) {
        if (int64_t(ys.size()) != count) continue;
        double m = 0;
        for (double v : ys) m += v;
        mean.x.push_back(step);
        mean.y.push_back(m / double(ys.size()));
      }
      if (!mean.x.empty()) series.push_back(mean);
    }
    return series;
  };
  std::vector<std::string> written;
  Panel loss;
  loss.title = "test loss during training";
  loss.xlabel = "step";
  loss.ylabel = "test loss";
  loss.logy = true;
  loss.series = curves([](const RunRecord& r) {
    if (r.metrics.rows.empty()) return std::make_pair(std::vector<double>{}, std::vector<double>{});
    return std::make_pair(r.metrics.column("step", "split", "test"), r.metrics.column("loss", "split", "test"));
  });
  if (!loss.series.empty() && write_png(prefix + "_test_loss.png", {loss})) written.push_back(prefix + "_test_loss.png");
  Panel sim;
  sim.title = "similarity of learned to true modules";
  sim.xlabel = "step";
  sim.ylabel = "similarity";
  sim.series = curves([](const RunRecord& r) {
    if (r.similarity.rows.empty()) return std::make_pair(std::vector<double>{}, std::vector<double>{});
    return std::make_pair(r.similarity.column("step"), r.similarity.column("similarity"));
  });
  // The chance level, dashed.
  for (const auto& r : runs) {
    if (r.similarity.rows.empty()) continue;
    Series chance;
    chance.title = "chance";
    chance.x = r.similarity.column("step");
    chance.y = r.similarity.column("chance");
    chance.dashed = true;
    chance.color = "#7f7f7f";
    sim.series.push_back(chance);
    break;
  }
  if (!sim.series.empty() && write_png(prefix + "_similarity.png", {sim})) written.push_back(prefix + "_similarity.png");

  // t-SNE of learned and true module projections, like the paper's Figure (tsne.png).
  std::vector<Panel> tsne_panels;
  for (const auto& name : names) {
    auto it = std::find_if(runs.begin(), runs.end(), [&](const RunRecord& r) { return r.name == name && !r.tsne.rows.empty(); });
    if (it == runs.end()) continue;
    Panel p;
    p.title = name;
    const auto x = it->tsne.column("x"), y = it->tsne.column("y");
    size_t label = size_t(std::find(it->tsne.header.begin(), it->tsne.header.end(), "label") - it->tsne.header.begin());
    for (const std::string kind : {"learned", "true"}) {
      Series s;
      s.title = kind + " modules";
      s.style = "points";
      s.color = kind == "learned" ? "#1f77b4" : "#d62728";
      for (size_t i = 0; i < x.size(); ++i)
        if (label < it->tsne.header.size() && it->tsne.rows[i][label] == kind) {
          s.x.push_back(x[i]);
          s.y.push_back(y[i]);
        }
      p.series.push_back(s);
    }
    tsne_panels.push_back(p);
  }
  if (!tsne_panels.empty() && write_png(prefix + "_tsne.png", tsne_panels)) written.push_back(prefix + "_tsne.png");
  return written;
}

}  // namespace modnet::analysis
