#pragma once
// The sweep directory and every file in it, named in one place (see sweep.h):
//   sweep.yaml    the sweep (config paths absolute); re-running into the directory needs the same one
//   results.csv   one row per point, rewritten atomically after every point
//   runs/<point>/ each point's run directory; runs/<point>.log its output
//   sweep.lock    held while a modnet-sweep runs there
// and the helpers of the runner that read and prepare them.
#include <ios>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "modnet/run/process.h"
#include "modnet/run/sweep.h"

namespace modnet::run {

struct SweepDir {
  static constexpr const char* kSweepYaml = "sweep.yaml";
  static constexpr const char* kResults = "results.csv";
  static constexpr const char* kRuns = "runs";
  static constexpr const char* kLock = "sweep.lock";

  std::string path;

  std::string sweep_yaml() const { return path + "/" + kSweepYaml; }
  std::string results() const { return path + "/" + kResults; }
  std::string runs() const { return path + "/" + kRuns; }
  std::string lock() const { return path + "/" + kLock; }
  /// The run directory of a point, and its log.
  std::string run(const std::string& point) const { return runs() + "/" + point; }
  std::string log(const std::string& point) const { return run(point) + ".log"; }
};

/// Checks that options.out_dir is empty, absent or holds this same sweep (or empties it with
/// options.force), takes its lock and writes sweep.yaml. A dry run only checks (nullptr).
std::unique_ptr<FileLock> prepare_sweep_dir(const Sweep& sweep, const SweepRunOptions& options);

/// The scalar fields of a point's summary.json, in order (non-finite numbers as "nan").
std::vector<std::pair<std::string, std::string>> read_summary(const std::string& path);

/// The last line that looks like an error in the log after `offset` (else its last line).
std::string last_error_line(const std::string& log, std::streamoff offset);

/// A plain CSV cell: commas become ';', line breaks and tabs spaces.
std::string csv_cell(const std::string& text);

}  // namespace modnet::run
