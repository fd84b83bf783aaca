#pragma once
// CSV files, both ways: append-only logs with a fixed header (metrics.csv, init.csv,
// similarity.csv, results.csv) and reading a CSV file back by column name. Plain text, so that any
// tool reads them.
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace modnet {

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

/// One column of a CSV file by name, as numbers (rows where `filter_column` equals `filter_value`
/// when given).
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<double> column(const std::string& name, const std::string& filter_column = "",
                             const std::string& filter_value = "") const;
  bool has(const std::string& name) const;
};
/// A CSV cell as a number: NaN when empty or not entirely a number.
double parse_number(const std::string& cell);
/// Reads a CSV file with a header row (modnet::DataError naming the file on malformed input).
CsvTable read_csv(const std::string& path);

/// Formats a number for CSV/JSON: shortest round-trip text ("nan", "inf" for non-finite values).
std::string number(double v);

/// Splits one CSV line at commas (no quoting: modnet's cells never hold commas).
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace modnet
