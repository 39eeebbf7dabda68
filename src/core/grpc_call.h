// The only code of the library where gRPC handles the number a server sent as grpc-status.
//
// A server may send any number there, and gRPC hands it on as it came: its own inline code
// (CallOpClientRecvStatus::FinishOp) loads it as a grpc_status_code and stores it in a
// grpc::Status, whose StatusCode enum cannot hold 99. No hook runs before that code, so it is
// kept in this file, which the sanitizer build compiles without UBSan's enum check (and only
// that check); everything else sees the number through GrpcStatusNumber() and maps it with
// KnownStatusCode() (connection.h) before making a grpc::StatusCode of it.
#ifndef ZEROBUS_CORE_GRPC_CALL_H
#define ZEROBUS_CORE_GRPC_CALL_H

#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>
#include <grpcpp/support/status.h>

#include <functional>

namespace zerobus {

// gRPC's PrepareBidiStreamingCall of `method` on `stub` for `reactor`: instantiates, here,
// the inline code that receives the call's status.
void PrepareBidiCall(grpc::GenericStub *stub, grpc::ClientContext *context, const char *method,
                     grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *reactor);

// gRPC's UnaryCall of `method` on `stub`, `done` receiving its status: instantiates, here, the
// inline code that receives the call's status, and the copies of it, so that `done` is given
// a reference and the caller never copies or assigns a grpc::Status.
void StartUnaryCall(grpc::GenericStub *stub, grpc::ClientContext *context, const char *method,
                    const grpc::ByteBuffer *request, grpc::ByteBuffer *response,
                    std::function<void(const grpc::Status &)> done);

// The status's code as the number the server sent, which may be any int.
int GrpcStatusNumber(const grpc::Status &status);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_GRPC_CALL_H
