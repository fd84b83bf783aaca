#include "modnet/run/sweep_dir.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/log.h"

namespace fs = std::filesystem;

namespace modnet::run {

std::unique_ptr<FileLock> prepare_sweep_dir(const Sweep& sweep, const SweepRunOptions& options) {
  const fs::path dir(options.out_dir);
  const fs::path saved = SweepDir{options.out_dir}.sweep_yaml();
  const YAML::Node now = sweep_yaml(sweep);
  if (fs::exists(dir) && !fs::is_directory(dir))
    throw Error(fmt::format("--out '{}' exists and is not a directory", options.out_dir));
  const bool holds_something = fs::exists(dir) && std::any_of(fs::directory_iterator(dir), fs::directory_iterator(),
                                                                [](const fs::directory_entry& e) {
                                                                  return e.path().filename() != SweepDir::kLock;
                                                                });
  if (holds_something) {
    if (options.force) {
      // Emptied below, once the lock is held.
    } else if (!fs::exists(saved)) {
      throw Error(fmt::format("--out '{}' exists and holds no sweep (no sweep.yaml); choose another directory or pass "
                              "--force to empty it", options.out_dir));
    } else {
      YAML::Node before;
      try {
        before = YAML::LoadFile(saved.string());
      } catch (const YAML::Exception& e) {
        throw DataError(fmt::format("'{}': not valid YAML: {}", saved.string(), e.what()));
      }
      if (!same_sweep(before, now))
        throw Error(fmt::format("'{}' holds a different sweep (see {}); re-run the same sweep to resume it, or pass "
                                "--force to empty the directory, or choose another --out",
                                options.out_dir, saved.string()));
    }
  }
  if (options.dry_run) return nullptr;
  // One modnet-sweep at a time per directory (the lock goes with the process, even when killed).
  fs::create_directories(dir);
  auto lock = std::make_unique<FileLock>(
      SweepDir{options.out_dir}.lock(),
      fmt::format("'{}' is in use by another modnet-sweep (it holds {}); wait for it or stop it first",
                  options.out_dir, SweepDir{options.out_dir}.lock()));
  if (holds_something && options.force) {
    log::warn("--force: emptying {}", options.out_dir);
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().filename() != SweepDir::kLock) fs::remove_all(entry.path());
  }
  fs::create_directories(SweepDir{options.out_dir}.runs());
  write_file_atomic(
      saved.string(),
      fmt::format("# Written by modnet-sweep from {}; re-running into this directory resumes the "
                  "sweep and requires the same sweep.\n",
                  sweep.file.empty() ? "<sweep>" : fs::absolute(sweep.file).lexically_normal().string()) +
          config::to_yaml(now));
  return lock;
}

std::vector<std::pair<std::string, std::string>> read_summary(const std::string& path) {
  const YAML::Node s = YAML::LoadFile(path);
  std::vector<std::pair<std::string, std::string>> out;
  if (!s.IsMap()) throw DataError(fmt::format("'{}': expected a JSON object", path));
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (it->second.IsScalar()) out.emplace_back(it->first.as<std::string>(), it->second.Scalar());
    else if (it->second.IsNull()) out.emplace_back(it->first.as<std::string>(), "nan");  // a non-finite number
  }
  return out;
}

std::string last_error_line(const std::string& log, std::streamoff offset) {
  std::string text;
  try {
    text = read_file(log);
  } catch (const std::exception&) {
    return "";
  }
  if (offset > 0 && size_t(offset) <= text.size()) text = text.substr(size_t(offset));
  std::string last, last_error;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    // A progress bar's carriage returns: keep the text after the last one.
    if (auto cr = line.rfind('\r'); cr != std::string::npos) line = line.substr(cr + 1);
    last = line;
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.find("error") != std::string::npos || lower.find("terminate called") != std::string::npos ||
        lower.find("what():") != std::string::npos)
      last_error = line;
  }
  return last_error.empty() ? last : last_error;
}

std::string csv_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ',') out += ';';
    else if (c == '\n' || c == '\r' || c == '\t') out += ' ';
    else out += c;
  }
  return out;
}

}  // namespace modnet::run
