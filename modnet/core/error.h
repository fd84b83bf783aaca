#pragma once
// Errors raised by modnet. Every message names the input it is about and what was expected,
// so that an app can print it as one line and exit non-zero.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace modnet {

/// Base of all errors modnet raises on bad input (config, data files, command line).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// A configuration value or key is wrong; the message names the key and its source.
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& what) : Error(what) {}
};

/// A data file is missing or malformed; the message names the file.
class DataError : public Error {
 public:
  explicit DataError(const std::string& what) : Error(what) {}
};

}  // namespace modnet

/// Throws modnet::Error (or the given subclass) with an fmt-formatted message when cond is false.
#define MODNET_CHECK(cond, ...)                              \
  do {                                                       \
    if (!(cond)) throw ::modnet::Error(fmt::format(__VA_ARGS__)); \
  } while (0)
#define MODNET_CHECK_AS(ErrorType, cond, ...)                \
  do {                                                       \
    if (!(cond)) throw ErrorType(fmt::format(__VA_ARGS__));  \
  } while (0)
