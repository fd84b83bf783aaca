#include "modnet/core/cli.h"

#include <cctype>
#include <cstdio>
#include <cstring>
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

std::vector<std::string> Args::config_overrides() const {
  std::vector<std::string> all = overrides;
  all.insert(all.end(), flag_overrides.begin(), flag_overrides.end());
  return all;
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
  for (const auto& s : specs) {
    if (s.sets.empty() || !args.has(s.name)) continue;
    if (!s.takes_value) {
      args.flag_overrides.push_back(s.sets + "=true");
    } else {
      const std::string& value = args.values.at(s.name);
      args.flag_overrides.push_back(s.sets + "=" + (s.to_yaml ? s.to_yaml(value) : value));
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

std::string list_argument_yaml(const std::string& text) {
  if (text.empty() || text.front() == '[') return text;
  if (const auto colon = text.find(':'); colon != std::string::npos) {
    int64_t lo = 0, hi = 0;
    try {
      size_t used_lo = 0, used_hi = 0;
      lo = std::stoll(text.substr(0, colon), &used_lo);
      hi = std::stoll(text.substr(colon + 1), &used_hi);
      if (used_lo != colon || used_hi != text.size() - colon - 1) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error(fmt::format("list '{}': a range must look like LO:HI with integers", text));
    }
    MODNET_CHECK(lo <= hi && hi - lo <= 10000, "list '{}': a range LO:HI needs LO <= HI (and at most 10001 values)",
                 text);
    std::string out = "[";
    for (int64_t v = lo; v <= hi; ++v) out += (v > lo ? ", " : "") + std::to_string(v);
    return out + "]";
  }
  return "[" + text + "]";
}

std::string shell_quote(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-_./=,:+@%", c) != nullptr);
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
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
