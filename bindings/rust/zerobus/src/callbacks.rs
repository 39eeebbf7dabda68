//! The `extern "C"` trampolines through which the library calls Rust closures.
//!
//! Each closure is registered as a `Box<Arc<...>>` turned into the `user_data` pointer (an
//! `Arc<dyn Fn>` is a fat pointer, the box makes it thin); the library frees it exactly once
//! through [`free_boxed`] when no stream or config holds the registration any more, which the
//! destroy barrier of `zb_stream_destroy()` orders after the last call.

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use zerobus_sys as sys;

use crate::Ack;

/// The closure of [`StreamOptions::on_ack`](crate::StreamOptions::on_ack).
pub(crate) type AckCallback = dyn Fn(Ack) + Send + Sync + 'static;
/// The closure of [`StreamOptions::on_wakeup`](crate::StreamOptions::on_wakeup).
pub(crate) type WakeupCallback = dyn Fn() + Send + Sync + 'static;

/// Hands `value` to the library: the `user_data` pointer and the function that frees it.
pub(crate) fn register<T>(value: T) -> (*mut c_void, sys::zb_free_cb) {
    (Box::into_raw(Box::new(value)).cast(), Some(free_boxed::<T>))
}

/// The event callback: turns the event into an [`Ack`] for the registered closure.
///
/// # Safety
/// Called by the library only: `event` is valid for the call, `user_data` is the
/// `Box<Arc<AckCallback>>` given to `zb_config_set_event_callback()`, not yet freed.
pub(crate) unsafe extern "C" fn deliver_ack(
    _stream: *mut sys::zb_stream,
    event: *const sys::zb_event,
    user_data: *mut c_void,
) {
    contain_panic(|| {
        // SAFETY: as the function's contract says; the event's error is borrowed for the call.
        let (callback, ack) = unsafe {
            (
                &*user_data.cast::<Arc<AckCallback>>(),
                Ack::from_event(&*event),
            )
        };
        if let Some(ack) = ack {
            callback(ack);
        }
    });
}

/// The wakeup: calls the registered closure.
///
/// # Safety
/// Called by the library only: `user_data` is the `Box<Arc<WakeupCallback>>` given to
/// `zb_config_set_wakeup()`, not yet freed.
pub(crate) unsafe extern "C" fn wake(user_data: *mut c_void) {
    // SAFETY: as the function's contract says.
    contain_panic(|| unsafe { (*user_data.cast::<Arc<WakeupCallback>>())() });
}

/// Frees a value given to the library by [`register`]; dropping it may drop the closure and
/// whatever it captured.
///
/// # Safety
/// `user_data` comes from `register::<T>` and is freed only this once.
unsafe extern "C" fn free_boxed<T>(user_data: *mut c_void) {
    // SAFETY: as the function's contract says.
    contain_panic(|| drop(unsafe { Box::from_raw(user_data.cast::<T>()) }));
}

/// Runs `body` on a library thread. A panic must not unwind into C (Rust aborts the process
/// when it tries); the panic hook has already reported it, so it is dropped here and the
/// library's thread carries on with its next event.
fn contain_panic(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}
