#include "modnet/core/json.h"

#include <cmath>

#include <fmt/format.h>

namespace modnet {

Json& Json::set(const std::string& key, double v) {
  items_.emplace_back(key, std::make_shared<Value>(v));
  return *this;
}
Json& Json::set(const std::string& key, int64_t v) {
  items_.emplace_back(key, std::make_shared<Value>(v));
  return *this;
}
Json& Json::set(const std::string& key, bool v) {
  items_.emplace_back(key, std::make_shared<Value>(v));
  return *this;
}
Json& Json::set(const std::string& key, const std::string& v) {
  items_.emplace_back(key, std::make_shared<Value>(v));
  return *this;
}
Json& Json::set(const std::string& key, const Json& v) {
  items_.emplace_back(key, std::make_shared<Value>(v));
  return *this;
}

Json& Json::merge(const Json& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  return *this;
}

namespace {
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", int(c));
        else out += c;
    }
  }
  return out + "\"";
}
}  // namespace

std::string Json::dump(int indent) const { return dump_at(indent, 0) + "\n"; }

std::string Json::dump_at(int indent, int depth) const {
  if (items_.empty()) return "{}";
  const std::string pad(size_t(indent * (depth + 1)), ' ');
  std::string out = "{\n";
  for (size_t i = 0; i < items_.size(); ++i) {
    const auto& [key, value] = items_[i];
    out += pad + quote(key) + ": ";
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, double>) out += std::isfinite(v) ? number(v) : "null";
          else if constexpr (std::is_same_v<T, int64_t>) out += std::to_string(v);
          else if constexpr (std::is_same_v<T, bool>) out += v ? "true" : "false";
          else if constexpr (std::is_same_v<T, std::string>) out += quote(v);
          else out += v.dump_at(indent, depth + 1);
        },
        *value);
    out += (i + 1 < items_.size() ? ",\n" : "\n");
  }
  return out + std::string(size_t(indent * depth), ' ') + "}";
}

}  // namespace modnet
