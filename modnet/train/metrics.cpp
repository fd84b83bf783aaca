#include "modnet/train/metrics.h"

#include <cmath>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "modnet/core/error.h"
#include "modnet/core/files.h"

namespace modnet::train {

CsvLog::CsvLog(const std::string& path, std::vector<std::string> columns, std::optional<int64_t> resume_step)
    : path_(path), columns_(std::move(columns)) {
  std::string header;
  for (size_t i = 0; i < columns_.size(); ++i) header += (i ? "," : "") + columns_[i];
  std::string kept = header + "\n";
  if (resume_step && file_exists(path)) {
    std::istringstream in(read_file(path));
    std::string line;
    std::getline(in, line);  // old header
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto comma = line.find(',');
      try {
        if (std::stoll(line.substr(0, comma)) <= *resume_step) kept += line + "\n";
      } catch (const std::exception&) {
        throw DataError(fmt::format("'{}': malformed row '{}' (expected a step in the first column)", path, line));
      }
    }
  }
  write_file_atomic(path, kept);
  out_.open(path, std::ios::app);
  if (!out_) throw Error(fmt::format("cannot append to '{}'", path));
}

void CsvLog::row(const std::vector<std::string>& values) {
  if (values.size() != columns_.size())
    throw Error(fmt::format("'{}': a row has {} values for {} columns", path_, values.size(), columns_.size()));
  std::string line;
  for (size_t i = 0; i < values.size(); ++i) line += (i ? "," : "") + values[i];
  out_ << line << '\n';
  out_.flush();
}

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

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

}  // namespace modnet::train
