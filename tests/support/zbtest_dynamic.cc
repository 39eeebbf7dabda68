#include "zbtest_dynamic.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace zbtest {

DynamicSchema::DynamicSchema(const std::string &descriptor_text) {
  google::protobuf::FileDescriptorProto file;
  file.set_name("zbtest_dynamic.proto");
  file.set_syntax("proto2");
  google::protobuf::DescriptorProto *message = file.add_message_type();
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(descriptor_text, message))
      << descriptor_text;
  message->SerializeToString(&descriptor_);
  const google::protobuf::FileDescriptor *built = pool_.BuildFile(file);
  EXPECT_NE(built, nullptr) << descriptor_text;
  if (built != nullptr) message_ = built->message_type(0);
}

std::string DynamicSchema::Record(const std::string &text) const {
  if (message_ == nullptr) return "";
  std::unique_ptr<google::protobuf::Message> record(factory_.GetPrototype(message_)->New());
  google::protobuf::TextFormat::Parser parser;
  parser.AllowPartialMessage(true);
  EXPECT_TRUE(parser.ParseFromString(text, record.get())) << text;
  return record->SerializePartialAsString();
}

}  // namespace zbtest
