#include "modnet/core/csv.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "modnet/core/error.h"
#include "modnet/core/files.h"

namespace modnet {

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

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

bool CsvTable::has(const std::string& name) const {
  return std::find(header.begin(), header.end(), name) != header.end();
}

double parse_number(const std::string& s) {
  if (s.empty()) return NAN;
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    return used == s.size() ? v : NAN;
  } catch (const std::exception&) {
    return NAN;
  }
}

std::vector<double> CsvTable::column(const std::string& name, const std::string& filter_column,
                                     const std::string& filter_value) const {
  auto index = [&](const std::string& n) {
    auto it = std::find(header.begin(), header.end(), n);
    if (it == header.end()) throw DataError(fmt::format("CSV has no column '{}'", n));
    return static_cast<size_t>(it - header.begin());
  };
  const size_t c = index(name);
  const size_t f = filter_column.empty() ? 0 : index(filter_column);
  std::vector<double> out;
  for (const auto& row : rows)
    if (filter_column.empty() || row[f] == filter_value) out.push_back(parse_number(row[c]));
  return out;
}

CsvTable read_csv(const std::string& path) {
  CsvTable table;
  std::istringstream in(read_file(path));
  std::string line;
  if (!std::getline(in, line)) throw DataError(fmt::format("'{}': empty CSV file (no header)", path));
  table.header = split_csv_line(line);
  for (size_t no = 2; std::getline(in, line); ++no) {
    if (line.empty()) continue;
    auto row = split_csv_line(line);
    if (row.size() != table.header.size())
      throw DataError(fmt::format("'{}' line {}: {} values for {} columns", path, no, row.size(), table.header.size()));
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace modnet
