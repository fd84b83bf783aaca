#pragma once
// Safe output: every file is written to a temporary beside it and renamed into place, so a killed
// run never leaves a half-written result. (Run directories: core/run_dir.h.)
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

}  // namespace modnet
