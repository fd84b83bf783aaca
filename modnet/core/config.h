#pragma once
// YAML configuration <-> options structs, in one place.
//
// An options struct lists its keys once, in a template member `fields`:
//
//   struct SineTaskOptions {
//     int64_t dim = 32;
//     double noise = 0.0;
//     template <class V> void fields(V& v) {
//       v("dim", dim, config::at_least(1), "ambient input dimension D");
//       v("noise", noise, config::at_least(0), "std of Gaussian label noise");
//     }
//   };
//
// The same list drives reading (type and range checks, unknown keys are errors naming the key and
// the file:line it came from), writing the resolved config back to YAML, and documentation.
// Supported field types: bool, int, int64_t, double, std::string, std::vector of those,
// std::optional of those, nested structs with `fields`, and YAML::Node (taken as it is).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "modnet/core/error.h"

namespace modnet::config {

/// What a value must satisfy. Combine: `at_least(1).req()`.
struct Check {
  std::optional<double> lo, hi;
  bool lo_strict = false, hi_strict = false;
  std::vector<std::string> choices;
  bool required = false;
  Check req() const {
    Check c = *this;
    c.required = true;
    return c;
  }
  /// "an integer >= 1", "one of adam, sgd" ...; `type` is the expected type's noun.
  std::string describe(const std::string& type) const;
};
inline Check none() { return {}; }
inline Check required() { return Check{}.req(); }
inline Check at_least(double v) { Check c; c.lo = v; return c; }
inline Check greater_than(double v) { Check c; c.lo = v; c.lo_strict = true; return c; }
inline Check between(double lo, double hi) { Check c; c.lo = lo; c.hi = hi; return c; }
inline Check fraction() { return between(0.0, 1.0); }
inline Check one_of(std::vector<std::string> choices) { Check c; c.choices = std::move(choices); return c; }

/// Where a config came from: the file, and which key paths were set on the command line.
struct Origin {
  std::string file;  // "" when built in code
  std::map<std::string, std::string> overrides;  // key path -> "key=value" as typed
};

/// A parsed document plus its origin.
struct Document {
  YAML::Node root;
  std::shared_ptr<Origin> origin;
};

/// Reads a YAML file (ConfigError naming file:line on a syntax error or a missing file).
Document load_file(const std::string& path);
/// Parses YAML text; `name` is used in messages.
Document load_string(const std::string& text, const std::string& name = "<string>");
/// Applies `key.sub=value` (value parsed as YAML, so `[1, 2]` is a list); creates missing maps.
void apply_override(Document& doc, const std::string& assignment);
/// Returns the YAML text of a node, in block style.
std::string to_yaml(const YAML::Node& node);
/// Deep copy (YAML::Node assignment aliases).
YAML::Node clone(const YAML::Node& node);
/// Short stable hash (16 hex digits) of a node's YAML text, for summaries.
std::string hash(const YAML::Node& node);

class Reader;
class Writer;

/// An option that is valid on its own but not together with something known only later (e.g. a
/// model's projection size larger than the task's input). Thrown by factories with the key
/// relative to their section; TypedSpec::build turns it into a ConfigError naming where the key
/// was set.
class OptionError : public ConfigError {
 public:
  OptionError(std::string key, std::string expected, std::string got)
      : ConfigError(fmt::format("key '{}': expected {}, got {}", key, expected, got)),
        key_(std::move(key)), expected_(std::move(expected)), got_(std::move(got)) {}
  const std::string& key() const { return key_; }
  const std::string& expected() const { return expected_; }
  const std::string& got() const { return got_; }

 private:
  std::string key_, expected_, got_;
};

/// Where a config section was read from: its key path, its YAML node (with line positions) and
/// the document's origin. Empty for sections made in code.
class Source {
 public:
  Source() = default;
  Source(std::string path, YAML::Node node, std::shared_ptr<const Origin> origin)
      : path_(std::move(path)), node_(std::move(node)), origin_(std::move(origin)) {}
  bool empty() const { return !origin_; }
  const std::string& path() const { return path_; }
  /// Throws the ConfigError for `error`'s key of this section, naming file:line (or the
  /// override) where the key was set, or where the section is when the key took its default.
  [[noreturn]] void fail(const OptionError& error) const;

 private:
  std::string path_;
  YAML::Node node_;
  std::shared_ptr<const Origin> origin_;
};

namespace detail {
template <class T, class = void>
struct has_fields : std::false_type {};
template <class T>
struct has_fields<T, std::void_t<decltype(std::declval<T&>().fields(std::declval<Reader&>()))>> : std::true_type {};
template <class T, class = void>
struct has_resolve : std::false_type {};
template <class T>
struct has_resolve<T, std::void_t<decltype(std::declval<T&>().resolve(std::declval<const Reader&>()))>>
    : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {
  template <class D>
  using value_type_or = D;
};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {
  template <class D>
  using value_type_or = T;
};

std::string format_double(double v);
}  // namespace detail

/// Visitor that fills an options struct from a YAML map, checking everything.
class Reader {
 public:
  static constexpr bool reading = true;
  Reader(YAML::Node node, std::string path, std::shared_ptr<const Origin> origin);

  template <class T>
  Reader& operator()(const char* key, T& value, const Check& check = {}, const char* /*doc*/ = "") {
    seen_.insert(key);
    const YAML::Node n = lookup(key);
    if (!n.IsDefined() || n.IsNull()) {
      if constexpr (detail::is_optional<T>::value) {
        value.reset();
        if (check.required) fail_missing(key);
        return *this;
      } else {
        if (check.required) fail_missing(key);
        return *this;
      }
    }
    decode(n, key_path(key), value, check);
    return *this;
  }
  /// Takes every key not named so far as one raw map (for sections resolved by a registry).
  void rest(YAML::Node& out);
  /// Cross-field rules: at most one (or, if required, exactly one) of the keys may be present.
  void only_one_of(const std::vector<std::string>& keys, bool required);
  /// Fails with `message` about this section when cond is false.
  void check(bool cond, const std::string& message) const;
  /// Errors on keys that were not named.
  void finish() const;

  bool has(const std::string& key) const;
  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  std::shared_ptr<const Origin> origin() const { return origin_; }
  /// This section's path, node and origin, to report errors about it later.
  Source source() const { return Source(path_, node_, origin_); }
  std::string key_path(const std::string& key) const;
  /// "file:line:col", "command-line override 'a.b=1'" or "<file>" for the key path's node.
  std::string where(const std::string& key_path, const YAML::Node& node) const;
  [[noreturn]] void fail(const std::string& key_path, const YAML::Node& at, const std::string& expected) const;

 private:
  [[noreturn]] void fail_missing(const std::string& key) const;
  YAML::Node lookup(const std::string& key) const;  // never inserts
  template <class T>
  void decode(const YAML::Node& n, const std::string& kpath, T& value, const Check& check);
  template <class T>
  void decode_scalar(const YAML::Node& n, const std::string& kpath, T& value, const Check& check);

  YAML::Node node_;
  std::string path_;
  std::shared_ptr<const Origin> origin_;
  std::set<std::string> seen_;
};

/// Visitor that writes an options struct back to YAML (the resolved config).
class Writer {
 public:
  static constexpr bool reading = false;
  template <class T>
  Writer& operator()(const char* key, const T& value, const Check& = {}, const char* = "") {
    if constexpr (detail::is_optional<T>::value) {
      if (!value) return *this;
      out_[key] = encode(*value);
    } else {
      out_[key] = encode(value);
    }
    return *this;
  }
  void rest(const YAML::Node& extra);
  void only_one_of(const std::vector<std::string>&, bool) {}
  void check(bool, const std::string&) const {}
  YAML::Node result() const { return out_; }

  template <class T>
  static YAML::Node encode(const T& value);

 private:
  YAML::Node out_{YAML::NodeType::Map};
};

/// Visitor that lists an options struct's keys as Markdown table rows (key, type, default,
/// constraint, meaning) - the reference in docs/configuration.md is generated with it.
class Documenter {
 public:
  static constexpr bool reading = false;
  explicit Documenter(std::string prefix = "") : prefix_(std::move(prefix)) {}
  template <class T>
  Documenter& operator()(const char* key, const T& value, const Check& check = {}, const char* doc = "") {
    const std::string path = prefix_.empty() ? key : prefix_ + "." + key;
    using U = typename detail::is_optional<T>::template value_type_or<T>;
    if constexpr (detail::has_fields<T>::value) {
      Documenter sub(path);
      const_cast<T&>(value).fields(sub);
      rows_ += sub.rows_;
      notes_ += sub.notes_;
    } else {
      std::string def;
      if constexpr (detail::is_optional<T>::value) {
        def = value ? to_yaml_inline(Writer::encode(*value)) : "(unset)";
      } else if constexpr (std::is_same_v<T, YAML::Node>) {
        def = "";
      } else {
        def = to_yaml_inline(Writer::encode(value));
      }
      std::string constraint = check.choices.empty() && !check.lo && !check.hi ? "" : check.describe("");
      if (check.required) constraint = "required" + std::string(constraint.empty() ? "" : "; ") + constraint;
      if (!constraint.empty() && constraint[0] == ' ') constraint.erase(0, 1);
      rows_ += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", path, type_name<U>(), def, escape(constraint), escape(doc));
    }
    return *this;
  }
  void rest(const YAML::Node&) {}
  void only_one_of(const std::vector<std::string>& keys, bool required) {
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + std::string("`") + (prefix_.empty() ? k : prefix_ + "." + k) + "`";
    notes_ += fmt::format("- {} of {}.\n", required ? "Exactly one" : "At most one", list);
  }
  void check(bool, const std::string&) const {}
  /// The table (with header) and the notes on key groups.
  std::string markdown() const;

 private:
  static std::string to_yaml_inline(const YAML::Node& node);
  static std::string escape(const std::string& cell);  // '|' would end a Markdown table cell
  template <class T>
  static std::string type_name() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_integral_v<T>) return "integer";
    else if constexpr (std::is_floating_point_v<T>) return "number";
    else if constexpr (std::is_same_v<T, std::string>) return "string";
    else if constexpr (detail::is_vector<T>::value) return "list of " + type_name<typename T::value_type>();
    else if constexpr (std::is_same_v<T, YAML::Node>) return "map";
    else return "map";
  }
  std::string prefix_, rows_, notes_;
};

/// The Markdown reference of a struct's keys under `prefix`.
template <class T>
std::string document(const std::string& prefix = "") {
  T value{};
  Documenter d(prefix);
  value.fields(d);
  return d.markdown();
}

/// Reads a struct with `fields` from `node`; the result has every default filled in.
template <class T>
T read(const YAML::Node& node, const std::string& path, std::shared_ptr<const Origin> origin) {
  T value{};
  Reader r(node, path, std::move(origin));
  if (node.IsDefined() && !node.IsNull() && !node.IsMap())
    r.fail(path.empty() ? "<root>" : path, node, "a map of keys");
  value.fields(r);
  r.finish();
  if constexpr (detail::has_resolve<T>::value) value.resolve(r);
  return value;
}
template <class T>
T read(const Document& doc) {
  return read<T>(doc.root, "", doc.origin);
}
/// The one way from YAML to options: reads `path` ("" = every default), applies the
/// `key.sub=value` overrides in order and validates everything (ConfigError naming file:line or
/// the override otherwise).
template <class T>
T load(const std::string& path, const std::vector<std::string>& overrides = {}) {
  Document doc = path.empty() ? load_string("", "<defaults>") : load_file(path);
  for (const auto& o : overrides) apply_override(doc, o);
  return read<T>(doc);
}
/// Writes a struct with `fields` to a YAML map.
template <class T>
YAML::Node write(const T& value) {
  return Writer::encode(value);
}

// ---- implementation of the templates

template <class T>
void Reader::decode_scalar(const YAML::Node& n, const std::string& kpath, T& value, const Check& check) {
  std::string noun;
  if constexpr (std::is_same_v<T, bool>) noun = "a boolean (true/false)";
  else if constexpr (std::is_integral_v<T>) noun = "an integer";
  else if constexpr (std::is_floating_point_v<T>) noun = "a number";
  else noun = "a string";
  if (!n.IsScalar()) fail(kpath, n, check.describe(noun));
  const std::string text = n.Scalar();
  if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "True") value = true;
    else if (text == "false" || text == "False") value = false;
    else fail(kpath, n, check.describe(noun));
  } else if constexpr (std::is_arithmetic_v<T>) {
    double d = 0;
    size_t used = 0;
    try {
      d = std::stod(text, &used);
    } catch (const std::exception&) {
      fail(kpath, n, check.describe(noun));
    }
    if (used != text.size()) fail(kpath, n, check.describe(noun));
    [[maybe_unused]] long long exact = 0;
    if constexpr (std::is_integral_v<T>) {
      // Integer literals are parsed exactly (doubles round above 2^53); "1e4" is accepted too.
      bool literal = false;
      try {
        exact = std::stoll(text, &used);
        literal = used == text.size();
      } catch (const std::exception&) {
      }
      if (!literal) {
        if (d != static_cast<double>(static_cast<int64_t>(d)) || d > 9.0e18 || d < -9.0e18)
          fail(kpath, n, check.describe(noun));
        exact = static_cast<long long>(d);
      }
    }
    if ((check.lo && (check.lo_strict ? !(d > *check.lo) : !(d >= *check.lo))) ||
        (check.hi && (check.hi_strict ? !(d < *check.hi) : !(d <= *check.hi))))
      fail(kpath, n, check.describe(noun));
    if constexpr (std::is_integral_v<T>) value = static_cast<T>(exact);
    else value = static_cast<T>(d);
  } else {
    if (!check.choices.empty()) {
      bool ok = false;
      for (const auto& c : check.choices) ok = ok || c == text;
      if (!ok) fail(kpath, n, check.describe(noun));
    }
    value = text;
  }
}

template <class T>
void Reader::decode(const YAML::Node& n, const std::string& kpath, T& value, const Check& check) {
  if constexpr (detail::is_optional<T>::value) {
    typename T::value_type inner{};
    decode(n, kpath, inner, check);
    value = std::move(inner);
  } else if constexpr (std::is_same_v<T, YAML::Node>) {
    value = n;
  } else if constexpr (detail::is_vector<T>::value) {
    using E = typename T::value_type;
    if (n.IsScalar()) {  // a single value is a list of one
      E e{};
      decode(n, kpath, e, check);
      value = {e};
      return;
    }
    if (!n.IsSequence()) fail(kpath, n, "a list");
    value.clear();
    for (size_t i = 0; i < n.size(); ++i) {
      E e{};
      decode(n[i], fmt::format("{}[{}]", kpath, i), e, check);
      value.push_back(std::move(e));
    }
  } else if constexpr (detail::has_fields<T>::value) {
    if (!n.IsMap()) fail(kpath, n, "a map of keys");
    Reader sub(n, kpath, origin_);
    value.fields(sub);
    sub.finish();
    if constexpr (detail::has_resolve<T>::value) value.resolve(sub);
  } else {
    decode_scalar(n, kpath, value, check);
  }
}

template <class T>
YAML::Node Writer::encode(const T& value) {
  if constexpr (std::is_same_v<T, YAML::Node>) {
    return clone(value);
  } else if constexpr (detail::is_vector<T>::value) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& e : value) seq.push_back(encode(e));
    seq.SetStyle(YAML::EmitterStyle::Flow);
    return seq;
  } else if constexpr (detail::has_fields<T>::value) {
    Writer w;
    const_cast<T&>(value).fields(w);
    return w.result();
  } else if constexpr (std::is_same_v<T, bool>) {
    return YAML::Node(value ? "true" : "false");
  } else if constexpr (std::is_floating_point_v<T>) {
    return YAML::Node(detail::format_double(static_cast<double>(value)));
  } else if constexpr (std::is_integral_v<T>) {
    return YAML::Node(std::to_string(static_cast<long long>(value)));
  } else {
    return YAML::Node(std::string(value));
  }
}

}  // namespace modnet::config
