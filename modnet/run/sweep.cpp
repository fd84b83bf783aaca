#include "modnet/run/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <unistd.h>  // access(2)

#include <fmt/format.h>

#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/hash.h"
#include "modnet/core/log.h"
#include "modnet/run/experiment.h"

namespace fs = std::filesystem;

namespace modnet::run {

namespace {

constexpr size_t kMaxNameLength = 200;

// ---- small helpers

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

}  // namespace

std::string sanitize_name(const std::string& text) {
  std::string out = text;
  for (auto& c : out)
    if (!allowed_name_char(c)) c = '_';
  return out;
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
          if (run_name.size() > kMaxNameLength) run_name = fmt::format("setting-{:016x}", hash::fnv1a(setting));
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
      p.name = fmt::format("p{:05}-{:08x}", i, hash::fnv1a(p.config + "\n" + join(p.overrides, "\n")) & 0xffffffffULL);
  }
  return sweep;
}

void validate_sweep(Sweep& sweep) {
  std::map<std::string, std::string> bases;  // config path -> its text (parsed anew per point: keeps line marks)
  std::set<std::string> checked;  // task + model sections already checked together
  const std::string file = sweep.file.empty() ? "<sweep>" : sweep.file;
  for (auto& p : sweep.points) {
    if (!bases.count(p.config_path)) {
      config::load_file(p.config_path);  // a missing file or a syntax error, named as for a run
      bases[p.config_path] = read_file(p.config_path);
    }
    config::Document doc = config::load_string(bases[p.config_path], p.config_path);
    try {
      for (const auto& o : p.overrides) config::apply_override(doc, o);
      const auto config = parse_experiment_config(doc);
      p.resolved = experiment_config_yaml(config);
      const auto parts = config::to_yaml(config::write(config.task)) + config::to_yaml(config::write(config.model));
      if (checked.insert(parts).second) check_experiment(config);
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

}  // namespace modnet::run
