#pragma once
// Small JSON documents (summary.json, init.json, bench results): an ordered object of numbers,
// strings, booleans and nested objects, written with shortest round-trip numbers.
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "modnet/core/csv.h"  // number()

namespace modnet {

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

}  // namespace modnet
