#include "dead_letters.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace zerobus::cli {
namespace {

std::string Base64(const std::string &bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(text.data()),
                                  reinterpret_cast<const unsigned char *>(bytes.data()),
                                  static_cast<int>(bytes.size()));
  text.resize(static_cast<size_t>(len));
  return text;
}

}  // namespace

DeadLetterFile::~DeadLetterFile() {
  if (file_ != nullptr) std::fclose(file_);
}

bool DeadLetterFile::Write(const DeadLetter &letter, std::string *error) {
  if (file_ == nullptr) {
    file_ = std::fopen(path_.c_str(), "a");
    if (file_ == nullptr) {
      *error = "cannot open the dead-letter file " + path_ + ": " + std::strerror(errno);
      return false;
    }
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
  std::string text;
  if (!letter.binary) {
    line["record"] = *letter.record;
    try {
      text = line.dump();
    } catch (const nlohmann::json::type_error &) {
      line.erase("record");  // not UTF-8: kept byte for byte in base64 below
    }
  }
  if (text.empty()) {
    line["record_base64"] = Base64(*letter.record);
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
