#pragma once
// Reports over finished runs: gather every run directory below a folder (summary.json +
// metrics.csv + similarity.csv), group runs by name across seeds, print a table of means ± std,
// and draw the test loss and module similarity over training.
#include <map>
#include <string>
#include <vector>

#include "modnet/core/csv.h"

namespace modnet::analysis {

struct RunRecord {
  std::string dir;
  std::string name;                        // the config's name (runs of several seeds share it)
  std::map<std::string, double> numbers;   // numeric fields of summary.json
  std::map<std::string, std::string> text; // text fields of summary.json
  CsvTable metrics;                        // metrics.csv
  CsvTable similarity;                     // similarity.csv (empty when not logged)
  CsvTable tsne;                           // tsne.csv (empty when not made)
};

/// Every finished run (a directory holding summary.json) at or below `root`, sorted by path.
std::vector<RunRecord> collect_runs(const std::string& root);

struct GroupStats {
  std::string name;
  int64_t runs = 0;
  std::map<std::string, std::pair<double, double>> mean_std;  // field -> (mean, std over runs)
};
/// Groups runs by name, in order of first appearance.
std::vector<GroupStats> group_runs(const std::vector<RunRecord>& runs);

/// A Markdown table of the groups: method, runs, parameters, train/test loss, similarity (and
/// chance), initialisation and training time; "mean ± std" where a group has several runs.
std::string format_table(const std::vector<GroupStats>& groups);

/// Writes `prefix`_test_loss.png (test loss over steps, each run light, group means bold) and,
/// when logged, `prefix`_similarity.png and `prefix`_tsne.png (one panel per group, its first
/// run with a t-SNE); returns the paths written.
std::vector<std::string> plot_runs(const std::vector<RunRecord>& runs, const std::string& prefix);

}  // namespace modnet::analysis
