#include "modnet/train/sweep.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "modnet/analysis/report.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/log.h"
#include "modnet/train/experiment.h"
#include "modnet/train/metrics.h"
#include "modnet/train/progress.h"

extern char** environ;

namespace fs = std::filesystem;

namespace modnet::train {

namespace {

constexpr size_t kMaxNameLength = 200;

// ---- small helpers

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// Point names join `key=value` parts with "__": commas would be safer to read but cannot appear
// in the plain CSV cells of results.csv (the `point` and `dir` columns must name the directory).
const char* const kPartSeparator = "__";

bool allowed_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '=' || c == '-';
}

/// A node as override text: scalars as written, lists and maps in YAML flow style.
std::string node_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

/// One line, no commas: safe in a plain CSV cell.
std::string csv_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ',') out += ';';
    else if (c == '\n' || c == '\r' || c == '\t') out += ' ';
    else out += c;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

/// A value as part of a point name: "[8, 8]" -> "8-8", other odd characters -> '_'.
std::string name_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (std::strchr("[]{}\"' ", c) != nullptr) continue;
    out += c == ',' ? '-' : allowed_name_char(c) ? c : '_';
  }
  return out.empty() ? "_" : out;
}

std::string override_key(const std::string& assignment) { return assignment.substr(0, assignment.find('=')); }

bool same_node(const YAML::Node& a, const YAML::Node& b) {
  const bool a_null = !a.IsDefined() || a.IsNull(), b_null = !b.IsDefined() || b.IsNull();
  if (a_null || b_null) return a_null == b_null;
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) return a.Scalar() == b.Scalar();
  if (a.size() != b.size()) return false;
  if (a.IsSequence()) {
    for (size_t i = 0; i < a.size(); ++i)
      if (!same_node(a[i], b[i])) return false;
    return true;
  }
  auto ia = a.begin();
  auto ib = b.begin();
  for (; ia != a.end(); ++ia, ++ib) {
    if (ia->first.Scalar() != ib->first.Scalar()) return false;
    if (!same_node(ia->second, ib->second)) return false;
  }
  return true;
}

// ---- signals

std::atomic<int> g_signals{0};
std::atomic<int> g_last_signal{0};
void on_sweep_signal(int sig) {
  g_last_signal.store(sig);
  g_signals.fetch_add(1);
}

}  // namespace

std::string sanitize_name(const std::string& text) {
  std::string out = text;
  for (auto& c : out)
    if (!allowed_name_char(c)) c = '_';
  return out;
}

std::string status_name(PointStatus status) {
  switch (status) {
    case PointStatus::done: return "done";
    case PointStatus::failed: return "failed";
    default: return "pending";  // running points are pending until they finish
  }
}

void install_sweep_signal_handlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sweep_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a sleep is cut short
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// ---- the sweep file

void SweepRange::resolve(const config::Reader& r) {
  const auto& values = logspace ? *logspace : *linspace;
  const char* kind = logspace ? "logspace" : "linspace";
  r.check(values.size() == 2, fmt::format("{} needs [lo, hi], got {} value(s)", kind, values.size()));
  r.check(std::isfinite(values[0]) && std::isfinite(values[1]), fmt::format("{} bounds must be finite", kind));
  if (logspace)
    r.check(values[0] > 0 && values[1] > 0,
            fmt::format("logspace bounds must be > 0, got [{}, {}]", values[0], values[1]));
}

std::vector<std::string> expand_range(const SweepRange& range) {
  const auto& bounds = range.logspace ? *range.logspace : *range.linspace;
  const double lo = bounds.at(0), hi = bounds.at(1);
  std::vector<std::string> out;
  for (int64_t i = 0; i < range.num; ++i) {
    double v;
    if (i == 0) v = lo;
    else if (i == range.num - 1) v = hi;
    else {
      const double t = double(i) / double(range.num - 1);
      v = range.logspace ? std::exp(std::log(lo) + t * (std::log(hi) - std::log(lo))) : lo + t * (hi - lo);
    }
    // 12 significant digits: 0.01, not 0.010000000000000002, in configs and point names.
    const std::string text =
        range.integer ? std::to_string(std::llround(v)) : number(std::stod(fmt::format("{:.12g}", v)));
    if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(text);
  }
  return out;
}

Sweep load_sweep(const std::string& path, const std::vector<std::string>& extra_overrides) {
  const auto doc = config::load_file(path);
  auto dir = fs::path(path).parent_path();
  Sweep sweep = parse_sweep(doc, dir.empty() ? "." : dir.string(), extra_overrides);
  sweep.file = path;
  return sweep;
}

Sweep parse_sweep(const config::Document& doc, const std::string& base_dir,
                  const std::vector<std::string>& extra_overrides) {
  Sweep sweep;
  sweep.file = doc.origin ? doc.origin->file : "";
  sweep.options = config::read<SweepOptions>(doc);
  auto& o = sweep.options;
  const config::Reader r(doc.root, "", doc.origin);
  const YAML::Node& root = doc.root;

  auto resolve_path = [&](const std::string& key, const YAML::Node& at, const std::string& p) {
    fs::path full = fs::path(p).is_absolute() ? fs::path(p) : fs::path(base_dir) / p;
    full = full.lexically_normal();
    if (!fs::is_regular_file(full))
      r.fail(key, at, fmt::format("an experiment config file (relative to the sweep file); '{}' does not exist",
                                  full.string()));
    return full.string();
  };

  // The configs axis.
  if (o.base) {
    sweep.configs.emplace_back(fs::path(*o.base).stem().string(), resolve_path("base", root["base"], *o.base));
  } else {
    const YAML::Node& c = o.configs;
    auto add = [&](const std::string& name, const YAML::Node& at, const std::string& p, const std::string& key) {
      if (name.empty() || sanitize_name(name) != name)
        r.fail(key, at, "a config name of letters, digits and . _ = -");
      for (const auto& [n, _] : sweep.configs)
        if (n == name) r.fail(key, at, fmt::format("a config name not used twice ('{}' is)", name));
      sweep.configs.emplace_back(name, resolve_path(key, at, p));
    };
    if (c.IsMap() && c.size() > 0) {
      for (auto it = c.begin(); it != c.end(); ++it) {
        const std::string name = it->first.as<std::string>();
        if (!it->second.IsScalar()) r.fail("configs." + name, it->second, "a config file path");
        add(name, it->second, it->second.Scalar(), "configs." + name);
      }
    } else if (c.IsSequence() && c.size() > 0) {
      for (size_t i = 0; i < c.size(); ++i) {
        if (!c[i].IsScalar()) r.fail(fmt::format("configs[{}]", i), c[i], "a config file path");
        add(fs::path(c[i].Scalar()).stem().string(), c[i], c[i].Scalar(), fmt::format("configs[{}]", i));
      }
    } else {
      r.fail("configs", c, "a non-empty map {name: config path} or list of config paths");
    }
  }

  // Fixed overrides (the file's, then the command line's).
  for (size_t i = 0; i < o.overrides.size(); ++i) {
    const auto& a = o.overrides[i];
    const YAML::Node at = root["overrides"].IsSequence() ? root["overrides"][i] : root["overrides"];
    if (a.find('=') == std::string::npos || a[0] == '=')
      r.fail(fmt::format("overrides[{}]", i), at, "key.sub=value");
    if (override_key(a) == "seed") r.fail(fmt::format("overrides[{}]", i), at, "no seed override (use seeds: [...])");
  }
  for (const auto& a : extra_overrides) {
    if (a.find('=') == std::string::npos || a[0] == '=')
      throw ConfigError(fmt::format("config error: override '{}': expected key.sub=value", a));
    if (override_key(a) == "seed")
      throw ConfigError(fmt::format("config error: override '{}': a sweep sets the seed; use seeds: [...]", a));
    o.overrides.push_back(a);
  }

  // Axes.
  const YAML::Node& axes = o.axes;
  if (axes.IsDefined() && !axes.IsNull()) {
    if (!axes.IsMap()) r.fail("axes", axes, "a map {config key: values}");
    for (auto it = axes.begin(); it != axes.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      const std::string kpath = "axes." + key;
      const YAML::Node& value = it->second;
      bool ok_key = !key.empty() && key.front() != '.' && key.back() != '.' && key.find("..") == std::string::npos;
      for (char ch : key) ok_key = ok_key && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.');
      if (!ok_key) r.fail(kpath, it->first, "an axis named by a config key such as task.n_train");
      if (key == "seed") r.fail(kpath, it->first, "no seed axis (use seeds: [...])");
      if (key == "config") r.fail(kpath, it->first, "no axis named config (use configs: {name: path})");
      SweepAxis axis;
      axis.key = key;
      if (value.IsMap()) {
        axis.values = expand_range(config::read<SweepRange>(value, kpath, doc.origin));
      } else if (value.IsSequence()) {
        if (value.size() == 0) r.fail(kpath, value, "a non-empty list of values");
        for (size_t i = 0; i < value.size(); ++i) {
          if (!value[i].IsDefined() || value[i].IsNull()) r.fail(fmt::format("{}[{}]", kpath, i), value[i], "a value");
          axis.values.push_back(node_text(value[i]));
        }
        std::set<std::string> seen;
        for (size_t i = 0; i < axis.values.size(); ++i)
          if (!seen.insert(axis.values[i]).second)
            r.fail(fmt::format("{}[{}]", kpath, i), value[i], "values not repeated");
      } else if (value.IsScalar()) {
        axis.values.push_back(value.Scalar());
      } else {
        r.fail(kpath, value, "a list of values or {logspace|linspace: [lo, hi], num: N}");
      }
      sweep.axes.push_back(std::move(axis));
    }
  }
  auto axis_index = [&](const std::string& key) -> std::optional<size_t> {
    for (size_t i = 0; i < sweep.axes.size(); ++i)
      if (sweep.axes[i].key == key) return i;
    return std::nullopt;
  };
  for (const auto& a : o.overrides) {
    // An axis wins over a fixed override of the same key (it comes later); say so only in the log.
    if (axis_index(override_key(a))) log::debug("sweep: axis {} overrides the fixed override '{}'", override_key(a), a);
  }

  // Zip groups.
  std::vector<int> group_of(sweep.axes.size(), -1);
  for (size_t g = 0; g < o.zip.size(); ++g) {
    const YAML::Node at = root["zip"].IsSequence() ? root["zip"][g] : root["zip"];
    const auto& keys = o.zip[g];
    if (keys.size() < 2)
      r.fail(fmt::format("zip[{}]", g), at,
             "a list of at least two axis keys, e.g. zip: [[task.n_train, train.steps]]");
    size_t length = 0;
    for (size_t j = 0; j < keys.size(); ++j) {
      const YAML::Node kat = at.IsSequence() && j < at.size() ? at[j] : at;
      const auto idx = axis_index(keys[j]);
      if (!idx)
        r.fail(fmt::format("zip[{}][{}]", g, j), kat, fmt::format("an axis key ('{}' is not under axes:)", keys[j]));
      if (group_of[*idx] >= 0)
        r.fail(fmt::format("zip[{}][{}]", g, j), kat,
               fmt::format("an axis in one zip group only ('{}' is in two)", keys[j]));
      group_of[*idx] = static_cast<int>(g);
      const size_t n = sweep.axes[*idx].values.size();
      if (j == 0) length = n;
      else if (n != length)
        r.fail(fmt::format("zip[{}]", g), at,
               fmt::format("axes of the same length ({} has {} values, {} has {})", keys[0], length, keys[j], n));
    }
  }
  std::vector<bool> emitted(o.zip.size(), false);
  for (size_t i = 0; i < sweep.axes.size(); ++i) {
    if (group_of[i] < 0) {
      sweep.groups.push_back({i});
    } else if (!emitted[size_t(group_of[i])]) {
      emitted[size_t(group_of[i])] = true;
      std::vector<size_t> members;
      for (size_t j = 0; j < sweep.axes.size(); ++j)
        if (group_of[j] == group_of[i]) members.push_back(j);
      sweep.groups.push_back(members);
    }
  }

  // Config-scoped keys: `only: {key: [config names]}` applies an axis or fixed override to those
  // configs alone (e.g. model.module_dim, which a monolithic model does not have).
  std::map<std::string, std::set<std::string>> only;
  const YAML::Node& only_node = o.only;
  if (only_node.IsDefined() && !only_node.IsNull()) {
    if (!only_node.IsMap()) r.fail("only", only_node, "a map {config key: [config names]}");
    for (auto it = only_node.begin(); it != only_node.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      const std::string kpath = "only." + key;
      const bool known = axis_index(key).has_value() ||
                         std::any_of(o.overrides.begin(), o.overrides.end(),
                                     [&](const std::string& a) { return override_key(a) == key; });
      if (!known)
        r.fail(kpath, it->first, fmt::format("a key of an axis or of a fixed override ('{}' is neither)", key));
      std::vector<std::string> names;
      if (it->second.IsScalar()) names.push_back(it->second.Scalar());
      else if (it->second.IsSequence() && it->second.size() > 0)
        for (size_t i = 0; i < it->second.size(); ++i) {
          if (!it->second[i].IsScalar()) r.fail(fmt::format("{}[{}]", kpath, i), it->second[i], "a config name");
          names.push_back(it->second[i].Scalar());
        }
      else r.fail(kpath, it->second, "a non-empty list of config names");
      std::string valid;
      for (const auto& [n, _] : sweep.configs) valid += (valid.empty() ? "" : ", ") + n;
      for (size_t i = 0; i < names.size(); ++i) {
        const bool found = std::any_of(sweep.configs.begin(), sweep.configs.end(),
                                       [&](const auto& c) { return c.first == names[i]; });
        if (!found)
          r.fail(it->second.IsSequence() ? fmt::format("{}[{}]", kpath, i) : kpath,
                 it->second.IsSequence() ? it->second[i] : it->second, "one of the configs: " + valid);
        only[key].insert(names[i]);
      }
    }
  }
  auto applies = [&](const std::string& key, const std::string& config_name) {
    auto it = only.find(key);
    return it == only.end() || it->second.count(config_name) > 0;
  };

  // Seeds.
  if (o.seeds.empty()) r.fail("seeds", root["seeds"], "a non-empty list of seeds");
  {
    std::set<int64_t> seen;
    for (auto s : o.seeds)
      if (!seen.insert(s).second) r.fail("seeds", root["seeds"], fmt::format("seeds not repeated ({} is)", s));
  }

  // Points: seeds outermost (an unfinished sweep has whole curves for its first seeds), then the
  // configs, then the axis groups with the last varying fastest.
  std::vector<size_t> sizes;
  for (const auto& g : sweep.groups) sizes.push_back(sweep.axes[g[0]].values.size());
  size_t combos = 1;
  for (auto s : sizes) combos *= s;
  const bool name_config = sweep.configs.size() > 1;
  const bool sets_name = std::any_of(o.overrides.begin(), o.overrides.end(),
                                     [](const std::string& a) { return override_key(a) == "name"; }) ||
                         axis_index("name").has_value();
  std::set<std::string> identities;
  for (auto seed : o.seeds) {
    for (const auto& [cname, cpath] : sweep.configs) {
      for (size_t c = 0; c < combos; ++c) {
        SweepPoint p;
        p.config = cname;
        p.config_path = cpath;
        p.seed = seed;
        std::vector<size_t> choice(sweep.axes.size(), 0);
        size_t rest = c;
        for (size_t g = sweep.groups.size(); g-- > 0;) {
          const size_t k = rest % sizes[g];
          rest /= sizes[g];
          for (auto a : sweep.groups[g]) choice[a] = k;
        }
        std::vector<std::string> parts;
        if (name_config) parts.push_back("config=" + cname);
        for (size_t a = 0; a < sweep.axes.size(); ++a) {
          const auto& axis = sweep.axes[a];
          if (!applies(axis.key, cname)) {
            p.values.emplace_back(axis.key, "");
            continue;
          }
          p.values.emplace_back(axis.key, axis.values[choice[a]]);
          if (axis.values.size() > 1) parts.push_back(axis.key + "=" + name_value(axis.values[choice[a]]));
        }
        const std::string setting = join(parts, kPartSeparator);
        p.name = (setting.empty() ? "" : setting + kPartSeparator) + "seed=" + std::to_string(seed);
        for (const auto& a : o.overrides)
          if (applies(override_key(a), cname)) p.overrides.push_back(a);
        if (!sets_name) {
          // Runs of one setting share a name across seeds, so modnet-report groups them.
          std::string run_name = setting.empty() ? cname : setting;
          if (run_name.size() > kMaxNameLength) run_name = fmt::format("setting-{:016x}", fnv1a(setting));
          p.overrides.push_back("name=" + run_name);
        }
        for (const auto& [key, value] : p.values)
          if (applies(key, cname)) p.overrides.push_back(key + "=" + value);
        p.overrides.push_back("seed=" + std::to_string(seed));
        // Points that differ only in axes that do not apply to their config are run once.
        if (!identities.insert(p.config + "\n" + join(p.overrides, "\n")).second) continue;
        sweep.points.push_back(std::move(p));
      }
    }
  }
  // Unique, bounded names: an index and a hash of the point's overrides where needed.
  std::map<std::string, int> count;
  for (const auto& p : sweep.points) ++count[p.name];
  for (size_t i = 0; i < sweep.points.size(); ++i) {
    auto& p = sweep.points[i];
    if (count[p.name] > 1 || p.name.size() > kMaxNameLength)
      p.name = fmt::format("p{:05}-{:08x}", i, fnv1a(p.config + "\n" + join(p.overrides, "\n")) & 0xffffffffULL);
  }
  return sweep;
}

void validate_sweep(Sweep& sweep) {
  std::map<std::string, config::Document> bases;
  const std::string file = sweep.file.empty() ? "<sweep>" : sweep.file;
  for (auto& p : sweep.points) {
    if (!bases.count(p.config_path)) bases[p.config_path] = config::load_file(p.config_path);
    const auto& base = bases[p.config_path];
    config::Document doc;
    doc.root = config::clone(base.root);
    doc.origin = std::make_shared<config::Origin>(*base.origin);
    try {
      for (const auto& o : p.overrides) config::apply_override(doc, o);
      p.resolved = experiment_config_yaml(parse_experiment_config(doc));
    } catch (const ConfigError& e) {
      // The overrides come from the sweep, not the command line.
      std::string message = e.what();
      for (size_t at; (at = message.find("command-line override")) != std::string::npos;)
        message.replace(at, std::strlen("command-line override"), "sweep override");
      throw ConfigError(fmt::format("sweep {}: point '{}' (config {} = {}): {}", file, p.name, p.config,
                                    p.config_path, message));
    }
  }
}

YAML::Node sweep_yaml(const Sweep& sweep) {
  YAML::Node written = config::write(sweep.options);
  YAML::Node node(YAML::NodeType::Map);
  for (auto it = written.begin(); it != written.end(); ++it)
    if (it->second.IsDefined() && !it->second.IsNull()) node[it->first.as<std::string>()] = it->second;
  if (sweep.options.base) {
    node["base"] = fs::absolute(sweep.configs.at(0).second).lexically_normal().string();
  } else {
    YAML::Node configs(YAML::NodeType::Map);
    for (const auto& [name, path] : sweep.configs) configs[name] = fs::absolute(path).lexically_normal().string();
    node["configs"] = configs;
  }
  return node;
}

bool same_sweep(const YAML::Node& a, const YAML::Node& b) {
  auto strip = [](const YAML::Node& n) {
    YAML::Node c = config::clone(n);
    if (c["base"].IsDefined()) c["base"] = "";
    if (c["configs"].IsMap()) {
      YAML::Node names(YAML::NodeType::Sequence);
      for (auto it = c["configs"].begin(); it != c["configs"].end(); ++it) names.push_back(it->first.as<std::string>());
      c["configs"] = names;
    }
    return c;
  };
  return same_node(strip(a), strip(b));
}

std::string default_train_bin() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot locate this executable (/proc/self/exe); pass --train-bin PATH to modnet-train");
  const auto bin = self.parent_path() / "modnet-train";
  if (::access(bin.c_str(), X_OK) != 0)
    throw Error(fmt::format("modnet-train not found beside {} (expected {}); pass --train-bin PATH", self.string(),
                            bin.string()));
  return bin.string();
}

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

std::vector<std::pair<std::string, std::string>> read_summary(const std::string& path) {
  const YAML::Node s = YAML::LoadFile(path);
  std::vector<std::pair<std::string, std::string>> out;
  if (!s.IsMap()) throw DataError(fmt::format("'{}': expected a JSON object", path));
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (it->second.IsScalar()) out.emplace_back(it->first.as<std::string>(), it->second.Scalar());
    else if (it->second.IsNull()) out.emplace_back(it->first.as<std::string>(), "nan");  // a non-finite number
  }
  return out;
}

/// The last line that looks like an error in `log` after `offset` (else its last line).
std::string last_error_line(const std::string& log, std::streamoff offset) {
  std::string text;
  try {
    text = read_file(log);
  } catch (const std::exception&) {
    return "";
  }
  if (offset > 0 && size_t(offset) <= text.size()) text = text.substr(size_t(offset));
  std::string last, last_error;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    // A progress bar's carriage returns: keep the text after the last one.
    if (auto cr = line.rfind('\r'); cr != std::string::npos) line = line.substr(cr + 1);
    last = line;
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.find("error") != std::string::npos || lower.find("terminate called") != std::string::npos ||
        lower.find("what():") != std::string::npos)
      last_error = line;
  }
  return last_error.empty() ? last : last_error;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "stopped";
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

class Runner {
 public:
  Runner(Sweep& sweep, const SweepRunOptions& options)
      : sweep_(sweep), options_(options), state_(sweep.points.size()) {}
  ~Runner() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  SweepResult run();

 private:
  std::string run_dir(const SweepPoint& p) const { return options_.out_dir + "/runs/" + p.name; }
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
  int lock_fd_ = -1;
  int signals_at_start_ = g_signals.load();
  std::chrono::steady_clock::time_point t0_;
};

void Runner::prepare_out_dir() {
  const fs::path dir(options_.out_dir);
  const fs::path saved = dir / "sweep.yaml";
  const YAML::Node now = sweep_yaml(sweep_);
  if (fs::exists(dir) && !fs::is_directory(dir))
    throw Error(fmt::format("--out '{}' exists and is not a directory", options_.out_dir));
  const bool holds_something = fs::exists(dir) && std::any_of(fs::directory_iterator(dir), fs::directory_iterator(),
                                                                [](const fs::directory_entry& e) {
                                                                  return e.path().filename() != "sweep.lock";
                                                                });
  if (holds_something) {
    if (options_.force) {
      // Emptied below, once the lock is held.
    } else if (!fs::exists(saved)) {
      throw Error(fmt::format("--out '{}' exists and holds no sweep (no sweep.yaml); choose another directory or pass "
                              "--force to empty it", options_.out_dir));
    } else {
      YAML::Node before;
      try {
        before = YAML::LoadFile(saved.string());
      } catch (const YAML::Exception& e) {
        throw DataError(fmt::format("'{}': not valid YAML: {}", saved.string(), e.what()));
      }
      if (!same_sweep(before, now))
        throw Error(fmt::format("'{}' holds a different sweep (see {}); re-run the same sweep to resume it, or pass "
                                "--force to empty the directory, or choose another --out",
                                options_.out_dir, saved.string()));
    }
  }
  if (options_.dry_run) return;
  // One modnet-sweep at a time per directory (the lock goes with the process, even when killed).
  fs::create_directories(dir);
  lock_fd_ = ::open((dir / "sweep.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    throw Error(fmt::format("cannot create '{}': {}", (dir / "sweep.lock").string(), std::strerror(errno)));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
    throw Error(fmt::format("'{}' is in use by another modnet-sweep (it holds {}); wait for it or stop it first",
                            options_.out_dir, (dir / "sweep.lock").string()));
  if (holds_something && options_.force) {
    log::warn("--force: emptying {}", options_.out_dir);
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().filename() != "sweep.lock") fs::remove_all(entry.path());
  }
  fs::create_directories(dir / "runs");
  write_file_atomic(
      saved.string(),
      fmt::format("# Written by modnet-sweep from {}; re-running into this directory resumes the "
                  "sweep and requires the same sweep.\n",
                  sweep_.file.empty() ? "<sweep>" : fs::absolute(sweep_.file).lexically_normal().string()) +
          config::to_yaml(now));
}

void Runner::load_state() {
  const bool force_emptied = options_.force;  // (a dry run shows what --force would run)
  const std::string results = options_.out_dir + "/results.csv";
  if (!force_emptied && file_exists(results)) {
    try {
      const auto table = analysis::read_csv(results);
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
    s.log = run_dir(p) + ".log";
    const std::string dir = run_dir(p);
    if (force_emptied || !file_exists(dir + "/summary.json")) continue;
    std::string saved;
    try {
      saved = read_file(dir + "/config.yaml");
    } catch (const std::exception&) {
    }
    if (saved != p.resolved) {
      stale.push_back(dir);
      continue;
    }
    try {
      s.summary = read_summary(dir + "/summary.json");
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
  std::string out = join(header, ",") + "\n";
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
    out += join(row, ",") + "\n";
  }
  write_file_atomic(options_.out_dir + "/results.csv", out);
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
  if (previous_status_[p.name] != "failed" && file_exists(dir + "/checkpoint.pt") &&
      file_exists(dir + "/config.yaml")) {
    try {
      resume = read_file(dir + "/config.yaml") == p.resolved;
    } catch (const std::exception&) {
    }
  }
  const auto argv_s = command(i, resume);
  std::string cmdline;
  for (const auto& a : argv_s) cmdline += (cmdline.empty() ? "" : " ") + shell_quote(a);
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
  std::vector<char*> argv;
  for (const auto& a : argv_s) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env_) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string exec_error = fmt::format("modnet-sweep: error: cannot run {}\n", options_.train_bin);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(fmt::format("fork failed: {}", std::strerror(errno)));
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. If the sweep dies, the point is told to
    // checkpoint and stop (as on SIGTERM) rather than run on unattended.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    const int fd = ::open(s.log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    (void)!::write(STDERR_FILENO, exec_error.data(), exec_error.size());
    ::_exit(127);
  }
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
  const std::string summary = run_dir(p) + "/summary.json";
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (ok && file_exists(summary)) {
    try {
      s.summary = read_summary(summary);
      s.status = PointStatus::done;
    } catch (const std::exception& e) {
      s.status = PointStatus::failed;
      s.error = fmt::format("unreadable summary.json: {}", e.what());
    }
  } else if (stopping_ || g_signals.load() > signals_at_start_) {
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
  int handled_signals = g_signals.load();
  int seen_signals = handled_signals;
  bool killed = false;
  while (true) {
    const int signals = g_signals.load();
    if (signals > seen_signals) {
      const int sig = g_last_signal.load();
      if (!stopping_) {
        stopping_ = true;
        log::warn("{}: stopping; {} running point(s) are told to checkpoint and stop (signal again to kill them)",
                  strsignal(sig), running.size());
        for (auto i : running) ::kill(state_[i].pid, sig);
      } else if (!killed && signals - handled_signals >= 2) {
        killed = true;
        log::warn("{} again: killing {} running point(s)", strsignal(sig), running.size());
        for (auto i : running) ::kill(state_[i].pid, SIGKILL);
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
      int status = 0;
      const pid_t w = ::waitpid(state_[i].pid, &status, WNOHANG);
      if (w == state_[i].pid) {
        running.erase(running.begin() + long(r));
        finished(i, status);
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
    shape += fmt::format(" x {} ({})", sweep_.axes[g[0]].values.size(), join(keys, " = "));
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
      for (const auto& a : command(i, false)) cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
      out += fmt::format("{:>5} {:<7} {}\n      {}\n", i + 1, status_name(state_[i].status), p.name, cmd);
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
    result.done = skipped_;  // nothing was run: a dry run succeeds when the sweep is valid
    return result;
  }

  if (::access(options_.train_bin.c_str(), X_OK) != 0)
    throw Error(fmt::format("--train-bin '{}' is not an executable file", options_.train_bin));

  // Children share the cores: unless told otherwise, each gets cores/jobs threads.
  for (char** e = environ; *e; ++e) env_.emplace_back(*e);
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
    for (auto i : running) ::kill(state_[i].pid, SIGTERM);
    for (auto i : running) {
      int status = 0;
      ::waitpid(state_[i].pid, &status, 0);
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
    log::error("failed: {} ({}.log): {}", name, options_.out_dir + "/runs/" + name, error);
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

}  // namespace modnet::train
