// `zerobus serve` as a process: its announcement line, serving, logging and stopping on signals,
// and the dispatcher's handling of bad command lines.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zbtest_raw_stream.h"

extern char **environ;

namespace {

using namespace std::chrono_literals;

// A child running the zerobus binary with its stdout and stderr on pipes.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int out[2];
    int err[2];
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    args.insert(args.begin(), ZEROBUS_CLI);
    std::vector<char *> argv;
    for (std::string &arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, ZEROBUS_CLI, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }

  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }

  // The next line of stdout, or "" when none comes within `timeout`.
  std::string ReadLine(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd fd{out_, POLLIN, 0};
      if (left.count() <= 0 || poll(&fd, 1, static_cast<int>(left.count())) != 1) return "";
      char c;
      if (read(out_, &c, 1) != 1) return "";
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

  // The exit status, or -1 when the child is still running after `timeout`.
  int Wait(std::chrono::milliseconds timeout) {
    auto status = std::async(std::launch::async, [pid = pid_] {
      int wstatus = 0;
      waitpid(pid, &wstatus, 0);
      return wstatus;
    });
    if (status.wait_for(timeout) != std::future_status::ready) {
      kill(pid_, SIGKILL);
      status.wait();
      exited_ = true;
      return -1;
    }
    exited_ = true;
    const int wstatus = status.get();
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  }

  // Everything the child wrote to a pipe; call after it has exited.
  std::string Stdout() { return Drain(out_); }
  std::string Stderr() { return Drain(err_); }

  pid_t pid() const { return pid_; }

 private:
  static std::string Drain(int fd) {
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    return text;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  bool exited_ = false;
};

int PortFromAnnouncement(const std::string &line) {
  const std::string prefix = "zerobus serve: listening on http://127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) return 0;
  return std::stoi(line.substr(prefix.size()));
}

TEST(Cli, ServeAnnouncesItsEndpointServesAndStopsOnSigterm) {
  Child child({"serve", "--listen", "127.0.0.1:0"});
  const std::string line = child.ReadLine(10s);
  const int port = PortFromAnnouncement(line);
  ASSERT_GT(port, 0) << "announcement: '" << line << "'";

  {
    zbtest::RawStream stream(port);
    ASSERT_NE(stream.Open(zbtest::CreateJson("main.default.events")), "");
    ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, R"({"id":1})")));
    EXPECT_EQ(stream.ReadAck(), 0);
    stream.WritesDone();
    EXPECT_TRUE(stream.Finish().ok());
  }

  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);
  EXPECT_EQ(child.Wait(10s), 0);
  const std::string log = child.Stderr();
  EXPECT_NE(log.find("stream opened: table=main.default.events"), std::string::npos) << log;
  EXPECT_NE(log.find("stream closed: table=main.default.events"), std::string::npos) << log;
}

TEST(Cli, ServeDeclaresTablesFromFlagsAndSchemaFiles) {
  const std::string schema = testing::TempDir() + "/cli_schema.sql";
  {
    FILE *file = fopen(schema.c_str(), "w");
    ASSERT_NE(file, nullptr);
    fputs("-- two tables\nmain.default.a (id BIGINT NOT NULL)\nmain.default.b (s STRING);\n", file);
    fclose(file);
  }
  Child child({"serve", "--listen", "127.0.0.1:0", "--schema-file", schema, "--table",
               "main.default.events (id BIGINT, payload STRING)"});
  const int port = PortFromAnnouncement(child.ReadLine(10s));
  ASSERT_GT(port, 0);
  EXPECT_NE(child.ReadLine(10s).find("3 table(s) declared"), std::string::npos);
  for (const char *table : {"main.default.a", "main.default.b", "main.default.events"}) {
    zbtest::RawStream stream(port);
    EXPECT_NE(stream.Open(zbtest::CreateJson(table)), "") << table;
  }
  zbtest::RawStream stream(port);
  stream.Write(zbtest::CreateJson("main.default.undeclared"));
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(Cli, ServeRefusesBadTableDefinitions) {
  const std::vector<std::vector<std::string>> bad = {
      {"serve", "--table", "main.default (id INT)"},
      {"serve", "--table", "main.default.t (id INT)", "--table", "main.default.T (x INT)"},
      {"serve", "--schema-file", "/nonexistent/schema.sql"},
  };
  for (const auto &args : bad) {
    Child child(args);
    EXPECT_EQ(child.Wait(10s), 2) << args.back();
    EXPECT_NE(child.Stderr().find("zerobus serve:"), std::string::npos) << args.back();
  }
}

TEST(Cli, ServeStopsOnSigintWithACallOpen) {
  Child child({"serve", "--listen=127.0.0.1:0", "--null-sink"});
  const int port = PortFromAnnouncement(child.ReadLine(10s));
  ASSERT_GT(port, 0);
  zbtest::RawStream stream(port);
  ASSERT_NE(stream.Open(zbtest::CreateJson("main.default.events")), "");

  ASSERT_EQ(kill(child.pid(), SIGINT), 0);
  EXPECT_EQ(child.Wait(10s), 0);
  EXPECT_FALSE(stream.Finish().ok());
}

TEST(Cli, ServeFailsOnABusyPort) {
  Child first({"serve", "--listen", "127.0.0.1:0"});
  const int port = PortFromAnnouncement(first.ReadLine(10s));
  ASSERT_GT(port, 0);
  Child second({"serve", "--listen", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(second.Wait(10s), 1);
  EXPECT_NE(second.Stderr().find("cannot listen"), std::string::npos);
}

TEST(Cli, ServeHelpGoesToStdout) {
  Child child({"serve", "--help"});
  EXPECT_EQ(child.Wait(10s), 0);
  EXPECT_NE(child.Stdout().find("usage: zerobus serve"), std::string::npos);
}

TEST(Cli, BadCommandLinesExitWithUsageOnStderr) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"frobnicate"},
      {"serve", "--bogus"},
      {"serve", "--listen"},
      {"serve", "--listen", "127.0.0.1"},
      {"serve", "--listen", "127.0.0.1:99999"},
  };
  for (const auto &args : bad) {
    Child child(args);
    EXPECT_EQ(child.Wait(10s), 2) << (args.empty() ? "(no arguments)" : args.back());
    EXPECT_EQ(child.Stdout(), "");
    EXPECT_NE(child.Stderr().find("usage: zerobus"), std::string::npos)
        << (args.empty() ? "(no arguments)" : args.back());
  }
}

}  // namespace
