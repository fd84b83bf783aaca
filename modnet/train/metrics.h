#pragma once
// Metric sinks: append-only CSV logs (metrics.csv, init.csv, similarity.csv) and small JSON
// documents (summary.json). Both are plain text so that any tool reads them.
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace modnet::train {

/// A CSV file with a fixed header whose first column is the step. Opening with `resume_step`
/// keeps the rows of steps <= resume_step (rewritten atomically) and appends after them, so a
/// resumed run's log equals an uninterrupted one.
class CsvLog {
 public:
  CsvLog(const std::string& path, std::vector<std::string> columns, std::optional<int64_t> resume_step = {});
  void row(const std::vector<std::string>& values);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::ofstream out_;
};

/// Formats a number for CSV/JSON: shortest round-trip text, "nan"/"inf" made JSON-safe by callers.
std::string number(double v);

/// An ordered JSON object of numbers, strings, booleans and nested objects.
class Json {
 public:
  using Value = std::variant<double, int64_t, bool, std::string, Json>;
  Json& set(const std::string& key, double v);
  Json& set(const std::string& key, int64_t v);
  Json& set(const std::string& key, int v) { return set(key, static_cast<int64_t>(v)); }
  Json& set(const std::string& key, bool v);
  Json& set(const std::string& key, const std::string& v);
  Json& set(const std::string& key, const char* v) { return set(key, std::string(v)); }
  Json& set(const std::string& key, const Json& v);
  /// Appends every key of `other` (in its order).
  Json& merge(const Json& other);
  std::string dump(int indent = 2) const;
  bool empty() const { return items_.empty(); }

 private:
  std::string dump_at(int indent, int depth) const;
  std::vector<std::pair<std::string, std::shared_ptr<Value>>> items_;
};

}  // namespace modnet::train
