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
  /// A shorthand for a config key: `--flag V` is the override `sets=V` (a switch: `sets=true`),
  /// applied after the key=value words so that the flag wins. Empty: an ordinary flag.
  std::string sets = "";
  /// How the typed value becomes YAML for `sets` (default: as typed), e.g. list_argument_yaml.
  std::function<std::string(const std::string&)> to_yaml = nullptr;
};

struct Args {
  std::map<std::string, std::string> values;  // flags with values
  std::set<std::string> switches;             // flags without values that were given
  std::vector<std::string> overrides;         // key.sub=value
  std::vector<std::string> flag_overrides;    // from flags with FlagSpec::sets, in spec order
  /// Every config override given: the key=value words, then the flags that set keys.
  std::vector<std::string> config_overrides() const;
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

/// A list as typed on the command line → YAML: "2:9" (integer range) → "[2, 3, …, 9]", "87,213" →
/// "[87,213]", "[…]" or a single value unchanged. modnet::Error on a malformed range.
std::string list_argument_yaml(const std::string& text);

/// `word` as one POSIX shell word: unchanged when it is made of safe characters only, otherwise
/// single-quoted (a command line that can be pasted into a shell).
std::string shell_quote(const std::string& word);

/// Runs an app body: every exception becomes "NAME: error: MESSAGE" on stderr and exit status 1.
int run_main(const std::string& name, const std::function<int()>& body);

}  // namespace modnet::cli
