#pragma once
// Minimal levelled logging through fmt to stderr, with the wall time since start-up.
#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace modnet::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, quiet = 4 };

Level level();
void set_level(Level l);
/// Parses "debug|info|warn|error|quiet" (throws ConfigError otherwise).
Level parse_level(const std::string& name);
double seconds_since_start();
void write(Level l, const std::string& line);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::debug) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::info) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::warn) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::error) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace modnet::log
