#include "zbtest_event.h"

#include <cstring>
#include <memory>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>

namespace {

using google::protobuf::FieldDescriptorProto;

// Built once from a DescriptorProto rather than hand-encoded, so that the records provably
// match the descriptor the tests send.
struct EventSchema {
  EventSchema() {
    google::protobuf::FileDescriptorProto file;
    file.set_name("zbtest_event.proto");
    google::protobuf::DescriptorProto *message = file.add_message_type();
    message->set_name("Event");
    AddField(message, "id", 1, FieldDescriptorProto::TYPE_INT64);
    AddField(message, "payload", 2, FieldDescriptorProto::TYPE_STRING);
    message->SerializeToString(&descriptor);
    event = pool.BuildFile(file)->FindMessageTypeByName("Event");
    prototype = factory.GetPrototype(event);
  }

  static void AddField(google::protobuf::DescriptorProto *message, const char *name, int number,
                       FieldDescriptorProto::Type type) {
    FieldDescriptorProto *field = message->add_field();
    field->set_name(name);
    field->set_number(number);
    field->set_label(FieldDescriptorProto::LABEL_OPTIONAL);
    field->set_type(type);
  }

  std::string descriptor;
  google::protobuf::DescriptorPool pool;
  const google::protobuf::Descriptor *event = nullptr;
  google::protobuf::DynamicMessageFactory factory;
  const google::protobuf::Message *prototype = nullptr;
};

const EventSchema &Schema() {
  // Never destroyed: tests may encode from threads that outlive static destruction.
  static const EventSchema *schema = new EventSchema();
  return *schema;
}

}  // namespace

extern "C" void zbtest_descriptor(const uint8_t **data, size_t *len) {
  const std::string &bytes = Schema().descriptor;
  *data = reinterpret_cast<const uint8_t *>(bytes.data());
  *len = bytes.size();
}

extern "C" size_t zbtest_encode_event(int64_t id, const char *payload, uint8_t *buf, size_t cap) {
  const EventSchema &schema = Schema();
  std::unique_ptr<google::protobuf::Message> event(schema.prototype->New());
  const google::protobuf::Reflection *reflection = event->GetReflection();
  reflection->SetInt64(event.get(), schema.event->FindFieldByNumber(1), id);
  if (payload != nullptr) {
    reflection->SetString(event.get(), schema.event->FindFieldByNumber(2), payload);
  }
  const std::string bytes = event->SerializeAsString();
  if (bytes.size() <= cap) std::memcpy(buf, bytes.data(), bytes.size());
  return bytes.size();
}
