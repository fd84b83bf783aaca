#pragma once
// Sample complexity from sweeps (PAPER.md §5): the smallest number of training samples n at which
// the test loss reaches a threshold, interpolated in log n over an n-sweep, per seed, and its
// median over seeds.
#include <string>
#include <vector>

#include "modnet/analysis/report.h"

namespace modnet::analysis {

/// The smallest n at which the curve (n_i, loss_i) reaches `threshold`: points are sorted by n;
/// between the last point above the threshold and the next one at or below it, log n is
/// interpolated linearly in the loss. Returns n_0 when the smallest n already reaches it and NaN
/// when no n does. NaN losses are skipped.
double sample_complexity(std::vector<double> n, std::vector<double> loss, double threshold);

/// Median with NaN (never reached) counted as +infinity; NaN when the median itself is not reached.
double median_unreached_high(std::vector<double> values);

struct SampleComplexityRow {
  std::string method;            // value of the method column (e.g. the sweep's config name)
  double m = 0;                  // value of the grouping axis (e.g. task.module_dim)
  std::vector<double> seeds;     // seed values
  std::vector<double> per_seed;  // n* per seed (NaN = threshold not reached in the sweep's n range)
  double median = 0;
};

struct SampleComplexityOptions {
  std::string method_column = "config";
  std::string group_column = "task.module_dim";
  std::string n_column = "task.n_train";
  std::string seed_column = "seed";
  std::string loss_column = "test_loss";
  double threshold = 1.5;
  /// When true the threshold is a fraction of each point's test-target variance
  /// (`test_target_variance` in summary.json), so tasks of different scale compare.
  bool relative = false;
};

/// One row per (method, group value), from a sweep's results.csv (rows with status "done").
std::vector<SampleComplexityRow> sample_complexity_table(const CsvTable& results, const SampleComplexityOptions& options);

/// Markdown table: method, m, median n*, and the per-seed values.
std::string format_sample_complexity(const std::vector<SampleComplexityRow>& rows, const SampleComplexityOptions& options);

}  // namespace modnet::analysis
