#pragma once
// Runs a command as a user would in a shell, for the end-to-end tests of the apps.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace modnet::testing {

struct Result {
  int status = -1;
  std::string output;  // stdout and stderr together
};

inline Result sh(const std::string& command) {
  Result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) r.output.append(buf.data(), n);
  const int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

}  // namespace modnet::testing
