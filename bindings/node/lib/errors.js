'use strict';

/**
 * An error of the library or of the binding. `code` is the library's symbolic name
 * ("ZB_ERR_QUEUE_FULL"), `status` its number, `retryable` whether the same call may succeed
 * later, and `grpcStatus` the gRPC status code it came from (null when it did not come from
 * gRPC). Errors delivered by a stream's 'error' event also carry the offset range of the
 * records that will never be acknowledged.
 */
class ZerobusError extends Error {
  constructor(message, { code, status, retryable, grpcStatus }) {
    super(message);
    this.name = 'ZerobusError';
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.grpcStatus = grpcStatus;
  }
}

module.exports = { ZerobusError };
