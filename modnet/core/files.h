#pragma once
// Safe output: every file is written to a temporary beside it and renamed into place, so a killed
// run never leaves a half-written result. Run directories are never silently overwritten.
#include <functional>
#include <string>

namespace modnet {

/// Writes `content` to `path` atomically (temporary file + rename).
void write_file_atomic(const std::string& path, const std::string& content);
/// Calls `writer(tmp_path)` then renames tmp_path to `path`; removes the temporary on failure.
void write_atomic_with(const std::string& path, const std::function<void(const std::string& tmp)>& writer);
/// Whole file as a string (DataError naming the file if unreadable).
std::string read_file(const std::string& path);
bool file_exists(const std::string& path);

enum class RunDirMode {
  fresh,   // the directory must not exist (or be empty)
  force,   // an existing directory is emptied first
  resume,  // the directory must exist and hold a run
};

/// Prepares an output directory for a run according to `mode` (modnet::Error naming the path and
/// the flag that would allow it otherwise).
void prepare_run_dir(const std::string& dir, RunDirMode mode);

}  // namespace modnet
