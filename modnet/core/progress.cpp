#include "modnet/core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "modnet/core/log.h"

namespace modnet {

Progress::Progress(std::string label, int64_t total, int64_t start, bool enabled, double log_interval_s)
    : label_(std::move(label)),
      total_(total),
      start_(start),
      enabled_(enabled && log::level() <= log::Level::info),
      tty_(::isatty(STDERR_FILENO) != 0),
      interval_(log_interval_s),
      t0_(std::chrono::steady_clock::now()),
      last_(t0_) {}

Progress::~Progress() { finish(); }

std::string Progress::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{:02}:{:02}", t / 60, t % 60);
}

std::string Progress::render(int64_t done, const std::string& status, bool bar) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  const double rate = elapsed > 0 ? double(done - start_) / elapsed : 0.0;
  const double eta = rate > 0 ? double(total_ - done) / rate : NAN;
  const double frac = total_ > 0 ? double(done) / double(total_) : 1.0;
  std::string head = label_ + " ";
  if (bar) {
    const int width = 24, filled = static_cast<int>(frac * width);
    head += "[" + std::string(size_t(filled), '=') + (filled < width ? ">" : "") +
            std::string(size_t(std::max(0, width - filled - 1)), ' ') + "] ";
  }
  return fmt::format("{}{}/{} ({:.0f}%) {:.1f}/s elapsed {} eta {}{}{}", head, done, total_, 100 * frac, rate,
                     format_duration(elapsed), format_duration(eta), status.empty() ? "" : "  ", status);
}

void Progress::update(int64_t done, const std::string& status) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (std::chrono::duration<double>(now - last_).count() < 0.1 && done < total_) return;
    last_ = now;
    std::fprintf(stderr, "\r%s\033[K", render(done, status, true).c_str());
    std::fflush(stderr);
  } else if (std::chrono::duration<double>(now - last_).count() >= interval_ || done == total_) {
    last_ = now;
    log::info("{}", render(done, status, false));
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_ && tty_) {
    std::fputc('\n', stderr);
    std::fflush(stderr);
  }
}

}  // namespace modnet
