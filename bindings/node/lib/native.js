'use strict';

// Loads the addon and gives it what it needs from JavaScript: the error class it throws and
// the function a stream's wakeup calls.
const path = require('node:path');
const { ZerobusError } = require('./errors');

const binding = require(path.join(__dirname, '..', 'build', 'Release', 'zerobus.node'));

/** The JavaScript Stream that owns a native stream, set on the native object. */
const kOwner = Symbol('zerobus.owner');
/** The Stream method a wakeup calls on the JavaScript thread. */
const kWakeup = Symbol('zerobus.wakeup');

binding.init(ZerobusError, (nativeStream) => nativeStream[kOwner]?.[kWakeup]());

/** Every status code of the loaded library by symbolic name: { ZB_OK: 0, ... }. */
const Status = Object.freeze(
  Object.fromEntries(binding.statusNames().map((name, status) => [name, status])),
);

/** A ZerobusError the binding makes itself: a misuse it detects (never retryable), or a wait
 *  that timed out (retryable, as the library's timeouts are). */
function bindingError(code, message, retryable = false) {
  return new ZerobusError(message, {
    code,
    status: Status[code],
    retryable,
    grpcStatus: null,
  });
}

module.exports = { binding, kOwner, kWakeup, Status, bindingError };
