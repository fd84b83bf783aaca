#pragma once
// Command-line handling shared by the apps: flags, `key.sub=value` overrides, and one place that
// turns any error into a single line on stderr and a non-zero exit status.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace modnet::cli {

struct FlagSpec {
  std::string name;        // "--config"
  bool takes_value = true;
  std::string help;
  std::string metavar = "VALUE";
};

struct Args {
  std::map<std::string, std::string> values;  // flags with values
  std::set<std::string> switches;             // flags without values that were given
  std::vector<std::string> overrides;         // key.sub=value
  bool has(const std::string& flag) const { return values.count(flag) || switches.count(flag); }
  std::optional<std::string> get(const std::string& flag) const;
  /// The value of a required flag (modnet::Error naming the flag when absent).
  std::string require(const std::string& flag) const;
  /// The value as an integer (modnet::Error when it is not one).
  std::optional<int64_t> get_int(const std::string& flag) const;
};

/// Parses argv against the specs; `--help` prints usage and exits 0. Unknown flags, a missing
/// value and stray positional words are errors naming the word.
Args parse(int argc, char** argv, const std::string& usage, const std::vector<FlagSpec>& specs,
           bool allow_overrides = true);

/// Parses a number given for `flag` (modnet::Error naming the flag otherwise).
double to_double(const std::string& flag, const std::string& text);

/// Splits a comma-separated list ("0,0.5,1") into its items (empty items are errors naming `flag`).
std::vector<std::string> split_list(const std::string& flag, const std::string& text);
/// A comma-separated list of numbers given for `flag`.
std::vector<double> to_doubles(const std::string& flag, const std::string& text);

/// Runs an app body: every exception becomes "NAME: error: MESSAGE" on stderr and exit status 1.
int run_main(const std::string& name, const std::function<int()>& body);

}  // namespace modnet::cli
