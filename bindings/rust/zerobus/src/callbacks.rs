//! The `extern "C"` trampolines through which the library calls Rust closures.
//!
//! Each closure is registered as a `Box<Arc<...>>` turned into the `user_data` pointer (an
//! `Arc<dyn Fn>` is a fat pointer, the box makes it thin); the library frees it exactly once
//! through [`free_boxed`] when no stream or config holds the registration any more, which the
//! destroy barrier of `zb_stream_destroy()` orders after the last call.

use std::cell::Cell;
use std::ffi::{CStr, CString, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::null_mut;
use std::sync::Arc;

use zerobus_sys as sys;

use crate::Ack;

/// The closure of [`StreamOptions::on_ack`](crate::StreamOptions::on_ack).
pub(crate) type AckCallback = dyn Fn(Ack) + Send + Sync + 'static;
/// The closure of [`StreamOptions::on_wakeup`](crate::StreamOptions::on_wakeup).
pub(crate) type WakeupCallback = dyn Fn() + Send + Sync + 'static;
/// The closure of [`StreamOptions::headers_provider`](crate::StreamOptions::headers_provider).
pub(crate) type HeadersProvider =
    dyn Fn() -> Result<Vec<(String, String)>, ProviderError> + Send + Sync + 'static;
/// The closure of [`StreamOptions::token_federation`](crate::StreamOptions::token_federation).
pub(crate) type SubjectTokenProvider =
    dyn Fn() -> Result<String, ProviderError> + Send + Sync + 'static;
/// The closure of [`SdkOptions::on_statistics`](crate::SdkOptions::on_statistics).
pub(crate) type StatsCallback = dyn Fn(&str) + Send + Sync + 'static;
/// Whatever error a headers or subject token provider gives; only its being an error reaches
/// the library.
pub(crate) type ProviderError = Box<dyn std::error::Error + Send + Sync>;

/// Hands `value` to the library: the `user_data` pointer and the function that frees it.
pub(crate) fn register<T>(value: T) -> (*mut c_void, sys::zb_free_cb) {
    (Box::into_raw(Box::new(value)).cast(), Some(free_boxed::<T>))
}

/// The headers provider: adds the closure's headers to the connection attempt. An error, a
/// panic or a header the library refuses fails the attempt (the library reports
/// `ZB_ERR_AUTH`).
///
/// # Safety
/// Called by the library only: `headers` is valid for the call, `user_data` is the
/// `Box<Arc<HeadersProvider>>` given to `zb_config_set_headers_provider()`, not yet freed.
pub(crate) unsafe extern "C" fn provide_headers(
    headers: *mut sys::zb_headers,
    user_data: *mut c_void,
) -> sys::zb_status {
    contain_panic(sys::ZB_ERR_AUTH, || {
        let _inside = InLibraryWork::enter();
        // SAFETY: as the function's contract says.
        let provider = unsafe { &*user_data.cast::<Arc<HeadersProvider>>() };
        let Ok(values) = provider() else {
            return sys::ZB_ERR_AUTH;
        };
        for (name, value) in values {
            let (Ok(name), Ok(value)) = (CString::new(name), CString::new(value)) else {
                return sys::ZB_ERR_AUTH;
            };
            // SAFETY: `headers` is valid during the call; the strings are copied.
            let status =
                unsafe { sys::zb_headers_add(headers, name.as_ptr(), value.as_ptr(), null_mut()) };
            if status != sys::ZB_OK {
                return status;
            }
        }
        sys::ZB_OK
    })
}

/// The token federation callback: gives the closure's subject token to the library. An error,
/// a panic, an empty token or one the library refuses (not printable ASCII) fails the attempt
/// (the library reports `ZB_ERR_AUTH`); the process never aborts.
///
/// # Safety
/// Called by the library only: `sink` is valid for the call, `user_data` is the
/// `Box<Arc<SubjectTokenProvider>>` given to `zb_config_set_token_federation()`, not yet freed.
pub(crate) unsafe extern "C" fn provide_subject_token(
    sink: *mut sys::zb_token_sink,
    user_data: *mut c_void,
) -> sys::zb_status {
    contain_panic(sys::ZB_ERR_AUTH, || {
        let _inside = InLibraryWork::enter();
        // SAFETY: as the function's contract says.
        let provider = unsafe { &*user_data.cast::<Arc<SubjectTokenProvider>>() };
        let Ok(token) = provider() else {
            return sys::ZB_ERR_AUTH;
        };
        let Ok(token) = CString::new(token) else {
            return sys::ZB_ERR_AUTH;
        };
        if token.is_empty() {
            return sys::ZB_ERR_AUTH;
        }
        // SAFETY: `sink` is valid during the call; the token is copied.
        unsafe { sys::zb_token_sink_set(sink, token.as_ptr(), null_mut()) }
    })
}

/// The log callback: hands the message to the `log` facade, with the target
/// `zerobus::<component>`. It needs no `user_data`: the facade is global.
///
/// # Safety
/// Called by the library only: `component` and `message` are NUL-terminated strings valid for
/// the call.
pub(crate) unsafe extern "C" fn forward_log(
    level: sys::zb_log_level,
    component: *const c_char,
    message: *const c_char,
    _user_data: *mut c_void,
) {
    contain_panic((), || {
        let level = crate::logging::log_level(level);
        // SAFETY: as the function's contract says.
        let (component, message) = unsafe { (CStr::from_ptr(component), CStr::from_ptr(message)) };
        let target = crate::logging::target(&component.to_string_lossy());
        let _inside = InLibraryWork::enter();
        log::log!(target: &target, level, "{}", message.to_string_lossy());
    });
}

/// The statistics callback: hands the JSON to the registered closure.
///
/// # Safety
/// Called by the library only: `json` holds `len` bytes valid for the call, `user_data` is the
/// `Box<Arc<StatsCallback>>` given to `zb_config_set_stats_callback()`, not yet freed.
pub(crate) unsafe extern "C" fn deliver_stats(
    _sdk: *mut sys::zb_sdk,
    json: *const c_char,
    len: usize,
    user_data: *mut c_void,
) {
    contain_panic((), || {
        // SAFETY: as the function's contract says.
        let (callback, json) = unsafe {
            (
                &*user_data.cast::<Arc<StatsCallback>>(),
                std::slice::from_raw_parts(json.cast::<u8>(), len),
            )
        };
        callback(&String::from_utf8_lossy(json));
    });
}

/// Frees a value given to the library by [`register`]; dropping it may drop the closure and
/// whatever it captured.
///
/// # Safety
/// `user_data` comes from `register::<T>` and is freed only this once.
unsafe extern "C" fn free_boxed<T>(user_data: *mut c_void) {
    // SAFETY: as the function's contract says.
    contain_panic((), || drop(unsafe { Box::from_raw(user_data.cast::<T>()) }));
}

/// Runs `body` on a library thread, or returns `on_panic` when it panics. A panic must not
/// unwind into C (Rust aborts the process when it tries); the panic hook has already reported
/// it, so it is dropped here and the library's thread carries on.
pub(crate) fn contain_panic<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

thread_local! {
    /// Whether this thread runs a callback inside the library's work on a stream.
    static IN_LIBRARY_WORK: Cell<bool> = const { Cell::new(false) };
}

/// Marks the thread, while it lives, as inside a callback that the library makes in the midst
/// of its work on a stream, where destroying a stream is refused or waits for that very work:
/// the log callback (the library refuses, zerobus.h `zb_log_cb`), the headers provider and the
/// token federation callback (a reconnection of the stream being destroyed would wait for
/// itself). There
/// [`Stream`](crate::Stream)'s drop hands the destroy to a thread of its own.
pub(crate) struct InLibraryWork {
    outer: bool,
}

impl InLibraryWork {
    fn enter() -> InLibraryWork {
        InLibraryWork {
            outer: IN_LIBRARY_WORK.with(|inside| inside.replace(true)),
        }
    }

    /// Whether the calling thread is inside such a callback.
    pub(crate) fn active() -> bool {
        IN_LIBRARY_WORK.with(Cell::get)
    }
}

impl Drop for InLibraryWork {
    fn drop(&mut self) {
        IN_LIBRARY_WORK.with(|inside| inside.set(self.outer));
    }
}
