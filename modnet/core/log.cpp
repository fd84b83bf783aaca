#include "modnet/core/log.h"

#include <atomic>
#include <mutex>

#include "modnet/core/error.h"

namespace modnet::log {
namespace {
std::atomic<Level> g_level{Level::info};
const auto g_start = std::chrono::steady_clock::now();
std::mutex g_mutex;
}  // namespace

Level level() { return g_level.load(); }
void set_level(Level l) { g_level.store(l); }

Level parse_level(const std::string& name) {
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warn") return Level::warn;
  if (name == "error") return Level::error;
  if (name == "quiet") return Level::quiet;
  throw ConfigError(fmt::format("log level '{}': expected one of debug, info, warn, error, quiet", name));
}

double seconds_since_start() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
}

void write(Level l, const std::string& line) {
  static const char* names[] = {"debug", "info", "warn", "error", ""};
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "[%8.2fs %-5s] %s\n", seconds_since_start(), names[static_cast<int>(l)], line.c_str());
  std::fflush(stderr);
}

}  // namespace modnet::log
