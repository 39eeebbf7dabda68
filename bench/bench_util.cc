#include "bench_util.h"

#include <grpcpp/create_channel.h>
#include <sys/resource.h>

#include <google/protobuf/descriptor.pb.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bench {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

std::string EventDescriptor() {
  google::protobuf::DescriptorProto message;
  message.set_name("Event");
  auto *id = message.add_field();
  id->set_name("id");
  id->set_number(1);
  id->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
  id->set_type(google::protobuf::FieldDescriptorProto::TYPE_INT64);
  auto *payload = message.add_field();
  payload->set_name("payload");
  payload->set_number(2);
  payload->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
  payload->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);
  return message.SerializeAsString();
}

// A valid Event of exactly `size` bytes (size >= 16): id as a fixed-width varint, the payload
// padding the rest.
std::string EventRecord(long size) {
  std::string record;
  record.push_back(0x08);  // id, varint
  record.append("\x81\x80\x80\x80\x80\x80\x80\x80\x01", 9);
  const long payload = size - static_cast<long>(record.size()) - 3;
  record.push_back(0x12);  // payload, length-delimited
  record.push_back(static_cast<char>(0x80 | (payload & 0x7f)));
  record.push_back(static_cast<char>(payload >> 7));
  record.append(static_cast<size_t>(payload), 'p');
  return record;
}

void Check(zb_status status, zb_error *err, const char *what) {
  if (status == ZB_OK) return;
  std::fprintf(stderr, "%s failed: %s: %s\n", what, zb_status_name(status), zb_error_message(err));
  std::exit(1);
}

void OpenEventStream(const std::string &endpoint, const zb_config *cfg, zb_sdk **sdk,
                     zb_stream **stream) {
  zb_error *err = nullptr;
  // The local server speaks plaintext, which the SDK speaks only when asked to.
  zb_config *plaintext = nullptr;
  Check(zb_config_new(&plaintext, &err), err, "zb_config_new");
  Check(zb_config_set(plaintext, "transport.plaintext", "true", &err), err, "zb_config_set");
  Check(zb_sdk_new(endpoint.c_str(), plaintext, sdk, &err), err, "zb_sdk_new");
  zb_config_destroy(plaintext);
  const std::string descriptor = EventDescriptor();
  Check(zb_stream_new(*sdk, kTable, ZB_RECORD_PROTO, descriptor.data(), descriptor.size(), cfg,
                      stream, &err),
        err, "zb_stream_new");
}

RawEventCall::RawEventCall(const std::string &endpoint) {
  using namespace databricks::zerobus;
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  stub_ = Zerobus::NewStub(grpc::CreateCustomChannel(endpoint.substr(std::strlen("http://")),
                                                     grpc::InsecureChannelCredentials(), args));
  call_ = stub_->EphemeralStream(&context_);
  EphemeralStreamRequest create;
  create.mutable_create_stream()->set_table_name(kTable);
  create.mutable_create_stream()->set_record_type(PROTO);
  create.mutable_create_stream()->set_descriptor_proto(EventDescriptor());
  EphemeralStreamResponse response;
  if (!call_->Write(create) || !call_->Read(&response)) {
    std::fprintf(stderr, "raw gRPC: create_stream failed\n");
    std::exit(1);
  }
}

RawEventCall::~RawEventCall() {
  context_.TryCancel();
  call_->Finish();
}

}  // namespace bench
