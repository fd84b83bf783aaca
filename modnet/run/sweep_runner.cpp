// The sweep runner: every point as a modnet-train child process, N at a time, with results.csv,
// resume and signal handling (the grid itself is read and expanded in sweep.cpp).
#include "modnet/run/sweep.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "modnet/core/cli.h"
#include "modnet/core/csv.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/log.h"
#include "modnet/core/progress.h"
#include "modnet/core/run_dir.h"
#include "modnet/run/experiment.h"
#include "modnet/run/process.h"
#include "modnet/run/sweep_dir.h"

namespace fs = std::filesystem;

namespace modnet::run {

std::string status_name(PointStatus status) {
  switch (status) {
    case PointStatus::done: return "done";
    case PointStatus::failed: return "failed";
    default: return "pending";  // running points are pending until they finish
  }
}

void install_sweep_signal_handlers() { install_signal_counter(); }

// ---- running

namespace {

struct PointState {
  PointStatus status = PointStatus::pending;
  std::string error;
  std::vector<std::pair<std::string, std::string>> summary;  // scalar fields of summary.json, in order
  pid_t pid = -1;
  std::string log;
  std::streamoff log_offset = 0;
  std::chrono::steady_clock::time_point started;
  bool resumed = false;
};

class Runner {
 public:
  Runner(Sweep& sweep, const SweepRunOptions& options)
      : sweep_(sweep), options_(options), state_(sweep.points.size()) {}
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  SweepResult run();

 private:
  std::string run_dir(const SweepPoint& p) const { return SweepDir{options_.out_dir}.run(p.name); }
  void prepare_out_dir();
  void load_state();
  void write_results() const;
  std::vector<std::string> command(size_t i, bool resume) const;
  void launch(size_t i);
  void finished(size_t i, int status);
  void report(size_t i);
  /// Launches the queued points, `jobs` at a time, until all are finished or a signal stops it;
  /// `running` holds the points running now.
  void run_points(const std::vector<size_t>& queue, std::vector<size_t>& running);

  Sweep& sweep_;
  SweepRunOptions options_;
  std::vector<PointState> state_;
  std::map<std::string, std::string> previous_status_;  // point -> status in an earlier results.csv
  std::vector<std::string> env_;
  int64_t skipped_ = 0, to_run_ = 0, finished_now_ = 0;
  bool stopping_ = false;
  std::unique_ptr<FileLock> lock_;
  int signals_at_start_ = signal_count();
  std::chrono::steady_clock::time_point t0_;
};

void Runner::prepare_out_dir() { lock_ = prepare_sweep_dir(sweep_, options_); }

void Runner::load_state() {
  const bool force_emptied = options_.force;  // (a dry run shows what --force would run)
  const std::string results = SweepDir{options_.out_dir}.results();
  if (!force_emptied && file_exists(results)) {
    try {
      const auto table = read_csv(results);
      const auto ip = std::find(table.header.begin(), table.header.end(), "point") - table.header.begin();
      const auto is = std::find(table.header.begin(), table.header.end(), "status") - table.header.begin();
      if (size_t(ip) < table.header.size() && size_t(is) < table.header.size())
        for (const auto& row : table.rows) previous_status_[row[size_t(ip)]] = row[size_t(is)];
    } catch (const std::exception& e) {
      log::warn("ignoring the unreadable {}: {}", results, e.what());
    }
  }
  std::vector<std::string> stale;
  for (size_t i = 0; i < sweep_.points.size(); ++i) {
    const auto& p = sweep_.points[i];
    auto& s = state_[i];
    s.log = SweepDir{options_.out_dir}.log(p.name);
    const std::string dir = run_dir(p);
    if (force_emptied || !file_exists(RunDir{dir}.summary())) continue;
    std::string saved;
    try {
      saved = read_file(RunDir{dir}.config());
    } catch (const std::exception&) {
    }
    if (saved != p.resolved) {
      stale.push_back(dir);
      continue;
    }
    try {
      s.summary = read_summary(RunDir{dir}.summary());
      s.status = PointStatus::done;
      ++skipped_;
    } catch (const std::exception& e) {
      log::warn("point {}: unreadable summary.json ({}); running it again", p.name, e.what());
    }
  }
  if (!stale.empty()) {
    std::string list;
    for (size_t i = 0; i < stale.size() && i < 5; ++i) list += "\n  " + stale[i];
    if (stale.size() > 5) list += fmt::format("\n  ... and {} more", stale.size() - 5);
    throw Error(
        fmt::format("{} finished point(s) in '{}' were run with a config that differs from what the sweep gives "
                    "now (did a base config change?); pass --force to start over:{}",
                    stale.size(), options_.out_dir, list));
  }
}

void Runner::write_results() const {
  std::vector<std::string> header{"point", "status", "config"};
  for (const auto& a : sweep_.axes) header.push_back(a.key);
  header.push_back("seed");
  std::set<std::string> fixed(header.begin(), header.end());
  fixed.insert({"error", "dir"});
  std::vector<std::string> fields;
  std::set<std::string> field_set;
  for (const auto& s : state_)
    for (const auto& [k, v] : s.summary)
      if (!fixed.count(k) && field_set.insert(k).second) fields.push_back(k);
  for (const auto& f : fields) header.push_back(csv_cell(f));
  header.push_back("error");
  header.push_back("dir");
  std::string out = fmt::to_string(fmt::join(header, ",")) + "\n";
  for (size_t i = 0; i < sweep_.points.size(); ++i) {
    const auto& p = sweep_.points[i];
    const auto& s = state_[i];
    std::vector<std::string> row{p.name, status_name(s.status), p.config};
    for (const auto& [k, v] : p.values) row.push_back(v);
    row.push_back(std::to_string(p.seed));
    std::map<std::string, std::string> summary(s.summary.begin(), s.summary.end());
    for (const auto& f : fields) row.push_back(summary.count(f) ? summary[f] : "");
    row.push_back(s.error);
    row.push_back("runs/" + p.name);
    for (auto& cell : row) cell = csv_cell(cell);
    out += fmt::to_string(fmt::join(row, ",")) + "\n";
  }
  write_file_atomic(SweepDir{options_.out_dir}.results(), out);
}

std::vector<std::string> Runner::command(size_t i, bool resume) const {
  const auto& p = sweep_.points[i];
  if (resume) return {options_.train_bin, "--resume", run_dir(p)};
  std::vector<std::string> argv{options_.train_bin, "--config", p.config_path};
  argv.insert(argv.end(), p.overrides.begin(), p.overrides.end());
  argv.insert(argv.end(), {"--out", run_dir(p), "--force"});
  return argv;
}

void Runner::launch(size_t i) {
  const auto& p = sweep_.points[i];
  auto& s = state_[i];
  const std::string dir = run_dir(p);
  // An interrupted point continues from its checkpoint when its config is unchanged; a failed
  // one starts over.
  bool resume = false;
  if (previous_status_[p.name] != "failed" && file_exists(RunDir{dir}.checkpoint()) &&
      file_exists(RunDir{dir}.config())) {
    try {
      resume = read_file(RunDir{dir}.config()) == p.resolved;
    } catch (const std::exception&) {
    }
  }
  const auto argv_s = command(i, resume);
  std::string cmdline;
  for (const auto& a : argv_s) cmdline += (cmdline.empty() ? "" : " ") + cli::shell_quote(a);
  {
    std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
    const std::string header = fmt::format("# modnet-sweep {}: point {} ({})\n# {}\n", when, p.name,
                                           resume ? "resumed from its checkpoint" : "fresh", cmdline);
    std::ofstream out(s.log, resume ? std::ios::app : std::ios::trunc);
    if (resume) out << "\n";
    out << header;
    out.flush();
    if (!out) throw Error(fmt::format("cannot write the log '{}'", s.log));
    s.log_offset = out.tellp();
  }
  // If the sweep dies, the point is told to checkpoint and stop (as on SIGTERM).
  const pid_t pid =
      spawn(argv_s, env_, s.log, fmt::format("modnet-sweep: error: cannot run {}\n", options_.train_bin));
  s.pid = pid;
  s.status = PointStatus::running;
  s.resumed = resume;
  s.started = std::chrono::steady_clock::now();
  s.error.clear();
  log::info("start {}{} (pid {})", p.name, resume ? " (resuming its checkpoint)" : "", pid);
}

void Runner::finished(size_t i, int status) {
  const auto& p = sweep_.points[i];
  auto& s = state_[i];
  s.pid = -1;
  const std::string summary = RunDir{run_dir(p)}.summary();
  const bool ok = exited_ok(status);
  if (ok && file_exists(summary)) {
    try {
      s.summary = read_summary(summary);
      s.status = PointStatus::done;
    } catch (const std::exception& e) {
      s.status = PointStatus::failed;
      s.error = fmt::format("unreadable summary.json: {}", e.what());
    }
  } else if (stopping_ || signal_count() > signals_at_start_) {
    // Stopped by the sweep's signal: left to resume.
    s.status = PointStatus::pending;
    s.error = "interrupted (" + describe_exit(status) + ")";
  } else {
    s.status = PointStatus::failed;
    const std::string line = last_error_line(s.log, s.log_offset);
    s.error = ok ? "modnet-train exited 0 but wrote no summary.json" : describe_exit(status);
    if (!line.empty()) s.error += ": " + line;
  }
  ++finished_now_;
  report(i);
}

void Runner::report(size_t i) {
  const auto& p = sweep_.points[i];
  const auto& s = state_[i];
  int64_t done = 0, failed = 0, left = 0;
  for (const auto& st : state_) {
    if (st.status == PointStatus::done) ++done;
    else if (st.status == PointStatus::failed) ++failed;
    else ++left;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  const double eta = finished_now_ > 0 ? elapsed / double(finished_now_) * double(left) : NAN;
  std::string what;
  if (s.status == PointStatus::done) {
    what = "done";
    for (const auto& [k, v] : s.summary)
      if (k == "test_loss") what += " test_loss " + v;
  } else if (s.status == PointStatus::failed) {
    what = "FAILED (" + s.error + ")";
  } else {
    what = "stopped (" + s.error + ")";
  }
  const std::string line =
      fmt::format("[{}/{}] {} {} in {}  |  done {}, failed {}, left {}, elapsed {}, eta {}", done + failed,
                  sweep_.points.size(), p.name, what, Progress::format_duration(secs), done, failed, left,
                  Progress::format_duration(elapsed), stopping_ ? "-" : Progress::format_duration(eta));
  if (s.status == PointStatus::failed) log::warn("{}", line);
  else log::info("{}", line);
}

void Runner::run_points(const std::vector<size_t>& queue, std::vector<size_t>& running) {
  size_t next = 0;
  int handled_signals = signal_count();
  int seen_signals = handled_signals;
  bool killed = false;
  while (true) {
    const int signals = signal_count();
    if (signals > seen_signals) {
      const int sig = last_signal();
      if (!stopping_) {
        stopping_ = true;
        log::warn("{}: stopping; {} running point(s) are told to checkpoint and stop (signal again to kill them)",
                  signal_name(sig), running.size());
        for (auto i : running) send_signal(state_[i].pid, sig);
      } else if (!killed && signals - handled_signals >= 2) {
        killed = true;
        log::warn("{} again: killing {} running point(s)", signal_name(sig), running.size());
        for (auto i : running) send_signal(state_[i].pid, SIGKILL);
      }
      seen_signals = signals;
    }
    while (!stopping_ && running.size() < size_t(options_.jobs) && next < queue.size()) {
      launch(queue[next]);
      running.push_back(queue[next]);
      ++next;
      write_results();
    }
    if (running.empty()) break;
    bool any = false;
    for (size_t r = 0; r < running.size();) {
      const size_t i = running[r];
      if (const auto status = poll_exit(state_[i].pid)) {
        running.erase(running.begin() + long(r));
        finished(i, *status);
        write_results();
        any = true;
      } else {
        ++r;
      }
    }
    if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

SweepResult Runner::run() {
  validate_sweep(sweep_);
  prepare_out_dir();
  load_state();
  SweepResult result;
  result.total = int64_t(sweep_.points.size());
  result.skipped = skipped_;
  std::vector<size_t> queue;
  for (size_t i = 0; i < state_.size(); ++i)
    if (state_[i].status != PointStatus::done) queue.push_back(i);
  to_run_ = int64_t(queue.size());

  std::string shape = fmt::format("{} config(s)", sweep_.configs.size());
  for (const auto& g : sweep_.groups) {
    std::vector<std::string> keys;
    for (auto a : g) keys.push_back(sweep_.axes[a].key);
    shape += fmt::format(" x {} ({})", sweep_.axes[g[0]].values.size(), fmt::join(keys, " = "));
  }
  shape += fmt::format(" x {} seed(s)", sweep_.options.seeds.size());
  const std::string label =
      sweep_.options.name.empty() ? (sweep_.file.empty() ? "sweep" : sweep_.file) : sweep_.options.name;

  if (options_.dry_run) {
    std::string out = fmt::format("sweep {}: {} points = {}; {} already done; modnet-train: {}\n", label,
                                  sweep_.points.size(), shape, skipped_, options_.train_bin);
    for (size_t i = 0; i < sweep_.points.size(); ++i) {
      const auto& p = sweep_.points[i];
      std::string cmd;
      for (const auto& a : command(i, false)) cmd += (cmd.empty() ? "" : " ") + cli::shell_quote(a);
      out += fmt::format("{:>5} {:<7} {}\n      {}\n", i + 1, status_name(state_[i].status), p.name, cmd);
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
    result.done = skipped_;  // nothing was run: a dry run succeeds when the sweep is valid
    return result;
  }

  if (!is_executable(options_.train_bin))
    throw Error(fmt::format("--train-bin '{}' is not an executable file", options_.train_bin));

  // Children share the cores: unless told otherwise, each gets cores/jobs threads.
  env_ = environment();
  if (options_.jobs > 1) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const auto threads = std::to_string(std::max<int64_t>(1, int64_t(cores) / options_.jobs));
    for (const char* var : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"})
      if (!std::getenv(var)) env_.push_back(std::string(var) + "=" + threads);
  }

  write_results();
  log::info("sweep {}: {} points = {}; {} already done, {} to run with {} job(s); results in {}/results.csv", label,
            sweep_.points.size(), shape, skipped_, queue.size(), options_.jobs, options_.out_dir);
  t0_ = std::chrono::steady_clock::now();
  std::vector<size_t> running;
  try {
    run_points(queue, running);
  } catch (...) {
    // Never leave children behind: stop the running points (they checkpoint), then report.
    for (auto i : running) send_signal(state_[i].pid, SIGTERM);
    for (auto i : running) {
      wait_exit(state_[i].pid);
      state_[i].status = PointStatus::pending;
    }
    try {
      write_results();
    } catch (...) {
    }
    throw;
  }
  write_results();

  for (size_t i = 0; i < state_.size(); ++i) {
    const auto& s = state_[i];
    if (s.status == PointStatus::done) ++result.done;
    else if (s.status == PointStatus::failed) {
      ++result.failed;
      result.failures.emplace_back(sweep_.points[i].name, s.error);
    } else ++result.pending;
  }
  result.interrupted = stopping_;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  log::info("sweep {}: {} done ({} before this run), {} failed, {} pending, in {}; results in {}/results.csv", label,
            result.done, result.skipped, result.failed, result.pending, Progress::format_duration(elapsed),
            options_.out_dir);
  for (const auto& [name, error] : result.failures)
    log::error("failed: {} ({}): {}", name, SweepDir{options_.out_dir}.log(name), error);
  if (result.interrupted)
    log::warn("interrupted; run the same command again to resume (finished points are kept)");
  else if (result.failed > 0)
    log::warn("{} point(s) failed; run the same command again to retry them (finished points are kept)", result.failed);
  return result;
}

}  // namespace

SweepResult run_sweep(Sweep& sweep, const SweepRunOptions& options) {
  MODNET_CHECK(options.jobs >= 1, "--jobs: expected an integer >= 1, got {}", options.jobs);
  MODNET_CHECK(!options.out_dir.empty(), "missing required option --out DIR");
  SweepRunOptions o = options;
  if (o.train_bin.empty()) {
    try {
      o.train_bin = default_train_bin();
    } catch (const std::exception&) {
      if (!o.dry_run) throw;
      o.train_bin = "modnet-train";  // only printed
    }
  }
  Runner runner(sweep, o);
  return runner.run();
}

}  // namespace modnet::run
