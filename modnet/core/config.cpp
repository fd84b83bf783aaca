#include "modnet/core/config.h"

#include "modnet/core/hash.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace modnet::config {

namespace detail {
std::string format_double(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.1f}", v);
  return fmt::format("{}", v);
}
}  // namespace detail

std::string Check::describe(const std::string& type) const {
  const auto num = [](double v) { return fmt::format("{}", v); };
  if (!choices.empty()) {
    std::string s = "one of ";
    for (size_t i = 0; i < choices.size(); ++i) s += (i ? ", " : "") + choices[i];
    return s;
  }
  std::string s = type;
  if (lo && hi && !lo_strict && !hi_strict)
    return fmt::format("{} in [{}, {}]", s, num(*lo), num(*hi));
  if (lo) s += fmt::format(" {} {}", lo_strict ? ">" : ">=", num(*lo));
  if (hi) s += fmt::format("{} {} {}", lo ? " and" : "", hi_strict ? "<" : "<=", num(*hi));
  return s;
}

Document load_string(const std::string& text, const std::string& name) {
  Document doc;
  doc.origin = std::make_shared<Origin>();
  doc.origin->file = name;
  try {
    doc.root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(fmt::format("config error: {}:{}:{}: YAML syntax: {}", name, e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
  if (doc.root.IsNull()) doc.root = YAML::Node(YAML::NodeType::Map);
  if (!doc.root.IsMap())
    throw ConfigError(fmt::format("config error: {}: expected a map of keys at the top level", name));
  return doc;
}

Document load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("config error: cannot open config file '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return load_string(ss.str(), path);
}

void apply_override(Document& doc, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(fmt::format("config error: override '{}': expected key.sub=value", assignment));
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(fmt::format("config error: override '{}': value is not valid YAML: {}", assignment, e.msg));
  }
  if (key.back() == '.')
    throw ConfigError(fmt::format("config error: override '{}': empty key segment", assignment));
  std::vector<std::string> parts;
  std::stringstream ks(key);
  for (std::string p; std::getline(ks, p, '.');) {
    if (p.empty()) throw ConfigError(fmt::format("config error: override '{}': empty key segment", assignment));
    parts.push_back(p);
  }
  // Walk with explicit node copies: yaml-cpp's operator[] on a non-const node creates entries.
  std::vector<YAML::Node> chain{doc.root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node cur = chain.back();
    if (!cur.IsMap() && !cur.IsNull())
      throw ConfigError(fmt::format("config error: override '{}': '{}' is not a map", assignment, parts[i]));
    YAML::Node next = cur[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = cur[parts[i]];
    }
    chain.push_back(next);
  }
  YAML::Node parent = chain.back();
  if (!parent.IsMap() && !parent.IsNull())
    throw ConfigError(fmt::format("config error: override '{}': parent of '{}' is not a map", assignment, parts.back()));
  parent[parts.back()] = value;
  doc.origin->overrides[key] = assignment;
}

std::string to_yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetIndent(2);
  out << node;
  return std::string(out.c_str()) + "\n";
}

YAML::Node clone(const YAML::Node& node) { return YAML::Clone(node); }

std::string hash(const YAML::Node& node) {
  // FNV-1a 64 over the canonical text: stable across runs and platforms.
  return fmt::format("{:016x}", hash::fnv1a(to_yaml(node)));
}

// ---- Reader

Reader::Reader(YAML::Node node, std::string path, std::shared_ptr<const Origin> origin)
    : node_(std::move(node)), path_(std::move(path)), origin_(std::move(origin)) {
  if (!origin_) origin_ = std::make_shared<Origin>();
}

std::string Reader::key_path(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : path_ + "." + key;
}

std::string Reader::where(const std::string& kpath, const YAML::Node& node) const {
  // The longest overridden prefix of kpath wins.
  std::string best;
  for (const auto& [k, assignment] : origin_->overrides) {
    // The override set this key, a key inside it, or created the section this key stands for.
    const bool covers = kpath == k || kpath.rfind(k + ".", 0) == 0 || kpath.rfind(k + "[", 0) == 0;
    const bool created = !kpath.empty() && k.rfind(kpath + ".", 0) == 0;
    if ((covers || created) && (best.empty() || k.size() >= best.size())) best = k;
  }
  if (!best.empty()) return fmt::format("command-line override '{}'", origin_->overrides.at(best));
  const std::string file = origin_->file.empty() ? "<config>" : origin_->file;
  if (node.IsDefined() && !node.Mark().is_null())
    return fmt::format("{}:{}:{}", file, node.Mark().line + 1, node.Mark().column + 1);
  return file;
}

void Reader::fail(const std::string& kpath, const YAML::Node& at, const std::string& expected) const {
  std::string got;
  if (!at.IsDefined() || at.IsNull()) got = "nothing";
  else if (at.IsScalar()) got = "'" + at.Scalar() + "'";
  else if (at.IsSequence()) got = "a list";
  else got = "a map";
  throw ConfigError(fmt::format("config error: {}: key '{}': expected {}, got {}", where(kpath, at), kpath, expected, got));
}

void Source::fail(const OptionError& error) const {
  const Reader reader(node_, path_, origin_);
  const std::string kpath = reader.key_path(error.key());
  const YAML::Node at = node_.IsMap() ? static_cast<const YAML::Node&>(node_)[error.key()] : YAML::Node();
  if (at.IsDefined() && !at.IsNull()) reader.fail(kpath, at, error.expected());
  throw ConfigError(fmt::format("config error: {}: key '{}': expected {}, got {} (its default)",
                                reader.where(kpath, node_), kpath, error.expected(), error.got()));
}

void Reader::fail_missing(const std::string& key) const {
  throw ConfigError(fmt::format("config error: {}: missing required key '{}'", where(path_, node_), key_path(key)));
}

YAML::Node Reader::lookup(const std::string& key) const {
  if (!node_.IsDefined() || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& cn = node_;
  return cn[key];
}

bool Reader::has(const std::string& key) const {
  const YAML::Node n = lookup(key);
  return n.IsDefined() && !n.IsNull();
}

void Reader::rest(YAML::Node& out) {
  out = YAML::Node(YAML::NodeType::Map);
  if (!node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (seen_.count(k)) continue;
    out[k] = it->second;
    seen_.insert(k);
  }
}

void Reader::only_one_of(const std::vector<std::string>& keys, bool required_one) {
  std::vector<std::string> present;
  for (const auto& k : keys)
    if (has(k)) present.push_back(k);
  std::string list;
  for (size_t i = 0; i < keys.size(); ++i) list += (i ? ", " : "") + key_path(keys[i]);
  if (present.size() > 1)
    throw ConfigError(fmt::format("config error: {}: only one of {} may be given, got {} and {}",
                                  where(key_path(present[1]), lookup(present[1])), list, key_path(present[0]),
                                  key_path(present[1])));
  if (required_one && present.empty())
    throw ConfigError(fmt::format("config error: {}: one of {} is required", where(path_, node_), list));
}

void Reader::check(bool cond, const std::string& message) const {
  if (!cond)
    throw ConfigError(fmt::format("config error: {}: {}: {}", where(path_, node_), path_.empty() ? "<root>" : path_, message));
}

void Reader::finish() const {
  if (!node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (seen_.count(k)) continue;
    std::string valid;
    for (const auto& s : seen_) valid += (valid.empty() ? "" : ", ") + s;
    // Keys gathered by rest() are fresh nodes without a position; their values keep theirs.
    const YAML::Node at = it->first.Mark().is_null() ? it->second : it->first;
    throw ConfigError(fmt::format("config error: {}: unknown key '{}'; expected one of: {}", where(key_path(k), at),
                                  key_path(k), valid));
  }
}

std::string Documenter::to_yaml_inline(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

std::string Documenter::escape(const std::string& cell) {
  std::string out;
  for (char c : cell) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string Documenter::markdown() const {
  std::string out = "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n" + rows_;
  if (!notes_.empty()) out += "\n" + notes_;
  return out;
}

void Writer::rest(const YAML::Node& extra) {
  if (!extra.IsMap()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it) out_[it->first.as<std::string>()] = clone(it->second);
}

}  // namespace modnet::config
