//! How the library's log levels and components meet the `log` facade's.

use std::borrow::Cow;
use std::ffi::CStr;

use log::{Level, LevelFilter};
use zerobus_sys as sys;

/// The `log` level of a library level: error, warn, info and debug to their namesakes, and any
/// more detailed level a later library may add to `Trace`.
pub(crate) fn log_level(level: sys::zb_log_level) -> Level {
    match level {
        sys::ZB_LOG_ERROR => Level::Error,
        sys::ZB_LOG_WARN => Level::Warn,
        sys::ZB_LOG_INFO => Level::Info,
        sys::ZB_LOG_DEBUG => Level::Debug,
        _ => Level::Trace,
    }
}

/// The target of a component's messages: `zerobus::<component>`, static for the components
/// this version knows, so that a message costs no allocation for its target.
pub(crate) fn target(component: &str) -> Cow<'static, str> {
    match component {
        "sdk" => "zerobus::sdk".into(),
        "stream" => "zerobus::stream".into(),
        "connection" => "zerobus::connection".into(),
        "recovery" => "zerobus::recovery".into(),
        "auth" => "zerobus::auth".into(),
        other => format!("zerobus::{other}").into(),
    }
}

/// The `log.level` value that lets through what `filter` lets through, or `None` for `Off`.
/// `Trace` asks for the most detailed level the loaded library knows.
pub(crate) fn library_level(filter: LevelFilter) -> Option<&'static CStr> {
    let level = match filter {
        LevelFilter::Off => return None,
        LevelFilter::Error => sys::ZB_LOG_ERROR,
        LevelFilter::Warn => sys::ZB_LOG_WARN,
        LevelFilter::Info => sys::ZB_LOG_INFO,
        LevelFilter::Debug => sys::ZB_LOG_DEBUG,
        // The levels are contiguous from ZB_LOG_ERROR; the first unknown one has no name.
        LevelFilter::Trace => (sys::ZB_LOG_DEBUG..)
            .take_while(|&level| level_name(level).is_some())
            .last()
            .unwrap_or(sys::ZB_LOG_DEBUG),
    };
    level_name(level)
}

fn level_name(level: sys::zb_log_level) -> Option<&'static CStr> {
    // SAFETY: zb_log_level_name() returns a static NUL-terminated string or NULL.
    let name = unsafe { sys::zb_log_level_name(level) };
    // SAFETY: as above: not NULL, it lives for the whole process.
    (!name.is_null()).then(|| unsafe { CStr::from_ptr(name) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_both_ways() {
        assert_eq!(log_level(sys::ZB_LOG_ERROR), Level::Error);
        assert_eq!(log_level(sys::ZB_LOG_DEBUG), Level::Debug);
        assert_eq!(log_level(sys::ZB_LOG_DEBUG + 1), Level::Trace);
        assert_eq!(library_level(LevelFilter::Off), None);
        assert_eq!(library_level(LevelFilter::Warn), Some(c"warn"));
        assert_eq!(library_level(LevelFilter::Trace), Some(c"debug"));
    }

    #[test]
    fn targets_name_the_component() {
        assert_eq!(target("recovery"), "zerobus::recovery");
        assert_eq!(target("new-part"), "zerobus::new-part");
    }
}
