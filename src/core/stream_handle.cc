#include "core/stream_handle.h"

#include <string>
#include <string_view>

#include "core/laned_stream.h"
#include "core/stream.h"

namespace zerobus {
namespace {

Status OpenEither(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                  std::string descriptor, std::shared_ptr<const RecordSchema> schema,
                  const Config &config, UserHandle handle, std::unique_ptr<StreamHandle> *out) {
  if (config.settings().lanes > 1) {
    return LanedStream::Open(std::move(sdk), std::move(table_name), format, std::move(descriptor),
                             std::move(schema), config, handle, out);
  }
  std::unique_ptr<Stream> stream;
  Status opened =
      Stream::OpenWith(std::move(sdk), std::move(table_name), format, std::move(descriptor),
                       std::move(schema), config, handle, Persistence(), &stream);
  if (opened.ok()) *out = std::move(stream);
  return opened;
}

}  // namespace

Status StreamHandle::Close(int32_t timeout_ms) {
  bool first = false;
  Status result = CloseOnce(timeout_ms, &first);
  if (first) LogClosed(result);
  // Outside the close's own serialization: the callback being waited for may itself be closing
  // the stream.
  EventQueue &queue = events();
  if (!queue.OnDispatcherThread()) queue.WaitDelivered();
  return result;
}

std::string Plural(uint64_t count, const char *noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

Status CloseTimedOut(int32_t timeout_ms, uint64_t first, uint64_t last) {
  return Status(StatusCode::kTimeout, "close timed out after " + std::to_string(timeout_ms) +
                                          " ms with " + Plural(last - first + 1, "record") +
                                          " unacknowledged (offsets " + std::to_string(first) +
                                          ".." + std::to_string(last) +
                                          "); zb_stream_unacked() returns them");
}

Status StreamHandle::Open(std::shared_ptr<Sdk> sdk, std::string table_name, RecordFormat format,
                          std::string descriptor, const Config &config, UserHandle handle,
                          std::unique_ptr<StreamHandle> *out) {
  return OpenEither(std::move(sdk), std::move(table_name), format, std::move(descriptor), nullptr,
                    config, handle, out);
}

Status StreamHandle::OpenFromSchema(std::shared_ptr<Sdk> sdk,
                                    std::shared_ptr<const RecordSchema> schema, RecordFormat format,
                                    const Config &config, UserHandle handle,
                                    std::unique_ptr<StreamHandle> *out) {
  std::string table_name = schema->table_name();
  std::string writer_schema;
  if (format == RecordFormat::kAvro) {
    const std::string *avro = nullptr;
    Status has_avro = schema->AvroSchema(&avro);
    if (!has_avro.ok()) return has_avro;
    writer_schema = *avro;
  } else {
    writer_schema = schema->descriptor();
  }
  return OpenEither(std::move(sdk), std::move(table_name), format, std::move(writer_schema),
                    std::move(schema), config, handle, out);
}

Status StreamHandle::OpenPersistent(std::shared_ptr<Sdk> sdk, std::string table_name,
                                    RecordFormat format, std::string descriptor,
                                    std::shared_ptr<const RecordSchema> schema,
                                    const Config &config, UserHandle handle,
                                    Persistence persistence, std::unique_ptr<StreamHandle> *out) {
  if (config.settings().lanes > 1) {
    return Status(StatusCode::kInvalidArg,
                  "a persistent stream has one lane (stream.lanes=1): each lane is a server "
                  "stream with offsets of its own, and one durable watermark cannot describe them");
  }
  std::unique_ptr<Stream> stream;
  Status opened =
      Stream::OpenWith(std::move(sdk), std::move(table_name), format, std::move(descriptor),
                       std::move(schema), config, handle, std::move(persistence), &stream);
  if (opened.ok()) *out = std::move(stream);
  return opened;
}

Status StreamHandle::OpenArrow(std::shared_ptr<Sdk> sdk, std::string table_name,
                               std::shared_ptr<const arrow::Schema> schema, const Config &config,
                               UserHandle handle, std::unique_ptr<StreamHandle> *out) {
  if (config.settings().lanes > 1) {
    return Status(StatusCode::kInvalidArg, "an Arrow stream has one lane: set stream.lanes to 1");
  }
  std::unique_ptr<Stream> stream;
  Status opened = Stream::OpenArrow(std::move(sdk), std::move(table_name), std::move(schema),
                                    config, handle, &stream);
  if (opened.ok()) *out = std::move(stream);
  return opened;
}

void StreamHandle::Destroy(std::unique_ptr<StreamHandle> stream) {
  EventQueue &events = stream->events();
  if (events.OnDispatcherThread()) {
    StreamHandle *raw = stream.release();
    events.Stop([raw] { delete raw; });
  }
}

std::string RecordName(size_t index, size_t count) {
  return count == 1 ? "the record" : "record " + std::to_string(index) + " of the batch";
}

Status PrepareRecords(const RecordSchema *schema, RecordFormat stream_format, RecordFormat given,
                      size_t count, const RecordView **records, std::vector<std::string> *encoded,
                      std::vector<RecordView> *views) {
  if (given == RecordFormat::kJson && schema != nullptr) {
    encoded->assign(count, std::string());
    views->assign(count, RecordView{nullptr, 0});
    for (size_t i = 0; i < count; ++i) {
      const std::string_view json(static_cast<const char *>((*records)[i].data), (*records)[i].len);
      Status fits = schema->EncodeJson(stream_format, json, &(*encoded)[i]);
      if (!fits.ok()) {
        return count == 1 ? fits
                          : Status(fits.code(), RecordName(i, count) + ": " + fits.message());
      }
      (*views)[i] = RecordView{(*encoded)[i].data(), (*encoded)[i].size()};
    }
    *records = views->data();
    return Status::Ok();
  }
  if (given != stream_format) {
    return Status(StatusCode::kRecordType,
                  std::string("this stream takes ") + RecordFormatName(stream_format) + " records");
  }
  return Status::Ok();
}

}  // namespace zerobus
