#include "cli/flags.h"

#include <cstdio>
#include <utility>

namespace zerobus::cli {

Flags::Flags(std::string command, std::string usage)
    : command_(std::move(command)), usage_(std::move(usage)) {}

void Flags::Value(const std::string &name, std::function<std::string(const std::string &)> apply) {
  flags_.push_back(Flag{name, true, std::move(apply)});
}

void Flags::Switch(const std::string &name, std::function<void()> apply) {
  flags_.push_back(Flag{name, false, [apply = std::move(apply)](const std::string &) {
                          apply();
                          return std::string();
                        }});
}

void Flags::Positional(std::function<std::string(const std::string &)> apply) {
  positional_ = std::move(apply);
}

std::optional<int> Flags::Mistake(const std::string &message) const {
  std::fprintf(stderr, "zerobus %s: %s\n\n%s", command_.c_str(), message.c_str(), usage_.c_str());
  return 2;
}

std::optional<int> Flags::Parse(int argc, char **argv) const {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_.c_str(), stdout);
      return 0;
    }
    if (arg.rfind("--", 0) != 0) {
      if (!positional_) return Mistake("unexpected argument '" + arg + "'");
      const std::string error = positional_(arg);
      if (!error.empty()) return Mistake(error);
      continue;
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const Flag *flag = nullptr;
    for (const Flag &candidate : flags_) {
      if (candidate.name == name) flag = &candidate;
    }
    if (flag == nullptr) return Mistake("unexpected argument '" + arg + "'");
    std::string value;
    if (!flag->takes_value) {
      if (equals != std::string::npos) return Mistake(name + " takes no value");
    } else if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Mistake(name + " needs a value");
    }
    const std::string error = flag->apply(value);
    if (!error.empty()) return Mistake(error);
  }
  return std::nullopt;
}

bool ParseCount(const std::string &text, long long *value) {
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *value = std::stoll(text);
  return true;
}

}  // namespace zerobus::cli

namespace zerobus::cli {

bool ParseDuration(const std::string &text, std::chrono::milliseconds *value) {
  const size_t unit = text.find_first_not_of("0123456789");
  long long count;
  if (unit == std::string::npos || !ParseCount(text.substr(0, unit), &count)) return false;
  const std::string suffix = text.substr(unit);
  long long scale;
  if (suffix == "ms") {
    scale = 1;
  } else if (suffix == "s") {
    scale = 1000;
  } else if (suffix == "m") {
    scale = 60 * 1000;
  } else if (suffix == "h") {
    scale = 3600 * 1000;
  } else {
    return false;
  }
  *value = std::chrono::milliseconds(count * scale);
  return true;
}

bool ParseHostPort(const std::string &text, std::string *host, int *port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  long long number;
  if (!ParseCount(text.substr(colon + 1), &number) || number > 65535) return false;
  std::string name = text.substr(0, colon);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  if (name.empty()) return false;
  *host = name;
  *port = static_cast<int>(number);
  return true;
}

}  // namespace zerobus::cli
