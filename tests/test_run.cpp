// Tests of modnet/run below the sweep: process control (process.h: spawning a child with its output
// in a log, polling, waiting, signals, the directory lock) and the checks across config sections
// that a run makes (run::check_experiment).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.h"
#include "modnet/core/config.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/run/experiment.h"
#include "modnet/run/process.h"

namespace run = modnet::run;
using modnet::testing::TempDir;

namespace {

// Starts `/bin/sh -c script` with this process's environment, its output appended to `log`.
pid_t spawn_sh(const std::string& script, const std::string& log) {
  return run::spawn({"/bin/sh", "-c", script}, run::environment(), log, "cannot run /bin/sh\n");
}

}  // namespace

// ---- processes -----------------------------------------------------------------------------------

TEST(Process, SpawnWritesTheLogAndWaitGivesTheExitStatus) {
  const TempDir dir("run_process");
  // The log is appended to (the sweep writes a header first): what was there stays.
  const auto log = dir.write("child.log", "header\n");
  const pid_t pid = spawn_sh("echo hi; echo oops >&2; exit 3", log);
  ASSERT_GT(pid, 0);
  const int status = run::wait_exit(pid);
  EXPECT_EQ(run::describe_exit(status), "exit status 3");
  EXPECT_FALSE(run::exited_ok(status));
  EXPECT_EQ(modnet::read_file(log), "header\nhi\noops\n");  // stdout and stderr both

  const pid_t ok = spawn_sh("exit 0", log);
  const int ok_status = run::wait_exit(ok);
  EXPECT_TRUE(run::exited_ok(ok_status));
  EXPECT_EQ(run::describe_exit(ok_status), "exit status 0");
}

TEST(Process, PollWhileRunningThenKill) {
  const TempDir dir("run_process");
  const auto log = dir.write("sleep.log", "");
  const pid_t pid = spawn_sh("exec sleep 5", log);  // exec: the child itself sleeps, no grandchild
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(run::poll_exit(pid).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(run::poll_exit(pid).has_value()) << "a sleep 5 child ended within 0.2 s";
  run::send_signal(pid, SIGKILL);
  const int status = run::wait_exit(pid);
  EXPECT_CONTAINS(run::describe_exit(status), "killed by signal 9");
  EXPECT_EQ(run::describe_exit(status), "killed by signal 9 (" + run::signal_name(SIGKILL) + ")");
  EXPECT_FALSE(run::exited_ok(status));
}

TEST(Process, PollGivesTheStatusOnceTheChildHasExited) {
  const TempDir dir("run_process");
  const auto log = dir.write("quick.log", "");
  const pid_t pid = spawn_sh("exit 5", log);
  std::optional<int> status;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!(status = run::poll_exit(pid)) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(status.has_value()) << "the child did not exit within 30 s";
  EXPECT_EQ(run::describe_exit(*status), "exit status 5");
}

TEST(Process, ExecFailureIsLoggedWithStatus127) {
  const TempDir dir("run_process");
  const auto log = dir.write("missing.log", "");
  const pid_t pid = run::spawn({dir.sub("no-such-program")}, run::environment(), log, "cannot run it\n");
  const int status = run::wait_exit(pid);
  EXPECT_EQ(run::describe_exit(status), "exit status 127");
  EXPECT_EQ(modnet::read_file(log), "cannot run it\n");
  EXPECT_FALSE(run::is_executable(dir.sub("no-such-program")));
  EXPECT_TRUE(run::is_executable("/bin/sh"));
}

TEST(Process, FileLockIsExclusiveUntilDestroyed) {
  const TempDir dir("run_lock");
  const auto path = dir.sub("sweep.lock");
  {
    run::FileLock first(path, "first is busy");
    EXPECT_TRUE(modnet::file_exists(path));  // created
    try {
      run::FileLock second(path, "the directory is in use by another modnet-sweep");
      ADD_FAILURE() << "a second lock on the same path must fail";
    } catch (const modnet::Error& e) {
      EXPECT_EQ(std::string(e.what()), "the directory is in use by another modnet-sweep");
    }
  }
  // The first lock is gone: a new one succeeds (and holds again).
  std::optional<run::FileLock> again;
  EXPECT_NO_THROW(again.emplace(path, "busy"));
  EXPECT_THROW(run::FileLock(path, "busy"), modnet::Error);
  again.reset();
  EXPECT_NO_THROW(run::FileLock(path, "busy"));
  // A lock that cannot be created names its path.
  try {
    run::FileLock missing(dir.sub("no/such/dir/lock"), "busy");
    ADD_FAILURE() << "a lock in a missing directory must fail";
  } catch (const modnet::Error& e) {
    EXPECT_CONTAINS(e.what(), dir.sub("no/such/dir/lock"));
  }
}

// ---- check_experiment: task and model together ----------------------------------------------------

namespace {
run::ExperimentConfig sine_config(const std::string& model_module_dim) {
  return run::parse_experiment_config(modnet::config::load_string(
      "name: check\n"
      "task:\n"
      "  type: sine\n"
      "  dim: 32\n"
      "model:\n"
      "  type: modular\n"
      "  modules: 4\n"
      "  module_dim: " + model_module_dim + "\n"  // line 8
      "  hidden: [8]\n"
      "train:\n"
      "  steps: 10\n",
      "check.yaml"));
}
}  // namespace

TEST(CheckExperiment, ModelLargerThanTheTaskIsAConfigErrorAtItsLine) {
  // Each section is valid on its own (parse_experiment_config accepts it) ...
  const auto bad = sine_config("40");
  // ... but a module's projection of 40 dimensions does not fit the task's 32 inputs.
  try {
    run::check_experiment(bad);
    FAIL() << "expected a ConfigError";
  } catch (const modnet::ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "'model.module_dim'");
    EXPECT_CONTAINS(e.what(), "check.yaml:8:");
    EXPECT_CONTAINS(e.what(), "32");
  }
  EXPECT_NO_THROW(run::check_experiment(sine_config("32")));
  EXPECT_NO_THROW(run::check_experiment(sine_config("2")));
}
