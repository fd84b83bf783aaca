// Tests of modnet/core/config: YAML <-> options structs, overrides, registries and the full
// experiment config.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "modnet/core/cli.h"
#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/rng.h"
#include "modnet/models/modular.h"
#include "modnet/models/registry.h"
#include "modnet/run/experiment.h"
#include "fixtures.h"

namespace fs = std::filesystem;
using modnet::ConfigError;

namespace {

// ---- a small options struct exercising every kind of field ----------------------------------

struct InnerOptions {
  int64_t x = 1;
  std::string mode = "fast";
  template <class V>
  void fields(V& v) {
    using namespace modnet::config;
    v("x", x, at_least(0), "an integer >= 0");
    v("mode", mode, one_of({"fast", "slow"}), "a choice");
  }
};

struct OuterOptions {
  InnerOptions inner;
  double scale = 2.0;
  template <class V>
  void fields(V& v) {
    using namespace modnet::config;
    v("inner", inner, none(), "a nested struct in a nested struct");
    v("scale", scale, greater_than(0), "a positive number");
  }
};

struct TestOptions {
  std::string name;                       // required
  int64_t count = 3;                      // >= 1
  double rate = 0.5;                      // in [0, 1]
  std::string mode = "a";                 // a | b
  std::optional<int64_t> limit;           // absent by default
  std::vector<int64_t> sizes{1, 2};
  bool verbose = false;
  OuterOptions outer;
  std::optional<int64_t> epochs, steps;   // exactly one of these

  template <class V>
  void fields(V& v) {
    using namespace modnet::config;
    v("name", name, required(), "a required string");
    v("count", count, at_least(1), "an integer >= 1");
    v("rate", rate, between(0, 1), "a fraction");
    v("mode", mode, one_of({"a", "b"}), "a choice");
    v("limit", limit, at_least(0), "an optional integer");
    v("sizes", sizes, at_least(1), "a list of integers");
    v("verbose", verbose, none(), "a switch");
    v("outer", outer, none(), "a nested struct");
    v("epochs", epochs, at_least(1), "budget in epochs");
    v("steps", steps, at_least(1), "budget in steps");
    v.only_one_of({"epochs", "steps"}, true);
  }
};

// A section whose nested struct has a required key.
struct NeedsId {
  std::string id;
  int64_t other = 0;
  template <class V>
  void fields(V& v) {
    v("id", id, modnet::config::required(), "an id");
    v("other", other);
  }
};
struct HasNeedsId {
  NeedsId sub;
  template <class V>
  void fields(V& v) {
    v("sub", sub);
  }
};

TestOptions read_text(const std::string& text) {
  return modnet::config::read<TestOptions>(modnet::config::load_string(text, "test.yaml"));
}

/// The ConfigError message that reading `text` raises ("" if it raised nothing).
template <class T = TestOptions>
std::string config_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  auto doc = modnet::config::load_string(text, "test.yaml");
  for (const auto& o : overrides) modnet::config::apply_override(doc, o);
  try {
    modnet::config::read<T>(doc);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return "";
}

}  // namespace

// ---- reading --------------------------------------------------------------------------------

TEST(ConfigRead, DefaultsAreFilled) {
  const auto o = read_text("name: run\nsteps: 10\n");
  EXPECT_EQ(o.name, "run");
  EXPECT_EQ(o.count, 3);
  EXPECT_DOUBLE_EQ(o.rate, 0.5);
  EXPECT_EQ(o.mode, "a");
  EXPECT_FALSE(o.limit.has_value());
  EXPECT_EQ(o.sizes, (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(o.verbose);
  EXPECT_EQ(o.outer.inner.x, 1);
  EXPECT_EQ(o.outer.inner.mode, "fast");
  EXPECT_DOUBLE_EQ(o.outer.scale, 2.0);
  EXPECT_FALSE(o.epochs.has_value());
  ASSERT_TRUE(o.steps.has_value());
  EXPECT_EQ(*o.steps, 10);
}

TEST(ConfigRead, ValuesAreRead) {
  const auto o = read_text(
      "name: run\n"
      "count: 7\n"
      "rate: 0.25\n"
      "mode: b\n"
      "limit: 0\n"
      "sizes: [4, 5, 6]\n"
      "verbose: true\n"
      "outer: {scale: 0.5, inner: {x: 9, mode: slow}}\n"
      "epochs: 2\n");
  EXPECT_EQ(o.count, 7);
  EXPECT_DOUBLE_EQ(o.rate, 0.25);
  EXPECT_EQ(o.mode, "b");
  ASSERT_TRUE(o.limit.has_value());
  EXPECT_EQ(*o.limit, 0);
  EXPECT_EQ(o.sizes, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_TRUE(o.verbose);
  EXPECT_DOUBLE_EQ(o.outer.scale, 0.5);
  EXPECT_EQ(o.outer.inner.x, 9);
  EXPECT_EQ(o.outer.inner.mode, "slow");
  EXPECT_EQ(*o.epochs, 2);
  EXPECT_FALSE(o.steps.has_value());
}

TEST(ConfigRead, IntegralDoublesAreAcceptedForIntegers) {
  const auto o = read_text("name: run\nsteps: 1e4\ncount: 2.0\n");
  EXPECT_EQ(*o.steps, 10000);
  EXPECT_EQ(o.count, 2);
}

TEST(ConfigRead, IntegersAreExactBelowTwoTo53) {
  // 2^53 - 1 = 9007199254740991 is the largest integer every double represents exactly.
  EXPECT_EQ(read_text("name: run\nsteps: 9007199254740991\n").steps.value_or(0), 9007199254740991LL);
}

// Regression: integers were once parsed through std::stod, so an int64 above 2^53 (a seed copied
// from derive_seed, say) silently became a nearby other value.
TEST(ConfigRead, LargeIntegersAreExact) {
  EXPECT_EQ(read_text("name: run\nsteps: 9007199254740993\n").steps.value_or(0), 9007199254740993LL);
  EXPECT_EQ(read_text("name: run\nsteps: 4611686018427387905\n").steps.value_or(0), 4611686018427387905LL);
}

TEST(ConfigRead, DoublesRoundTripExactly) {
  for (const double v : {0.1, 1.0 / 3.0, 1e-12, 0.3 + 0.6, 1.0}) {
    TestOptions o;
    o.name = "run";
    o.steps = 1;
    o.rate = v;
    o.outer.scale = v * 1e300;
    const auto back = read_text(modnet::config::to_yaml(modnet::config::write(o)));
    EXPECT_EQ(back.rate, o.rate);
    EXPECT_EQ(back.outer.scale, o.outer.scale);
  }
}

TEST(ConfigRead, ASingleValueIsAListOfOne) {
  EXPECT_EQ(read_text("name: run\nsteps: 1\nsizes: 8\n").sizes, (std::vector<int64_t>{8}));
}

TEST(ConfigRead, UnknownKeyNamesPathFileLineAndValidKeys) {
  const auto msg = config_error(
      "name: run\n"
      "steps: 1\n"
      "outer:\n"
      "  inner:\n"
      "    bogus: 3\n");
  EXPECT_CONTAINS(msg, "test.yaml:5:");
  EXPECT_CONTAINS(msg, "unknown key 'outer.inner.bogus'");
  EXPECT_CONTAINS(msg, "mode");  // the valid keys of outer.inner
  EXPECT_CONTAINS(msg, "x");
}

TEST(ConfigRead, UnknownTopLevelKeyListsValidKeys) {
  const auto msg = config_error("name: run\nsteps: 1\ncuont: 3\n");
  EXPECT_CONTAINS(msg, "test.yaml:3:");
  EXPECT_CONTAINS(msg, "'cuont'");
  EXPECT_CONTAINS(msg, "count");
  EXPECT_CONTAINS(msg, "verbose");
}

TEST(ConfigRead, WrongTypeForAnInteger) {
  for (const std::string bad : {"abc", "1.5", "3x", "[1, 2]", "{a: 1}"}) {
    const auto msg = config_error(
        "name: run\n"
        "steps: 1\n"
        "outer:\n"
        "  inner:\n"
        "    x: " + bad + "\n");
    EXPECT_CONTAINS(msg, "test.yaml:5:");
    EXPECT_CONTAINS(msg, "'outer.inner.x'");
    EXPECT_CONTAINS(msg, "an integer");
  }
}

TEST(ConfigRead, WrongTypeForOtherScalars) {
  EXPECT_CONTAINS(config_error("name: run\nsteps: 1\nverbose: yes please\n"), "a boolean");
  EXPECT_CONTAINS(config_error("name: run\nsteps: 1\nrate: fast\n"), "a number");
  EXPECT_CONTAINS(config_error("name: [a, b]\nsteps: 1\n"), "a string");
  EXPECT_CONTAINS(config_error("name: run\nsteps: 1\nsizes: {a: 1}\n"), "a list");
  EXPECT_CONTAINS(config_error("name: run\nsteps: 1\nouter: 3\n"), "a map of keys");
  // An element of a list is named with its index.
  EXPECT_CONTAINS(config_error("name: run\nsteps: 1\nsizes: [1, 0]\n"), "'sizes[1]'");
}

TEST(ConfigRead, OutOfRange) {
  auto msg = config_error("name: run\nsteps: 1\nrate: 1.5\n");
  EXPECT_CONTAINS(msg, "test.yaml:3:");
  EXPECT_CONTAINS(msg, "'rate'");
  EXPECT_CONTAINS(msg, "in [0, 1]");
  EXPECT_CONTAINS(msg, "1.5");

  msg = config_error("name: run\nsteps: 1\nouter:\n  inner: {x: -1}\n");
  EXPECT_CONTAINS(msg, "test.yaml:4:");
  EXPECT_CONTAINS(msg, "'outer.inner.x'");
  EXPECT_CONTAINS(msg, ">= 0");

  msg = config_error("name: run\nsteps: 1\nouter: {scale: 0}\n");  // strictly greater than 0
  EXPECT_CONTAINS(msg, "'outer.scale'");
  EXPECT_CONTAINS(msg, "> 0");
}

TEST(ConfigRead, BadChoice) {
  const auto msg = config_error("name: run\nsteps: 1\nouter:\n  inner:\n    mode: medium\n");
  EXPECT_CONTAINS(msg, "test.yaml:5:");
  EXPECT_CONTAINS(msg, "'outer.inner.mode'");
  EXPECT_CONTAINS(msg, "one of fast, slow");
  EXPECT_CONTAINS(msg, "'medium'");
}

TEST(ConfigRead, MissingRequiredKey) {
  auto msg = config_error("steps: 1\n");
  EXPECT_CONTAINS(msg, "test.yaml:");
  EXPECT_CONTAINS(msg, "missing required key 'name'");

  // In a nested section the message gives the full path and the section's line.
  msg = config_error<HasNeedsId>("\nsub:\n  other: 1\n");
  EXPECT_CONTAINS(msg, "test.yaml:3:");
  EXPECT_CONTAINS(msg, "missing required key 'sub.id'");
}

TEST(ConfigRead, OnlyOneOf) {
  auto msg = config_error("name: run\nepochs: 1\nsteps: 1\n");
  EXPECT_CONTAINS(msg, "test.yaml:3:");
  EXPECT_CONTAINS(msg, "only one of epochs, steps");
  msg = config_error("name: run\n");
  EXPECT_CONTAINS(msg, "one of epochs, steps is required");
  // An explicit null counts as absent.
  EXPECT_EQ(*read_text("name: run\nepochs: ~\nsteps: 4\n").steps, 4);
}

TEST(ConfigRead, YamlSyntaxErrorNamesFileAndLine) {
  try {
    modnet::config::load_string("a: 1\nb: [1, 2\n", "broken.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "broken.yaml:");
  }
  EXPECT_THROW(modnet::config::load_string("- 1\n- 2\n", "list.yaml"), ConfigError);  // not a map
  EXPECT_THROW(modnet::config::load_file("/nonexistent/modnet/config.yaml"), ConfigError);
}

// ---- overrides ------------------------------------------------------------------------------

TEST(ConfigOverride, Scalar) {
  auto doc = modnet::config::load_string("name: run\nsteps: 1\ncount: 2\n", "test.yaml");
  modnet::config::apply_override(doc, "count=7");
  modnet::config::apply_override(doc, "name=other");
  const auto o = modnet::config::read<TestOptions>(doc);
  EXPECT_EQ(o.count, 7);
  EXPECT_EQ(o.name, "other");
}

TEST(ConfigOverride, CreatesMissingNestedKeys) {
  auto doc = modnet::config::load_string("name: run\nsteps: 1\n", "test.yaml");
  modnet::config::apply_override(doc, "outer.inner.x=4");
  const auto o = modnet::config::read<TestOptions>(doc);
  EXPECT_EQ(o.outer.inner.x, 4);
  EXPECT_EQ(o.outer.inner.mode, "fast");  // siblings keep their defaults
}

TEST(ConfigOverride, ListValue) {
  auto doc = modnet::config::load_string("name: run\nsteps: 1\nsizes: [9]\n", "test.yaml");
  modnet::config::apply_override(doc, "sizes=[1, 2, 3]");
  EXPECT_EQ(modnet::config::read<TestOptions>(doc).sizes, (std::vector<int64_t>{1, 2, 3}));
}

TEST(ConfigOverride, BadValueNamesTheOverride) {
  const auto msg = config_error("name: run\nsteps: 1\n", {"outer.inner.x=abc"});
  EXPECT_CONTAINS(msg, "command-line override 'outer.inner.x=abc'");
  EXPECT_CONTAINS(msg, "'outer.inner.x'");
}

TEST(ConfigOverride, UnknownKeyInKnownSectionNamesTheOverride) {
  const auto msg = config_error("name: run\nsteps: 1\n", {"outer.bogus=1"});
  EXPECT_CONTAINS(msg, "unknown key 'outer.bogus'");
  EXPECT_CONTAINS(msg, "command-line override 'outer.bogus=1'");
}

// Regression: an unknown top-level key created by the override 'a.b=1' must name the override.
TEST(ConfigOverride, UnknownKeyNamesTheOverride) {
  // 'a' is not a key of TestOptions; the override created it (and a.b below it).
  const auto msg = config_error("name: run\nsteps: 1\n", {"a.b=1"});
  EXPECT_CONTAINS(msg, "unknown key 'a'");
  EXPECT_CONTAINS(msg, "command-line override 'a.b=1'");
}

TEST(ConfigOverride, Malformed) {
  auto doc = modnet::config::load_string("name: run\n", "test.yaml");
  for (const std::string bad : {"noequals", "=3", "a..b=1", ".a=1", "a=[1, 2"})
    EXPECT_THROW(modnet::config::apply_override(doc, bad), ConfigError) << bad;
}

// Regression: "a.=1" has an empty last key segment and must be rejected, not read as "a=1".
TEST(ConfigOverride, TrailingDotIsMalformed) {
  auto doc = modnet::config::load_string("name: run\n", "test.yaml");
  EXPECT_THROW(modnet::config::apply_override(doc, "a.=1"), ConfigError);
  EXPECT_THROW(modnet::config::apply_override(doc, "name.=x"), ConfigError);
}

// ---- config::load: a file (or the defaults) plus overrides ------------------------------------

TEST(ConfigLoad, EmptyPathGivesTheDefaults) {
  const auto o = modnet::config::load<OuterOptions>("");
  const OuterOptions defaults;
  EXPECT_EQ(modnet::config::to_yaml(modnet::config::write(o)), modnet::config::to_yaml(modnet::config::write(defaults)));
  EXPECT_EQ(o.inner.x, 1);
  EXPECT_DOUBLE_EQ(o.scale, 2.0);
  // Overrides apply to the defaults too; a required key is still required.
  EXPECT_EQ(modnet::config::load<OuterOptions>("", {"inner.x=5"}).inner.x, 5);
  EXPECT_THROW(modnet::config::load<TestOptions>(""), ConfigError);
  EXPECT_EQ(modnet::config::load<TestOptions>("", {"name=run", "steps=3"}).steps.value_or(0), 3);
}

TEST(ConfigLoad, FileThenOverridesInOrder) {
  const modnet::testing::TempDir dir("config_load");
  const auto file = dir.write("opts.yaml", "name: run\nsteps: 10\ncount: 2\nouter:\n  scale: 4\n");
  const auto plain = modnet::config::load<TestOptions>(file);
  EXPECT_EQ(plain.name, "run");
  EXPECT_EQ(plain.count, 2);
  EXPECT_DOUBLE_EQ(plain.outer.scale, 4.0);
  EXPECT_EQ(plain.outer.inner.mode, "fast");  // a default
  // Overrides are applied in the order given: the last one wins.
  const auto o = modnet::config::load<TestOptions>(file, {"count=5", "outer.inner.mode=slow", "count=6"});
  EXPECT_EQ(o.count, 6);
  EXPECT_EQ(o.outer.inner.mode, "slow");
  EXPECT_EQ(o.name, "run");
  EXPECT_DOUBLE_EQ(o.outer.scale, 4.0);  // untouched keys keep the file's values
  // A bad value set by an override: the error names the override, not the file.
  try {
    modnet::config::load<TestOptions>(file, {"count=7", "count=0"});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "command-line override 'count=0'");
    EXPECT_CONTAINS(e.what(), "'count'");
  }
  // A bad value in the file: the error names the file and line.
  const auto bad = dir.write("bad.yaml", "name: run\nsteps: 10\nouter:\n  scale: -1\n");
  try {
    modnet::config::load<TestOptions>(bad);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), bad + ":4:");
    EXPECT_CONTAINS(e.what(), "'outer.scale'");
  }
  // A missing file is named.
  try {
    modnet::config::load<TestOptions>(dir.sub("missing.yaml"));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), dir.sub("missing.yaml"));
  }
}

// ---- writing --------------------------------------------------------------------------------

TEST(ConfigWrite, RoundTripIsStable) {
  const auto o = read_text(
      "name: run\ncount: 7\nrate: 0.125\nmode: b\nsizes: [4, 5]\nverbose: true\n"
      "outer: {scale: 1e-3, inner: {x: 9}}\nsteps: 10\n");
  const std::string first = modnet::config::to_yaml(modnet::config::write(o));
  const auto again = read_text(first);
  const std::string second = modnet::config::to_yaml(modnet::config::write(again));
  EXPECT_EQ(first, second);
  EXPECT_EQ(again.count, 7);
  EXPECT_DOUBLE_EQ(again.rate, 0.125);
  EXPECT_DOUBLE_EQ(again.outer.scale, 1e-3);
  EXPECT_EQ(again.sizes, (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(again.verbose);
}

TEST(ConfigWrite, StringsThatLookLikeOtherValuesRoundTrip) {
  // A string value must come back as the same string, however YAML would read it unquoted.
  for (const std::string name : {"123", "true", "a: b", "- x", "#hash", "null", "~", "", " padded "}) {
    TestOptions o;
    o.name = name;
    o.steps = 1;
    const std::string text = modnet::config::to_yaml(modnet::config::write(o));
    try {
      EXPECT_EQ(read_text(text).name, name) << text;
    } catch (const ConfigError& e) {
      ADD_FAILURE() << "name '" << name << "' does not round-trip: " << e.what() << "\n" << text;
    }
  }
}

TEST(ConfigWrite, AbsentOptionalsAreOmitted) {
  const auto text = modnet::config::to_yaml(modnet::config::write(read_text("name: run\nsteps: 10\n")));
  EXPECT_EQ(text.find("limit"), std::string::npos) << text;
  EXPECT_EQ(text.find("epochs"), std::string::npos) << text;
  EXPECT_CONTAINS(text, "steps: 10");
  // Defaults are written out in full.
  EXPECT_CONTAINS(text, "count: 3");
  EXPECT_CONTAINS(text, "mode: fast");
}

TEST(ConfigWrite, HashIsStableAndSensitive) {
  const auto a = modnet::config::write(read_text("name: run\nsteps: 10\n"));
  const auto b = modnet::config::write(read_text("name: run\nsteps: 10\n"));
  const auto c = modnet::config::write(read_text("name: run\nsteps: 11\n"));
  EXPECT_EQ(modnet::config::hash(a).size(), 16u);
  EXPECT_EQ(modnet::config::hash(a), modnet::config::hash(b));
  EXPECT_NE(modnet::config::hash(a), modnet::config::hash(c));
}

// ---- registries: {type: NAME, ...} sections --------------------------------------------------

namespace {
struct ModelSection {
  modnet::models::ModelSpec model;
  template <class V>
  void fields(V& v) {
    v("model", model, modnet::config::required(), "the model");
  }
};
}  // namespace

TEST(ConfigRegistry, UnknownTypeListsRegisteredTypes) {
  const auto msg = config_error<ModelSection>("model:\n  type: nosuch\n");
  EXPECT_CONTAINS(msg, "'model.type'");
  EXPECT_CONTAINS(msg, "'nosuch'");
  EXPECT_CONTAINS(msg, "monolithic");
  EXPECT_CONTAINS(msg, "test.yaml:2:");
}

TEST(ConfigRegistry, MissingType) {
  EXPECT_CONTAINS(config_error<ModelSection>("model: {params: 100}\n"), "missing required key 'model.type'");
}

TEST(ConfigRegistry, TypeOptionsAreCheckedWithFullPath) {
  auto msg = config_error<ModelSection>("model: {type: monolithic, params: 100, bogus: 1}\n");
  EXPECT_CONTAINS(msg, "unknown key 'model.bogus'");
  EXPECT_CONTAINS(msg, "test.yaml");
  msg = config_error<ModelSection>("model: {type: monolithic, params: 0}\n");
  EXPECT_CONTAINS(msg, "'model.params'");
}

TEST(ConfigRegistry, TypeOptionValueErrorsGiveTheLine) {
  const auto msg = config_error<ModelSection>("model:\n  type: monolithic\n  params: 0\n");
  EXPECT_CONTAINS(msg, "'model.params'");
  EXPECT_CONTAINS(msg, "test.yaml:3:");
}

// Regression: unknown keys of a typed section (gathered by Reader::rest into a new map) must still
// be located by file and line.
TEST(ConfigRegistry, TypeOptionUnknownKeyGivesTheLine) {
  const auto msg = config_error<ModelSection>("model:\n  type: monolithic\n  params: 100\n  bogus: 1\n");
  EXPECT_CONTAINS(msg, "unknown key 'model.bogus'");
  EXPECT_CONTAINS(msg, "test.yaml:4:");
}

TEST(ConfigRegistry, ResolvedOptionsHaveDefaults) {
  const auto s = modnet::config::read<ModelSection>(
      modnet::config::load_string("model: {type: monolithic, params: 100}\n", "test.yaml"));
  EXPECT_EQ(s.model.type, "monolithic");
  const auto text = modnet::config::to_yaml(modnet::config::write(s));
  EXPECT_CONTAINS(text, "type: monolithic");
  EXPECT_CONTAINS(text, "params: 100");
  EXPECT_CONTAINS(text, "depth: 2");
  EXPECT_CONTAINS(text, "activation: relu");
}

// ---- an option that does not fit the task (config::OptionError from a factory) ---------------

namespace {
ModelSection read_model(const std::string& text, const std::string& name = "test.yaml",
                        const std::vector<std::string>& overrides = {}) {
  auto doc = modnet::config::load_string(text, name);
  for (const auto& o : overrides) modnet::config::apply_override(doc, o);
  return modnet::config::read<ModelSection>(doc);
}

/// The ConfigError message that building `spec` for `context` raises ("" if it raised nothing).
std::string build_error(const modnet::models::ModelSpec& spec, const modnet::models::ModelContext& context) {
  try {
    modnet::models::build_model(spec, context);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

const std::string kTooWide =
    "model:\n"
    "  type: modular\n"
    "  modules: 4\n"
    "  module_dim: 40\n"  // line 4: more than the task's 32 inputs
    "  hidden: [8]\n";
}  // namespace

TEST(ConfigOptionError, KeyInTheFileIsNamedWithFileAndLine) {
  // The section reads fine on its own; only the task's input dimension (32) rules module_dim out.
  const modnet::testing::TempDir dir("config_option_error");
  const auto file = dir.write("model.yaml", kTooWide);
  const auto section = modnet::config::load<ModelSection>(file);
  const auto msg = build_error(section.model, modnet::models::ModelContext{32, 1, 0});
  EXPECT_CONTAINS(msg, "'model.module_dim'");
  EXPECT_CONTAINS(msg, file + ":4:");
  EXPECT_CONTAINS(msg, "at most the task's input dimension 32");
  EXPECT_CONTAINS(msg, "'40'");
  EXPECT_EQ(msg.find("(its default)"), std::string::npos) << msg;
  // The same text from a string is named by the string's name.
  EXPECT_CONTAINS(build_error(read_model(kTooWide).model, modnet::models::ModelContext{32, 1, 0}), "test.yaml:4:");
  // It fits a wider task.
  EXPECT_NO_THROW(modnet::models::build_model(section.model, modnet::models::ModelContext{64, 1, 0}));
}

TEST(ConfigOptionError, KeySetByAnOverrideNamesTheOverride) {
  const auto section =
      read_model("model: {type: modular, modules: 4, module_dim: 2, hidden: [8]}\n", "test.yaml", {"model.module_dim=40"});
  const auto msg = build_error(section.model, modnet::models::ModelContext{32, 1, 0});
  EXPECT_CONTAINS(msg, "'model.module_dim'");
  EXPECT_CONTAINS(msg, "command-line override 'model.module_dim=40'");
  EXPECT_EQ(msg.find("test.yaml:"), std::string::npos) << msg;
}

TEST(ConfigOptionError, KeyNotGivenIsNamedAsItsDefault) {
  // module_dim not given: its default 2 does not fit a task with one input.
  const auto section = read_model("\nmodel:\n  type: modular\n  modules: 4\n  hidden: [8]\n");
  const auto msg = build_error(section.model, modnet::models::ModelContext{1, 1, 0});
  EXPECT_CONTAINS(msg, "'model.module_dim'");
  EXPECT_CONTAINS(msg, "(its default)");
  EXPECT_CONTAINS(msg, "test.yaml:3:");  // where the model section is
  EXPECT_CONTAINS(msg, "at most the task's input dimension 1");
}

TEST(ConfigOptionError, AutomaticModuleCountNeedsTheTasksModules) {
  const auto section = read_model("model:\n  type: modular\n  modules: 0\n  module_dim: 2\n  hidden: [8]\n");
  // modules: 0 means K = 2k; a task without true modules (k = 0) cannot say what K is.
  const auto msg = build_error(section.model, modnet::models::ModelContext{32, 1, 0});
  EXPECT_CONTAINS(msg, "'model.modules'");
  EXPECT_CONTAINS(msg, "test.yaml:3:");
  EXPECT_CONTAINS(msg, "module count");
  // With k = 3 true modules: K = 6.
  auto model = modnet::models::build_model(section.model, modnet::models::ModelContext{32, 1, 3});
  const auto modular = model.ptr<modnet::models::ModularImpl>();
  ASSERT_TRUE(modular);
  EXPECT_EQ(modular->options.modules(), 6);
  EXPECT_EQ(modular->projections().size(0), 6);
  EXPECT_EQ(model.forward(torch::randn({3, 32})).sizes(), (std::vector<int64_t>{3, 1}));
}

// ---- the full experiment config --------------------------------------------------------------

namespace {
const std::string kSineConfig = std::string(MODNET_SOURCE_DIR) + "/configs/sine/monolithic.yaml";
}

TEST(ExperimentConfig, ShippedConfigParses) {
  const auto c = modnet::run::load_experiment_config(kSineConfig);
  EXPECT_EQ(c.task.type, "sine");
  EXPECT_EQ(c.model.type, "monolithic");
  EXPECT_DOUBLE_EQ(c.train.lr, 1e-3);
  ASSERT_TRUE(c.train.steps.has_value());
  EXPECT_EQ(*c.train.steps, 3000);
  // The resolved config parses again to the same text.
  const auto yaml = modnet::run::experiment_config_yaml(c);
  const auto again = modnet::run::parse_experiment_config(modnet::config::load_string(yaml, "resolved.yaml"));
  EXPECT_EQ(modnet::run::experiment_config_yaml(again), yaml);
}

TEST(ExperimentConfig, BadOverrideNamesTheKey) {
  try {
    modnet::run::load_experiment_config(kSineConfig, {"train.lr=-1"});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "'train.lr'");
    EXPECT_CONTAINS(e.what(), "command-line override 'train.lr=-1'");
  }
}

TEST(ExperimentConfig, OverrideReachesTheResolvedConfig) {
  const auto c = modnet::run::load_experiment_config(kSineConfig, {"model.params=5000"});
  const auto yaml = modnet::run::experiment_config_yaml(c);
  EXPECT_CONTAINS(yaml, "params: 5000");
  EXPECT_EQ(yaml.find("params: 20000"), std::string::npos);
}
