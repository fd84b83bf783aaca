#include "modnet/core/cli.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

#include <fmt/format.h>

#include "modnet/core/error.h"

namespace modnet::cli {

std::optional<std::string> Args::get(const std::string& flag) const {
  auto it = values.find(flag);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::string Args::require(const std::string& flag) const {
  auto v = get(flag);
  if (!v) throw Error(fmt::format("missing required option {}", flag));
  return *v;
}

std::optional<int64_t> Args::get_int(const std::string& flag) const {
  auto v = get(flag);
  if (!v) return std::nullopt;
  try {
    size_t used = 0;
    const long long x = std::stoll(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
    return x;
  } catch (const std::exception&) {
    throw Error(fmt::format("option {}: expected an integer, got '{}'", flag, *v));
  }
}

static void print_usage(const std::string& usage, const std::vector<FlagSpec>& specs) {
  std::string text = "usage: " + usage + "\n\noptions:\n";
  for (const auto& s : specs) {
    const std::string left = s.takes_value ? s.name + " " + s.metavar : s.name;
    text += fmt::format("  {:<24} {}\n", left, s.help);
  }
  text += fmt::format("  {:<24} {}\n", "--help", "show this help");
  std::fputs(text.c_str(), stdout);
}

Args parse(int argc, char** argv, const std::string& usage, const std::vector<FlagSpec>& specs,
           bool allow_overrides) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--help" || word == "-h") {
      print_usage(usage, specs);
      std::exit(0);
    }
    if (word.rfind("--", 0) == 0) {
      std::string name = word, value;
      bool inline_value = false;
      if (auto eq = word.find('='); eq != std::string::npos) {
        name = word.substr(0, eq);
        value = word.substr(eq + 1);
        inline_value = true;
      }
      const FlagSpec* spec = nullptr;
      for (const auto& s : specs)
        if (s.name == name) spec = &s;
      if (!spec) throw Error(fmt::format("unknown option '{}' (see --help)", name));
      if (spec->takes_value) {
        if (!inline_value) {
          if (i + 1 >= argc) throw Error(fmt::format("option {} needs a value ({})", name, spec->metavar));
          value = argv[++i];
        }
        args.values[name] = value;
      } else {
        if (inline_value) throw Error(fmt::format("option {} takes no value", name));
        args.switches.insert(name);
      }
    } else if (allow_overrides && word.find('=') != std::string::npos && word[0] != '=') {
      args.overrides.push_back(word);
    } else {
      throw Error(fmt::format("unexpected argument '{}'{} (see --help)", word,
                              allow_overrides ? "; config overrides look like key.sub=value" : ""));
    }
  }
  return args;
}

double to_double(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw Error(fmt::format("option {}: expected a number, got '{}'", flag, text));
  }
}

std::vector<std::string> split_list(const std::string& flag, const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (items.back().empty()) throw Error(fmt::format("option {}: empty item in the list '{}'", flag, text));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

std::vector<double> to_doubles(const std::string& flag, const std::string& text) {
  std::vector<double> values;
  for (const auto& item : split_list(flag, text)) values.push_back(to_double(flag, item));
  return values;
}

int run_main(const std::string& name, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // c10::Error carries a backtrace after the first line; keep the message only.
    if (auto nl = msg.find("\nException raised from"); nl != std::string::npos) msg = msg.substr(0, nl);
    std::fprintf(stderr, "%s: error: %s\n", name.c_str(), msg.c_str());
    return 1;
  }
}

}  // namespace modnet::cli
