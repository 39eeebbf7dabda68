#include "core/grpc_call.h"

namespace zerobus {

void PrepareBidiCall(grpc::GenericStub *stub, grpc::ClientContext *context, const char *method,
                     grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *reactor) {
  stub->PrepareBidiStreamingCall(context, method, grpc::StubOptions(), reactor);
}

int GrpcStatusNumber(const grpc::Status &status) {
  return static_cast<int>(status.error_code());
}

}  // namespace zerobus
