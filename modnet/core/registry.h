#pragma once
// Registries of named component types (tasks, models, initialisers). A type is registered with
// its options struct (see config.h) and a factory; config sections `{type: NAME, ...options}` are
// validated against that struct, so a user's own type gets the same checks and messages as the
// built-in ones.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "modnet/core/config.h"

namespace modnet {

template <class Product, class... BuildArgs>
class Registry {
 public:
  struct Entry {
    std::string name;
    std::string doc;
    /// Validates `options` (read relative to `section`) and returns them with defaults filled in.
    std::function<YAML::Node(const config::Reader& section, const YAML::Node& options)> resolve;
    /// Builds the product from resolved options.
    std::function<Product(const YAML::Node& options, BuildArgs...)> build;
    /// Markdown reference of the options, keys prefixed with `prefix` (empty when unknown).
    std::function<std::string(const std::string& prefix)> document;
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(Entry entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.count(entry.name))
      throw Error(fmt::format("{} type '{}' is registered twice", kind_, entry.name));
    entries_.emplace(entry.name, std::move(entry));
  }

  /// Registers a type whose options are the struct `Options` (with `fields`) and whose factory is
  /// `factory(const Options&, BuildArgs...)`.
  template <class Options, class Factory>
  void add_typed(const std::string& name, const std::string& doc, Factory factory) {
    Entry e;
    e.name = name;
    e.doc = doc;
    e.resolve = [](const config::Reader& section, const YAML::Node& options) {
      return config::write(config::read<Options>(options, section.path(), section.origin()));
    };
    e.document = [](const std::string& prefix) { return config::document<Options>(prefix); };
    e.build = [factory](const YAML::Node& options, BuildArgs... args) -> Product {
      return factory(config::read<Options>(options, "", nullptr), std::forward<BuildArgs>(args)...);
    };
    add(std::move(e));
  }

  bool contains(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.count(name) > 0;
  }

  const Entry& get(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end())
      throw ConfigError(fmt::format("unknown {} type '{}'; registered: {}", kind_, name, names_locked()));
    return it->second;
  }

  /// Markdown reference of every registered type's options, keys prefixed with `prefix`.
  std::string document(const std::string& prefix) const {
    std::string out;
    for (const auto& name : names()) {
      const auto& e = get(name);
      out += fmt::format("### `{}: {{type: {}}}`\n\n{}\n\n", prefix, name, e.doc);
      if (e.document) out += e.document(prefix) + "\n";
    }
    return out;
  }

  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [n, e] : entries_) out.push_back(n);
    return out;
  }

  const std::string& kind() const { return kind_; }

 private:
  std::string names_locked() const {
    std::string s;
    for (const auto& [n, e] : entries_) s += (s.empty() ? "" : ", ") + n;
    return s;
  }
  std::string kind_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

/// A config section `{type: NAME, ...}` whose keys are checked by the type registered as NAME in
/// the registry returned by `GetRegistry()`. It keeps where it was read from, so that an option
/// found wrong only when the product is built (config::OptionError, e.g. a size that does not fit
/// the task) is still reported at its file:line or command-line override.
template <class RegistryT, RegistryT& (*GetRegistry)()>
struct TypedSpec {
  std::string type;
  YAML::Node options{YAML::NodeType::Map};

  template <class V>
  void fields(V& v) {
    v("type", type, config::required(), "registered type name");
    v.rest(options);
  }
  void resolve(const config::Reader& section) {
    auto& registry = GetRegistry();
    if (!registry.contains(type)) {
      std::string names;
      for (const auto& n : registry.names()) names += (names.empty() ? "" : ", ") + n;
      section.fail(section.key_path("type"), section.node()["type"],
                   fmt::format("a registered {} type ({})", registry.kind(), names));
    }
    source_ = section.source();
    options = registry.get(type).resolve(section, options);
  }

  /// Builds the product; an OptionError from the factory becomes a ConfigError naming the key
  /// and where it was set.
  template <class... Args>
  auto build(Args&&... args) const {
    try {
      return GetRegistry().get(type).build(options, std::forward<Args>(args)...);
    } catch (const config::OptionError& e) {
      source_.fail(e);
    }
  }
  /// Where the section was read from (empty when built in code).
  const config::Source& source() const { return source_; }

 private:
  config::Source source_;
};

namespace detail {
template <class RegistryT, class Options, class Factory>
bool register_type(RegistryT& registry, const char* name, const char* doc, Factory factory) {
  registry.template add_typed<Options>(name, doc, std::move(factory));
  return true;
}
}  // namespace detail

}  // namespace modnet

#define MODNET_CONCAT_INNER(a, b) a##b
#define MODNET_CONCAT(a, b) MODNET_CONCAT_INNER(a, b)
/// Registers a type in `registry` at static-initialisation time (the MODNET_REGISTER_MODEL /
/// _TASK / _INITIALIZER macros of each registry use it). The factory comes last, so commas in it
/// need no parentheses.
#define MODNET_REGISTER(registry, name, Options, doc, ...)                               \
  static const bool MODNET_CONCAT(modnet_registered_type_, __COUNTER__) [[maybe_unused]] = \
      ::modnet::detail::register_type<std::decay_t<decltype(registry)>, Options>(registry, name, doc, __VA_ARGS__)
