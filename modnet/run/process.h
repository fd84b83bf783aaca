#pragma once
// POSIX process control for running child processes (sweep points): starting a program with its
// output in a log file, polling and waiting for it, passing signals on, an advisory lock on a
// directory, and SIGINT/SIGTERM counting. Nothing here knows about sweeps or configs.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace modnet::run {

/// Starts `argv[0]` (a path) with `argv` and the environment `env` ("NAME=value"), stdin from
/// /dev/null and stdout + stderr appended to `log_path` (created if missing). The child is sent
/// SIGTERM if this process dies. When exec fails, the child writes `exec_error` to the log and
/// exits 127.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log_path,
            const std::string& exec_error);

/// The wait status of `pid` if it has exited (non-blocking), nullopt while it runs.
std::optional<int> poll_exit(pid_t pid);
/// Waits for `pid` to exit; its wait status.
int wait_exit(pid_t pid);
/// Sends `signal` to `pid`.
void send_signal(pid_t pid, int signal);
/// True for a wait status of a normal exit with status 0.
bool exited_ok(int status);
/// "exit status 3", "killed by signal 9 (Killed)".
std::string describe_exit(int status);
/// The name of a signal ("Interrupt", "Terminated").
std::string signal_name(int signal);

/// This process's environment as "NAME=value" strings.
std::vector<std::string> environment();
/// Whether `path` is a file this process may execute.
bool is_executable(const std::string& path);

/// Counts SIGINT and SIGTERM from the moment it is installed (no SA_RESTART: sleeps are cut
/// short); what to do about them is the caller's.
void install_signal_counter();
/// How many SIGINT/SIGTERM have arrived since install_signal_counter().
int signal_count();
/// The last of them (0 when none).
int last_signal();

/// An exclusive advisory lock (flock) on `path`, created if missing, held until destruction; the
/// lock goes with the process, even when it is killed. Throws modnet::Error naming `path` when
/// another process holds it (`busy_message`) or it cannot be created.
class FileLock {
 public:
  FileLock(const std::string& path, const std::string& busy_message);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace modnet::run
