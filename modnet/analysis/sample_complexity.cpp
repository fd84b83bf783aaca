#include "modnet/analysis/sample_complexity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "modnet/core/error.h"

namespace modnet::analysis {

double sample_complexity(std::vector<double> n, std::vector<double> loss, double threshold) {
  if (n.size() != loss.size())
    throw Error(fmt::format("sample_complexity: {} sample sizes but {} losses", n.size(), loss.size()));
  std::vector<std::pair<double, double>> points;
  for (size_t i = 0; i < n.size(); ++i)
    if (std::isfinite(n[i]) && n[i] > 0 && !std::isnan(loss[i])) points.emplace_back(n[i], loss[i]);
  std::sort(points.begin(), points.end());
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i].second > threshold) continue;
    if (i == 0) return points[0].first;
    const auto [n0, l0] = points[i - 1];
    const auto [n1, l1] = points[i];
    const double t = (l0 - threshold) / (l0 - l1);  // fraction of the way from n0 to n1, in log n
    return std::exp(std::log(n0) + t * (std::log(n1) - std::log(n0)));
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double median_unreached_high(std::vector<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  for (auto& v : values)
    if (std::isnan(v)) v = std::numeric_limits<double>::infinity();
  std::sort(values.begin(), values.end());
  const size_t k = values.size();
  const double med = k % 2 ? values[k / 2] : 0.5 * (values[k / 2 - 1] + values[k / 2]);
  return std::isfinite(med) ? med : std::numeric_limits<double>::quiet_NaN();
}

std::vector<SampleComplexityRow> sample_complexity_table(const CsvTable& results, const SampleComplexityOptions& o) {
  for (const auto& col : {o.method_column, o.group_column, o.n_column, o.seed_column, o.loss_column})
    if (!results.has(col)) throw DataError(fmt::format("results.csv has no column '{}'", col));
  if (o.relative && !results.has("test_target_variance"))
    throw DataError("results.csv has no column 'test_target_variance' (needed for a relative threshold)");
  auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(results.header.begin(), results.header.end(), name) - results.header.begin());
  };
  const size_t c_method = col(o.method_column), c_group = col(o.group_column), c_n = col(o.n_column),
               c_seed = col(o.seed_column), c_loss = col(o.loss_column);
  const bool has_status = results.has("status");
  const size_t c_status = has_status ? col("status") : 0;
  const size_t c_var = o.relative ? col("test_target_variance") : 0;
  auto num = [](const std::string& s) {
    try {
      return s.empty() ? std::numeric_limits<double>::quiet_NaN() : std::stod(s);
    } catch (const std::exception&) {
      return std::numeric_limits<double>::quiet_NaN();
    }
  };
  // (method, group) -> seed -> points (n, loss / threshold-scale)
  std::vector<std::pair<std::string, double>> order;
  std::map<std::pair<std::string, double>, std::map<double, std::pair<std::vector<double>, std::vector<double>>>> curves;
  for (const auto& row : results.rows) {
    if (has_status && row[c_status] != "done") continue;
    const auto key = std::make_pair(row[c_method], num(row[c_group]));
    if (!curves.count(key)) order.push_back(key);
    auto& curve = curves[key][num(row[c_seed])];
    curve.first.push_back(num(row[c_n]));
    // A relative threshold is applied by scaling each point's loss by its target variance.
    curve.second.push_back(o.relative ? num(row[c_loss]) / num(row[c_var]) : num(row[c_loss]));
  }
  std::sort(order.begin(), order.end());
  std::vector<SampleComplexityRow> out;
  for (const auto& key : order) {
    SampleComplexityRow r;
    r.method = key.first;
    r.m = key.second;
    for (const auto& [seed, curve] : curves[key]) {
      r.seeds.push_back(seed);
      r.per_seed.push_back(sample_complexity(curve.first, curve.second, o.threshold));
    }
    r.median = median_unreached_high(r.per_seed);
    out.push_back(r);
  }
  return out;
}

std::string format_sample_complexity(const std::vector<SampleComplexityRow>& rows, const SampleComplexityOptions& o) {
  auto fmt_n = [](double v) { return std::isnan(v) ? std::string("not reached") : fmt::format("{:.0f}", v); };
  std::string out = fmt::format("Sample complexity: smallest {} with {} <= {}{} (log-n interpolation; median over seeds)\n\n",
                                o.n_column, o.loss_column, o.threshold, o.relative ? " x test-target variance" : "");
  out += fmt::format("| {} | {} | median n* | per seed |\n|---|---|---|---|\n", o.method_column, o.group_column);
  for (const auto& r : rows) {
    std::string seeds;
    for (size_t i = 0; i < r.per_seed.size(); ++i)
      seeds += (i ? ", " : "") + fmt::format("{:g}: {}", r.seeds[i], fmt_n(r.per_seed[i]));
    out += fmt::format("| {} | {:g} | {} | {} |\n", r.method, r.m, fmt_n(r.median), seeds);
  }
  return out;
}

}  // namespace modnet::analysis
