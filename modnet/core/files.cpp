#include "modnet/core/files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "modnet/core/error.h"
#include "modnet/core/run_dir.h"

namespace fs = std::filesystem;

namespace modnet {

void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& writer) {
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    writer(tmp);
    fs::rename(tmp, target);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic_with(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("cannot write '{}'", tmp));
    out << content;
    out.close();
    if (!out) throw Error(fmt::format("writing '{}' failed (disk full?)", tmp));
  });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("cannot open '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool file_exists(const std::string& path) { return fs::exists(path); }

void prepare_run_dir(const std::string& dir, RunDirMode mode) {
  const fs::path p(dir);
  const bool exists = fs::exists(p);
  const bool empty = exists && fs::is_directory(p) && fs::is_empty(p);
  if (exists && !fs::is_directory(p)) throw Error(fmt::format("run directory '{}' exists and is not a directory", dir));
  switch (mode) {
    case RunDirMode::fresh:
      if (exists && !empty)
        throw Error(fmt::format("run directory '{}' already exists; pass --resume {} to continue it or --force to "
                                "overwrite it", dir, dir));
      fs::create_directories(p);
      break;
    case RunDirMode::force:
      if (exists) {
        for (const auto& entry : fs::directory_iterator(p)) fs::remove_all(entry.path());
      }
      fs::create_directories(p);
      break;
    case RunDirMode::resume:
      if (!exists || !fs::exists(p / RunDir::kConfig))
        throw Error(fmt::format("cannot resume '{}': it holds no run (config.yaml missing)", dir));
      break;
  }
}

}  // namespace modnet
