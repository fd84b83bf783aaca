#pragma once
// Any summary metric of a sweep against one axis, per method, as mean ± std over the other
// settings (seeds): the accuracy-vs-k figure of compositional CIFAR-10 and Table 1 (test, ood
// and noisy accuracy at one k) come from here.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modnet/analysis/report.h"

namespace modnet::analysis {

struct MetricStats {
  double mean = 0, std = 0;  // std: sample standard deviation (0 for one value)
  int64_t n = 0;
};

struct MetricTable {
  std::string axis;
  std::vector<std::string> methods;  // the results' `config` values, in first-seen order
  std::vector<double> xs;            // distinct axis values, ascending
  std::vector<std::string> metrics;
  // cells[method][x][metric]; a missing cell (metric absent or no finished run) has n = 0.
  std::map<std::string, std::map<double, std::map<std::string, MetricStats>>> cells;
};

/// Mean ± std of each metric column per method and axis value over the rows with status "done"
/// (and a finite value). An unknown axis or metric column is a DataError naming it.
MetricTable metric_table(const CsvTable& results, const std::string& axis, const std::vector<std::string>& metrics);

/// Markdown: one row per method and axis value (only x = *at when given), one column per metric
/// as "mean ± std (n)".
std::string format_metric_table(const MetricTable& table, std::optional<double> at = std::nullopt);

/// Reference values to draw beside the measured ones (e.g. the paper's): CSV with columns
/// method, x, metric, value. Lines whose metric is plotted are drawn dashed in the method's colour.
struct ReferenceRow {
  std::string method, metric;
  double x, value;
};
std::vector<ReferenceRow> read_reference(const std::string& path);

/// The results.csv of one sweep, or of several read as one ("DIR1,DIR2,..."): columns are the union
/// (a cell a sweep lacks is empty), except that each of `keys` (config keys, e.g. an --x axis) that a
/// sweep does not vary is read from each of its finished runs' config.yaml, so sweeps of one axis at
/// different values combine (e.g. accuracy vs k from a k = 1, 2, 4 sweep and a k = 6 Table 1 sweep),
/// and a sweep without that axis can still be tabulated against it (--x task.slots for Table 1).
/// Methods are the `config` names; the sweeps should use the same ones.
CsvTable read_sweep_results(const std::string& dirs, const std::vector<std::string>& keys);

/// Reads DIR/results.csv (or several, see read_sweep_results); writes `prefix`_<metric…>_vs_<axis>.png (one panel per metric: per
/// method the mean, bold, over the per-seed points, light; references dashed) and .md; returns
/// the table (restricted to x = *at when given; the figure always shows every x).
std::string report_sweep_metrics(const std::string& sweep_dir, const std::string& axis,
                                 const std::vector<std::string>& metrics, const std::string& prefix,
                                 std::optional<double> at = std::nullopt, const std::string& reference_csv = "");

}  // namespace modnet::analysis
