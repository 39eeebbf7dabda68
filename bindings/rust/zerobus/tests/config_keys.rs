//! The typed options and the library's configuration keys (`zb_config_describe`) agree: every
//! key a typed option of `src/options.rs` sets exists, and every key has a typed option or a
//! reason to have none. A key added to, renamed in or removed from the library fails here
//! rather than at a user's run time.

use std::collections::BTreeSet;
use std::ffi::CStr;

use zerobus_sys as sys;

/// The library's keys the binding leaves to `SdkOptions::set` / `StreamOptions::set`, and why.
const KEYS_WITHOUT_TYPED_OPTION: &[(&str, &str)] = &[
    ("log.level", "set from the `log` crate's maximum level"),
    (
        "arrow.compression",
        "Arrow streams are not in the binding yet",
    ),
    ("transport.engine", "rarely needed: `SdkOptions::set`"),
];

/// Every key the loaded library describes.
fn library_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for index in 0.. {
        let mut property = sys::ZB_CONFIG_PROPERTY_INIT;
        // SAFETY: `property` is initialized with its struct_size; the error is not wanted.
        let status = unsafe { sys::zb_config_describe(index, &mut property, std::ptr::null_mut()) };
        if status != sys::ZB_OK {
            break;
        }
        // SAFETY: the library's key names are static NUL-terminated strings.
        let name = unsafe { CStr::from_ptr(property.name) };
        keys.insert(name.to_str().expect("a key is ASCII").to_string());
    }
    keys
}

/// The keys `src/options.rs` passes to `.set("...")`.
fn typed_option_keys() -> BTreeSet<String> {
    let source = include_str!("../src/options.rs");
    source
        .split(".set(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

#[test]
fn typed_options_cover_the_librarys_keys() {
    let library = library_keys();
    assert!(library.len() >= 20, "zb_config_describe lists {library:?}");
    let typed = typed_option_keys();
    assert!(
        !typed.is_empty(),
        "no .set(\"...\") found in src/options.rs"
    );
    let untyped: BTreeSet<String> = KEYS_WITHOUT_TYPED_OPTION
        .iter()
        .map(|(key, _)| key.to_string())
        .collect();
    let mut problems = Vec::new();
    for key in typed.difference(&library) {
        problems.push(format!(
            "a typed option sets {key}, not a key of the library"
        ));
    }
    for key in untyped.difference(&library) {
        problems.push(format!(
            "KEYS_WITHOUT_TYPED_OPTION names {key}, not a key of the library"
        ));
    }
    for key in typed.intersection(&untyped) {
        problems.push(format!(
            "{key} has a typed option and is listed as without one"
        ));
    }
    for key in library.difference(&typed) {
        if !untyped.contains(key) {
            problems.push(format!(
                "{key} has neither a typed option nor a reason in KEYS_WITHOUT_TYPED_OPTION"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
