#pragma once
// Progress of a long loop: a live bar on a terminal, a plain line every few seconds otherwise.
#include <chrono>
#include <cstdint>
#include <string>

namespace modnet {

/// Seconds of steady-clock time since `t0`.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class Progress {
 public:
  /// `total` units, starting at `start` (resumed runs), labelled `label`.
  Progress(std::string label, int64_t total, int64_t start, bool enabled, double log_interval_s);
  ~Progress();
  /// Reports that `done` units are complete; `status` is shown after the counts (e.g. the loss).
  void update(int64_t done, const std::string& status = "");
  /// Ends the bar's line.
  void finish();
  static std::string format_duration(double seconds);

 private:
  std::string render(int64_t done, const std::string& status, bool bar) const;
  std::string label_;
  int64_t total_, start_;
  bool enabled_, tty_, finished_ = false;
  double interval_;
  std::chrono::steady_clock::time_point t0_, last_;
};

}  // namespace modnet
