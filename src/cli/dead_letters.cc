#include "cli/dead_letters.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <nlohmann/json.hpp>

#include "table/value_checks.h"

namespace zerobus::cli {
namespace {

// The length of `text` without a UTF-8 character that its end cuts in two.
size_t WithoutCutCharacter(std::string_view text) {
  size_t start = text.size();
  size_t continuation = 0;
  while (start > 0 && continuation < 3 &&
         (static_cast<unsigned char>(text[start - 1]) & 0xC0) == 0x80) {
    --start;
    ++continuation;
  }
  if (start == 0) return text.size();
  const unsigned char lead = static_cast<unsigned char>(text[start - 1]);
  const size_t needs = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return needs > continuation + 1 ? start - 1 : text.size();
}

// Opens `path` for appending, made 0600 when it is new; never through a symbolic link.
std::FILE *OpenForAppending(const std::string &path, std::string *error) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot open the dead-letter file " + path + ": " +
             (errno == ELOOP ? std::string("it is a symbolic link, which is not followed")
                             : std::string(std::strerror(errno)));
    return nullptr;
  }
  std::FILE *file = fdopen(fd, "a");
  if (file == nullptr) {
    *error = "cannot open the dead-letter file " + path + ": " + std::strerror(errno);
    close(fd);
  }
  return file;
}

}  // namespace

DeadLetterFile::~DeadLetterFile() {
  if (file_ != nullptr) std::fclose(file_);
}

bool DeadLetterFile::Write(const DeadLetter &letter, std::string *error) {
  if (file_ == nullptr) {
    file_ = OpenForAppending(path_, error);
    if (file_ == nullptr) return false;
  }
  nlohmann::json line = {{"file", *letter.file}};
  if (letter.binary) {
    line["record_number"] = letter.where.number;
    line["byte_offset"] = letter.where.byte_offset;
  } else {
    line["line"] = letter.where.line;
  }
  line["code"] = letter.code;
  line["message"] = letter.message;
  std::string_view record = *letter.record;
  std::string key = "record";
  if (letter.oversized != 0) {
    line["record_bytes"] = letter.oversized;
    key = "record_prefix";
    if (!letter.binary) record = record.substr(0, WithoutCutCharacter(record));
  }
  std::string text;
  if (!letter.binary) {
    line[key] = record;
    try {
      text = line.dump();
    } catch (const nlohmann::json::type_error &) {
      line.erase(key);  // not UTF-8: kept byte for byte in base64 below
    }
  }
  if (text.empty()) {
    line[key + "_base64"] = table::EncodeBase64(record);
    text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  text.push_back('\n');
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    *error = "cannot write the dead-letter file " + path_ + ": " + std::strerror(errno);
    return false;
  }
  ++count_;
  return true;
}

}  // namespace zerobus::cli
