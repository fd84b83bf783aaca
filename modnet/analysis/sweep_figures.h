#pragma once
// Figures from sweep results (results.csv of modnet-sweep): losses against one axis (the panels of
// the paper's loss_trends.png) and sample complexity against the module dimension
// (compare_method1_sample_complexity1.5_edited.png).
#include <string>
#include <vector>

#include "modnet/analysis/plot.h"
#include "modnet/analysis/report.h"
#include "modnet/analysis/sample_complexity.h"

namespace modnet::analysis {

struct AxisCurve {
  std::string method;           // the results' `config` value
  std::vector<double> x;        // distinct axis values, ascending
  std::vector<double> train, test;  // means over the other settings (seeds, other axes)
  // One line per other setting (e.g. per seed): x, train, test.
  std::vector<std::vector<double>> light_x, light_train, light_test;
};

/// Per method, mean train and test loss against `axis` over all other settings, plus the
/// individual settings' curves (rows with status "done" only).
std::vector<AxisCurve> loss_curves(const CsvTable& results, const std::string& axis);

/// A panel: per method test loss (solid) and train loss (dashed) means in bold over light
/// per-setting lines. `extra` series (e.g. theory predictions) are drawn on top.
Panel loss_panel(const std::vector<AxisCurve>& curves, const std::string& axis_label, bool logx, bool logy,
                 const std::vector<Series>& extra = {});

/// Median n* against the group axis per method (bold markers and lines) over the per-seed values
/// (light points), log y.
Panel sample_complexity_panel(const std::vector<SampleComplexityRow>& rows, const std::string& group_label);

/// Reads DIR/results.csv, writes `prefix`_loss_vs_<axis>.png and `prefix`_loss_vs_<axis>.md, and
/// returns the table.
std::string report_sweep_losses(const std::string& sweep_dir, const std::string& axis, bool logx, bool logy,
                                const std::string& prefix);
/// Reads DIR/results.csv, writes `prefix`_sample_complexity.png and .md, returns the table.
std::string report_sample_complexity(const std::string& sweep_dir, const SampleComplexityOptions& options,
                                     const std::string& prefix);

/// One panel of the loss-trends figure: a sweep folder and the axis it varies.
struct TrendPanel {
  std::string sweep_dir;
  std::string axis;   // task.modules | task.module_dim | model.params | task.n_train (or any key)
  bool logx = false;
};

/// The paper's loss_trends.png: one panel per sweep (train and test loss, means over light
/// per-setting lines) with the random-feature theory dashed (modnet/theory, Ω = `omega`, c = the
/// runs' mean test-target variance, m = task.module_dim, n and p the runs' means where they are
/// not the axis; the k panel uses the modular prediction with b = m). Writes `path` (PNG) and
/// returns a Markdown table of all panels.
std::string report_loss_trends(const std::vector<TrendPanel>& panels, const std::string& path, double omega = 1.56);

/// Markdown table of loss_curves (method, axis value, mean train, mean test, settings).
std::string format_loss_curves(const std::vector<AxisCurve>& curves, const std::string& axis);

}  // namespace modnet::analysis
