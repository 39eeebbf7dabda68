#include "core/grpc_call.h"

namespace zerobus {

void PrepareBidiCall(grpc::GenericStub *stub, grpc::ClientContext *context, const char *method,
                     grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *reactor) {
  stub->PrepareBidiStreamingCall(context, method, grpc::StubOptions(), reactor);
}

void StartUnaryCall(grpc::GenericStub *stub, grpc::ClientContext *context, const char *method,
                    const grpc::ByteBuffer *request, grpc::ByteBuffer *response,
                    std::function<void(const grpc::Status &)> done) {
  stub->UnaryCall(context, method, grpc::StubOptions(), request, response,
                  [done = std::move(done)](grpc::Status status) { done(status); });
}

int GrpcStatusNumber(const grpc::Status &status) {
  return static_cast<int>(status.error_code());
}

}  // namespace zerobus
