//! Finds libzerobus through pkg-config (`PKG_CONFIG_PATH=<prefix>/lib/pkgconfig`) and links it.

fn main() {
    let library = pkg_config::Config::new()
        .atleast_version("0.1.0")
        .probe("zerobus")
        .unwrap_or_else(|error| panic!("libzerobus not found through pkg-config: {error}"));
    // tests/header_match.rs compiles the declarations against the very header this links to.
    let include_dirs = std::env::join_paths(&library.include_paths)
        .expect("pkg-config include directories contain no path separator");
    println!(
        "cargo:rustc-env=ZEROBUS_SYS_INCLUDE_DIRS={}",
        include_dirs.to_string_lossy()
    );
}
