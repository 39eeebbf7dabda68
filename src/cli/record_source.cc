#include "cli/record_source.h"

#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/arrow_batches.h"
#include "cli/csv_rows.h"

namespace zerobus::cli {
namespace {

std::string ReadFailure(const std::string &name, const std::string &error) {
  return error.empty() ? "" : "cannot read " + name + ": " + error;
}

bool IsJsonObject(const std::string &text) {
  const size_t first = text.find_first_not_of(" \t");
  return first != std::string::npos && text[first] == '{' && nlohmann::json::accept(text);
}

class JsonLinesSource : public RecordSource {
 public:
  JsonLinesSource(std::FILE *file, std::string name, bool check_json)
      : reader_(file), name_(std::move(name)), check_json_(check_json) {}

  bool Next(SourceRecord *record) override {
    if (!reader_.Next(&record->raw, &record->where, &record->oversized)) return false;
    record->converted.clear();
    // Without a schema the server parses the JSON, and a line it cannot parse would end the
    // stream: such lines are refused here instead.
    const bool refused = record->oversized == 0 && check_json_ && !IsJsonObject(record->raw);
    record->malformed = refused ? "not a JSON object" : "";
    return true;
  }
  std::string Failure() const override { return ReadFailure(name_, reader_.ReadError()); }

 private:
  JsonLinesReader reader_;
  const std::string name_;
  const bool check_json_;
};

// A header row naming the table's columns, then one record per row, sent as JSON.
class CsvSource : public RecordSource {
 public:
  CsvSource(std::FILE *file, std::string name, const zerobus::Schema *schema)
      : reader_(file), name_(std::move(name)), schema_(schema) {}

  bool Next(SourceRecord *record) override {
    if (!header_read_ && !ReadHeader()) return false;
    if (!reader_.Next(&fields_, &record->raw, &record->where, &record->malformed,
                      &record->oversized)) {
      return false;
    }
    record->converted.clear();
    if (record->oversized == 0 && record->malformed.empty()) {
      record->malformed = converter_.ToJson(fields_, &record->converted);
    }
    return true;
  }
  std::string Failure() const override {
    return header_failure_.empty() ? ReadFailure(name_, reader_.ReadError()) : header_failure_;
  }

 private:
  // False when there is no header (an empty file has no records either) or it is unusable.
  bool ReadHeader() {
    header_read_ = true;
    std::string raw;
    SourcePosition where;
    std::string malformed;
    uint64_t oversized = 0;
    if (!reader_.Next(&fields_, &raw, &where, &malformed, &oversized)) return false;
    const std::string at = name_ + ":" + std::to_string(where.line) + ": ";
    if (oversized != 0 || !malformed.empty()) {
      header_failure_ =
          at + "the header row is " +
          (oversized != 0 ? "over " + std::to_string(kMaxRecordBytes) + " bytes" : malformed);
      return false;
    }
    const zerobus::Bytes descriptor = schema_->descriptor();
    if (std::string error = converter_.Init(descriptor.data(), descriptor.size(), fields_);
        !error.empty()) {
      header_failure_ = at + error;
      return false;
    }
    return true;
  }

  CsvReader reader_;
  const std::string name_;
  const zerobus::Schema *schema_;
  CsvRowConverter converter_;
  std::vector<CsvField> fields_;
  bool header_read_ = false;
  std::string header_failure_;
};

class ProtoSource : public RecordSource {
 public:
  ProtoSource(std::FILE *file, std::string name) : reader_(file), name_(std::move(name)) {}

  bool Next(SourceRecord *record) override {
    if (broken_) return false;
    record->converted.clear();
    record->malformed.clear();
    if (reader_.Next(&record->raw, &record->where, &record->malformed, &record->oversized)) {
      return true;
    }
    // Broken framing ends the input with what was read of the broken record, which is refused.
    broken_ = !record->malformed.empty();
    record->oversized = 0;
    return broken_;
  }
  std::string Failure() const override { return ReadFailure(name_, reader_.ReadError()); }

 private:
  DelimitedProtoReader reader_;
  const std::string name_;
  bool broken_ = false;
};

// An Avro object container file: its header read first, then one datum per record.
class AvroSource : public RecordSource {
 public:
  AvroSource(std::FILE *file, std::string name) : reader_(file), name_(std::move(name)) {}

  bool Next(SourceRecord *record) override {
    if (!ReadHeader()) return false;
    record->converted.clear();
    if (reader_.Next(&record->raw, &record->where, &record->malformed, &record->oversized)) {
      return true;
    }
    if (!record->malformed.empty()) failure_ = name_ + ": " + record->malformed;
    return false;
  }
  std::string Failure() const override {
    return failure_.empty() ? ReadFailure(name_, reader_.ReadError()) : failure_;
  }
  std::string WriterSchema() override { return ReadHeader() ? reader_.schema() : ""; }

 private:
  // Reads the header once; false when it is unusable (failure_ or the read error says why).
  bool ReadHeader() {
    if (!header_read_) {
      header_read_ = true;
      std::string malformed;
      if (!reader_.ReadHeader(&malformed) && reader_.ReadError().empty()) {
        failure_ = name_ + ": " + malformed;
      }
    }
    return failure_.empty() && reader_.ReadError().empty();
  }

  AvroContainerReader reader_;
  const std::string name_;
  bool header_read_ = false;
  std::string failure_;
};

// An Arrow IPC file or stream: one record per record batch, itself an IPC stream.
class ArrowSource : public RecordSource {
 public:
  ArrowSource(std::FILE *file, const std::string &name) : reader_(file, name) {}

  bool Next(SourceRecord *record) override {
    record->converted.clear();
    record->malformed.clear();
    record->oversized = 0;
    return reader_.Next(&record->raw, &record->where);
  }
  std::string Failure() const override { return reader_.Failure(); }
  std::string WriterSchema() override { return reader_.SchemaIpc(); }

 private:
  ArrowBatchReader reader_;
};

}  // namespace

std::unique_ptr<RecordSource> OpenRecordSource(Format format, std::FILE *file,
                                               const std::string &name,
                                               const zerobus::Schema *schema, bool check_json) {
  switch (format) {
    case Format::kCsv:
      return std::make_unique<CsvSource>(file, name, schema);
    case Format::kProto:
      return std::make_unique<ProtoSource>(file, name);
    case Format::kAvro:
      return std::make_unique<AvroSource>(file, name);
    case Format::kArrow:
      return std::make_unique<ArrowSource>(file, name);
    case Format::kJsonLines:
      break;
  }
  return std::make_unique<JsonLinesSource>(file, name, check_json);
}

}  // namespace zerobus::cli
