// Proto schemas for C++ tests written as text: a google.protobuf.DescriptorProto in text format
// (what create_stream sends) and records of it in text format, so that a test shows the exact
// descriptor and values it sends.
#ifndef ZBTEST_DYNAMIC_H
#define ZBTEST_DYNAMIC_H

#include <memory>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

namespace zbtest {

class DynamicSchema {
 public:
  // `descriptor_text`: a DescriptorProto in text format, e.g.
  //   name: "Row" field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 }
  // Fails the current test (and yields an empty descriptor) when it does not parse or build.
  explicit DynamicSchema(const std::string &descriptor_text);

  // The serialized DescriptorProto.
  const std::string &descriptor() const { return descriptor_; }

  // A record given in text format (e.g. `id: 5 loc { lat: 1.5 }`), serialized. Required fields
  // may be left out, to test the server's check.
  std::string Record(const std::string &text) const;

 private:
  std::string descriptor_;
  google::protobuf::DescriptorPool pool_;
  mutable google::protobuf::DynamicMessageFactory factory_;  // caches prototypes
  const google::protobuf::Descriptor *message_ = nullptr;
};

}  // namespace zbtest

#endif  // ZBTEST_DYNAMIC_H
