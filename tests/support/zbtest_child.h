// A child process with its stdout and stderr on pipes, for tests of the `zerobus` command:
// read its lines with a deadline, signal it, wait for it with a deadline.
#ifndef ZBTEST_CHILD_H
#define ZBTEST_CHILD_H

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace zbtest {

class Child {
 public:
  // Starts argv[0] (a path) with `argv`; fails the current test when it cannot.
  explicit Child(std::vector<std::string> argv);
  // Kills the child (SIGKILL) unless it has exited, and reaps it.
  ~Child();
  Child(const Child &) = delete;
  Child &operator=(const Child &) = delete;

  // The next line of stdout, or "" when none comes within `timeout`.
  std::string ReadLine(std::chrono::milliseconds timeout);

  // The exit status (128 + signal when killed), or -1 when the child is still running after
  // `timeout` (it is then killed).
  int Wait(std::chrono::milliseconds timeout);

  // Everything the child wrote to a pipe and nobody read yet; call after it has exited.
  std::string Stdout() { return Drain(out_); }
  std::string Stderr() { return Drain(err_); }

  pid_t pid() const { return pid_; }

 private:
  static std::string Drain(int fd);

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  bool exited_ = false;
};

}  // namespace zbtest

#endif  // ZBTEST_CHILD_H
