#pragma once
// Sweeps (multirun): a grid of training runs over config keys and seeds, each run a child process
// of modnet-train in its own directory, N at a time, surviving failing points and resumable.
//
//   name: loss-vs-m                            # optional
//   base: ../sine/monolithic.yaml              # one base config (relative to this file), or
//   configs: {monolithic: ../sine/monolithic.yaml, modular: ../sine/modular.yaml}   # an axis of them
//   overrides: [train.progress=false]          # applied to every point (before the axes)
//   axes:                                      # the grid is the Cartesian product of the axes
//     task.module_dim: [2, 3, 4]               # values (a list value sets `key=[a, b]`)
//     task.n_train: {logspace: [100, 10000], num: 5, integer: true}
//     model.params: {linspace: [1000, 5000], num: 3, integer: true}
//   zip: [[task.module_dim, model.module_dim]] # these axes vary together instead of crossing
//   only: {model.module_dim: [modular]}        # an axis or fixed override for these configs only
//   seeds: [0, 1, 2]                           # every grid point x every seed (sets `seed`)
//
// Every grid point x seed is one `modnet-train --config BASE overrides... --out DIR/runs/<point>
// --force` child process (N at a time; each gets cores/N threads unless OMP_NUM_THREADS etc. are
// set), its stdout+stderr in DIR/runs/<point>.log. A point's overrides: the fixed ones, then
// `name=<the point's setting>` (shared by its seeds, unless the sweep sets `name`), the axes, `seed`.
// Point names are `key=value` parts joined by "__" (e.g. config=modular__task.module_dim=3__seed=1;
// the config part only with several configs, axes only where they have several values), sanitised
// to [A-Za-z0-9._=-]; an index and a hash where that is not unique or longer than 200 characters.
//
// The sweep directory:
//   sweep.yaml   the sweep (config paths made absolute); re-running into DIR needs the same sweep
//   results.csv  one row per point: point, status (done|failed|pending), config, one column per
//                axis key ("" where `only` leaves it out), seed, every scalar field of the points'
//                summary.json (union, "" when missing), error, dir (runs/<point>, relative to DIR);
//                plain CSV (commas in cells become ';'), rewritten atomically after every point
//   runs/<point>/ and runs/<point>.log
//   sweep.lock   held while a modnet-sweep runs there
// Re-running skips points whose run dir has summary.json (and refuses if its config.yaml is not
// what the sweep gives now), resumes interrupted points from their checkpoint and runs failed
// ones again from scratch. SIGINT/SIGTERM stop launching, pass the signal on (the points
// checkpoint and stop; a second signal kills them) and leave that resumable state.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "modnet/core/config.h"

namespace modnet::run {

/// A generated axis: `{logspace: [lo, hi], num: N}` or `{linspace: [lo, hi], num: N}`, rounded to
/// integers (duplicates after rounding dropped) with `integer: true`.
struct SweepRange {
  std::optional<std::vector<double>> logspace;
  std::optional<std::vector<double>> linspace;
  int64_t num = 0;
  bool integer = false;

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("logspace", logspace, none(), "[lo, hi]: num values evenly spaced in log(value), lo and hi included");
    v("linspace", linspace, none(), "[lo, hi]: num values evenly spaced, lo and hi included");
    v("num", num, at_least(1).req(), "number of values");
    v("integer", integer, none(), "round the values to integers (dropping repeats)");
    v.only_one_of({"logspace", "linspace"}, true);
  }
  void resolve(const config::Reader& r);
};
/// The values of a range as override text ("100", "0.001").
std::vector<std::string> expand_range(const SweepRange& range);

/// The sweep file (`fields` drives reading with file:line errors, and writing sweep.yaml).
struct SweepOptions {
  std::string name;
  std::optional<std::string> base;  // one base experiment config
  YAML::Node configs;               // or {name: path, ...} (a list of paths is named by their stems)
  std::vector<std::string> overrides;
  YAML::Node axes;                  // {key: [values] | {logspace|linspace: [lo, hi], num, integer}}
  std::vector<std::vector<std::string>> zip;
  YAML::Node only;                  // {key: [config names]}: an axis/override for those configs only
  std::vector<int64_t> seeds{0};

  template <class V>
  void fields(V& v) {
    using namespace config;
    v("name", name, none(), "free-form sweep name");
    v("base", base, none(), "base experiment config, relative to the sweep file");
    v("configs", configs, none(), "an axis of named base configs {name: path}, relative to the sweep file");
    v("overrides", overrides, none(), "key.sub=value overrides applied to every point");
    v("axes", axes, none(), "config keys to sweep: a list of values or a logspace/linspace range each");
    v("zip", zip, none(), "groups of axes that vary together (same length) instead of crossing");
    v("only", only, none(), "{key: [config names]}: apply an axis or fixed override to these configs only");
    v("seeds", seeds, at_least(0), "seeds: every grid point runs once per seed");
    v.only_one_of({"base", "configs"}, true);
  }
};

struct SweepAxis {
  std::string key;                  // config key path, e.g. task.n_train
  std::vector<std::string> values;  // override text of each value (YAML, flow style)
};

/// One training run of the sweep.
struct SweepPoint {
  std::string name;                 // unique directory name, e.g. config=modular__task.module_dim=3__seed=1
  std::string config;               // the configs-axis name, or the base config's stem
  std::string config_path;          // the base config file
  std::vector<std::pair<std::string, std::string>> values;  // axis key -> value text, in axis order
                                                            // ("" where `only` leaves the axis out)
  int64_t seed = 0;
  std::vector<std::string> overrides;  // everything passed to modnet-train after --config
  std::string resolved;             // the resolved experiment config (YAML), set by validate_sweep
};

struct Sweep {
  std::string file;                 // the sweep file ("" when parsed from a string)
  SweepOptions options;
  std::vector<std::pair<std::string, std::string>> configs;  // name -> config path (resolved)
  std::vector<SweepAxis> axes;      // in file order
  std::vector<std::vector<size_t>> groups;  // indices into axes; each group varies as one (zip)
  std::vector<SweepPoint> points;   // seeds outermost, then configs, then the axes (last fastest)
};

/// Reads and expands a sweep file; `extra_overrides` are appended to its `overrides`. Bad keys or
/// values are ConfigErrors naming file:line. Does not validate the points (see validate_sweep).
Sweep load_sweep(const std::string& path, const std::vector<std::string>& extra_overrides = {});
/// The same from a parsed document; relative config paths are taken from `base_dir`.
Sweep parse_sweep(const config::Document& doc, const std::string& base_dir,
                  const std::vector<std::string>& extra_overrides = {});
/// Loads every point's experiment config (base + overrides) and validates it, filling
/// SweepPoint::resolved; a ConfigError names the point.
void validate_sweep(Sweep& sweep);
/// The sweep as written to DIR/sweep.yaml: the options with absolute config paths.
YAML::Node sweep_yaml(const Sweep& sweep);
/// Whether two sweep.yaml documents describe the same sweep (config paths are not compared: the
/// resolved config of every finished point is compared instead).
bool same_sweep(const YAML::Node& a, const YAML::Node& b);

/// Replaces characters outside [A-Za-z0-9._=-] by '_'.
std::string sanitize_name(const std::string& text);

struct SweepRunOptions {
  std::string out_dir;
  int64_t jobs = 1;
  bool force = false;      // empty an existing out_dir first
  bool dry_run = false;    // print the points and commands, run nothing, write nothing
  std::string train_bin;   // modnet-train to run ("" = the one beside this executable)
};

enum class PointStatus { pending, running, done, failed };
std::string status_name(PointStatus status);

struct SweepResult {
  int64_t total = 0, done = 0, failed = 0, pending = 0;
  int64_t skipped = 0;       // finished before this invocation
  bool interrupted = false;  // stopped by SIGINT/SIGTERM (resumable)
  std::vector<std::pair<std::string, std::string>> failures;  // point -> error
  /// 0 when every point is done, 130 when interrupted, 1 when a point failed.
  int exit_code() const { return interrupted ? 130 : failed > 0 || pending > 0 ? 1 : 0; }
};

/// Runs (or resumes) the sweep into options.out_dir. Validates first. Refuses an out_dir holding
/// a different sweep (or anything else) unless options.force.
SweepResult run_sweep(Sweep& sweep, const SweepRunOptions& options);

/// The modnet-train beside the running executable (modnet::Error when it is not there).
std::string default_train_bin();

/// Installs SIGINT/SIGTERM handlers that make run_sweep stop launching points, pass the signal
/// to the running ones (a second signal kills them) and return a resumable state.
void install_sweep_signal_handlers();

}  // namespace modnet::run
