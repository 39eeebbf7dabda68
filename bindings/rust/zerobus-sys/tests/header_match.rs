//! Checks that `src/lib.rs` declares exactly what `zerobus/zerobus.h` declares, so the two
//! cannot drift apart.
//!
//! Every item of `src/lib.rs` is translated to C and compiled together with the header by the
//! system's C compiler (`$CC`, else `cc`): a function or callback type whose parameters differ
//! from the header's is a "conflicting types" error, and static assertions compare constants,
//! struct sizes, alignments, field offsets and field types. Then the names on both sides are
//! compared, so that nothing the header adds can be missed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::mem::{align_of, size_of};
use std::process::{Command, Stdio};

use zerobus_sys as sys;

/// The sizes and alignments Rust gives the structs, which the C compiler must agree with: this
/// catches a mistake in the translation to C as well as one in the declarations.
fn rust_layouts() -> BTreeMap<&'static str, (usize, usize)> {
    BTreeMap::from([
        (
            "zb_config_property",
            (
                size_of::<sys::zb_config_property>(),
                align_of::<sys::zb_config_property>(),
            ),
        ),
        (
            "zb_event",
            (size_of::<sys::zb_event>(), align_of::<sys::zb_event>()),
        ),
        (
            "zb_stream_info",
            (
                size_of::<sys::zb_stream_info>(),
                align_of::<sys::zb_stream_info>(),
            ),
        ),
    ])
}

/// What `src/lib.rs` declares, by kind, and the C that must compile with the header.
#[derive(Default)]
struct Declarations {
    functions: BTreeSet<String>,
    types: BTreeSet<String>,
    constants: BTreeSet<String>,
    c_source: String,
}

#[test]
fn declarations_compile_against_the_header() {
    let declarations = rust_declarations();
    compile_c(&declarations.c_source, &["-fsyntax-only"])
        .unwrap_or_else(|errors| panic!("{errors}\n--- generated C:\n{}", declarations.c_source));
}

#[test]
fn every_header_item_is_declared_and_nothing_else() {
    let declarations = rust_declarations();
    let preprocessed = compile_c("#include <zerobus/zerobus.h>\n", &["-E", "-P"]).unwrap();
    let (functions, types) = header_functions_and_types(&preprocessed);
    assert_eq!(declarations.functions, functions, "functions");
    assert_eq!(declarations.types, types, "types");
    let macros = compile_c("#include <zerobus/zerobus.h>\n", &["-E", "-dM"]).unwrap();
    assert_eq!(
        declarations.constants,
        header_constants(&macros),
        "constants"
    );
}

#[test]
fn initializers_carry_their_struct_size() {
    assert_eq!(
        sys::ZB_EVENT_INIT.struct_size as usize,
        size_of::<sys::zb_event>()
    );
    assert_eq!(
        sys::ZB_STREAM_INFO_INIT.struct_size as usize,
        size_of::<sys::zb_stream_info>()
    );
    assert_eq!(
        sys::ZB_CONFIG_PROPERTY_INIT.struct_size as usize,
        size_of::<sys::zb_config_property>()
    );
}

#[test]
fn the_loaded_library_is_the_version_declared() {
    // SAFETY: both functions take nothing and return a static value.
    let (version, text) = unsafe { (sys::zb_version(), sys::zb_version_str()) };
    assert_eq!(version, sys::ZB_VERSION_NUM);
    // SAFETY: zb_version_str() returns a static NUL-terminated string.
    let text = unsafe { std::ffi::CStr::from_ptr(text) }.to_str().unwrap();
    let declared = format!(
        "{}.{}.{}",
        sys::ZB_VERSION_MAJOR,
        sys::ZB_VERSION_MINOR,
        sys::ZB_VERSION_PATCH
    );
    assert_eq!(text, declared);
    // The crate's build metadata names the C version it was written for.
    assert_eq!(
        env!("CARGO_PKG_VERSION").split_once('+').unwrap().1,
        declared
    );
}

fn rust_declarations() -> Declarations {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs");
    let file = syn::parse_file(&std::fs::read_to_string(path).unwrap()).unwrap();
    let layouts = rust_layouts();
    let mut out = Declarations {
        c_source: "#include <stddef.h>\n#include <zerobus/zerobus.h>\n".to_string(),
        ..Declarations::default()
    };
    let mut values = BTreeMap::new();
    for item in &file.items {
        match item {
            syn::Item::Use(_) => {}
            syn::Item::Type(alias) => {
                let name = alias.ident.to_string();
                out.c_source += &format!("typedef {};\n", c_declaration(&alias.ty, &name));
                out.types.insert(name);
            }
            syn::Item::Struct(item) => {
                let name = item.ident.to_string();
                assert!(is_repr_c(&item.attrs), "{name} is not #[repr(C)]");
                let public: Vec<&syn::Field> = item
                    .fields
                    .iter()
                    .filter(|field| matches!(field.vis, syn::Visibility::Public(_)))
                    .collect();
                if public.is_empty() {
                    // Opaque: a redeclaration conflicts unless the header's is an incomplete
                    // struct of this tag.
                    out.c_source += &format!("typedef struct {name} {name};\n");
                } else {
                    assert_eq!(
                        public.len(),
                        item.fields.len(),
                        "{name} mixes private fields"
                    );
                    let (size, align) = *layouts
                        .get(name.as_str())
                        .unwrap_or_else(|| panic!("add {name} to rust_layouts()"));
                    out.c_source += &struct_checks(&name, &public, size, align);
                }
                out.types.insert(name);
            }
            syn::Item::Const(constant) => {
                let name = constant.ident.to_string();
                // Initializers (ZB_*_INIT) are struct literals, checked by
                // initializers_carry_their_struct_size; every integer constant must equal the
                // header's macro.
                if !matches!(*constant.expr, syn::Expr::Struct(_)) {
                    let value = evaluate(&constant.expr, &values);
                    out.c_source += &format!(
                        "_Static_assert((long long)({name}) == {value}LL, \"{name} is {value} \
                         in Rust\");\n"
                    );
                    values.insert(name.clone(), value);
                }
                out.constants.insert(name);
            }
            syn::Item::ForeignMod(block) => {
                assert_eq!(block.abi.name.as_ref().unwrap().value(), "C");
                for foreign in &block.items {
                    let syn::ForeignItem::Fn(function) = foreign else {
                        panic!("only functions belong in the extern block");
                    };
                    let name = function.sig.ident.to_string();
                    out.c_source += &format!(
                        "{};\n",
                        c_function(&name, &function.sig.output, parameter_types(&function.sig))
                    );
                    out.functions.insert(name);
                }
            }
            other => panic!("no translation to C for this item: {other:?}"),
        }
    }
    out
}

fn is_repr_c(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("repr")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|repr| repr == "C")
    })
}

/// A copy of the struct as Rust lays it out under another tag, and assertions that it matches
/// the header's field by field.
fn struct_checks(name: &str, fields: &[&syn::Field], size: usize, align: usize) -> String {
    let mirror = format!("struct rust_{name}");
    let mut c = format!("{mirror} {{\n");
    for field in fields {
        c += &format!("  {};\n", c_declaration(&field.ty, &field_name(field)));
    }
    c += "};\n";
    c += &format!("_Static_assert(sizeof({name}) == {size}, \"{name}: size\");\n");
    c += &format!("_Static_assert(_Alignof({name}) == {align}, \"{name}: alignment\");\n");
    c += &format!("_Static_assert(sizeof({mirror}) == {size}, \"{name}: size of the copy\");\n");
    for field in fields {
        let field = field_name(field);
        c += &format!(
            "_Static_assert(offsetof({mirror}, {field}) == offsetof({name}, {field}), \
             \"{name}.{field}: offset\");\n"
        );
        c += &format!(
            "_Static_assert(__builtin_types_compatible_p(__typeof__((({mirror} *)0)->{field}), \
             __typeof__((({name} *)0)->{field})), \"{name}.{field}: type\");\n"
        );
    }
    c
}

fn field_name(field: &syn::Field) -> String {
    let name = field.ident.as_ref().unwrap().to_string();
    name.strip_prefix("r#").map(str::to_string).unwrap_or(name)
}

fn parameter_types(signature: &syn::Signature) -> Vec<&syn::Type> {
    signature
        .inputs
        .iter()
        .map(|input| match input {
            syn::FnArg::Typed(parameter) => &*parameter.ty,
            syn::FnArg::Receiver(_) => panic!("a receiver in an extern function"),
        })
        .collect()
}

/// `RETURN NAME(PARAMETERS)` in C; NAME may be a declarator such as `(*zb_free_cb)`.
fn c_function(name: &str, output: &syn::ReturnType, parameters: Vec<&syn::Type>) -> String {
    let parameters: Vec<String> = parameters.into_iter().map(c_type).collect();
    let parameters = if parameters.is_empty() {
        "void".to_string()
    } else {
        parameters.join(", ")
    };
    let result = match output {
        syn::ReturnType::Default => "void".to_string(),
        syn::ReturnType::Type(_, ty) => c_type(ty),
    };
    format!("{result} {name}({parameters})")
}

/// `TYPE NAME` in C, for a value or, through `Option<unsafe extern "C" fn>`, a function pointer.
fn c_declaration(ty: &syn::Type, name: &str) -> String {
    match function_pointer(ty) {
        Some(function) => {
            assert!(
                function.unsafety.is_some(),
                "{name}: callbacks are unsafe fns"
            );
            let abi = function.abi.as_ref().and_then(|abi| abi.name.as_ref());
            assert_eq!(
                abi.map(|abi| abi.value()).as_deref(),
                Some("C"),
                "{name}: ABI"
            );
            let parameters = function.inputs.iter().map(|input| &input.ty).collect();
            c_function(&format!("(*{name})"), &function.output, parameters)
        }
        None => format!("{} {name}", c_type(ty)),
    }
}

/// The `fn` in `Option<unsafe extern "C" fn(...)>`, the nullable function pointer C has.
fn function_pointer(ty: &syn::Type) -> Option<&syn::TypeBareFn> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    if segment.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    match arguments.args.first()? {
        syn::GenericArgument::Type(syn::Type::BareFn(function)) => Some(function),
        _ => None,
    }
}

fn c_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Ptr(pointer) => {
            let pointee = c_type(&pointer.elem);
            if pointer.const_token.is_some() {
                format!("{pointee} const *")
            } else {
                format!("{pointee} *")
            }
        }
        syn::Type::Path(path) => {
            let name = path.path.segments.last().unwrap().ident.to_string();
            match name.as_str() {
                "i32" => "int32_t".to_string(),
                "u32" => "uint32_t".to_string(),
                "i64" => "int64_t".to_string(),
                "u64" => "uint64_t".to_string(),
                "usize" => "size_t".to_string(),
                "c_char" => "char".to_string(),
                "c_void" => "void".to_string(),
                _ if name.starts_with("zb_") => name,
                // The Arrow C Data structs, which the header names by their tags.
                _ if name.starts_with("Arrow") => format!("struct {name}"),
                _ => panic!("no C type for {name}"),
            }
        }
        syn::Type::Tuple(tuple) if tuple.elems.is_empty() => "void".to_string(),
        other => panic!("no C type for {other:?}"),
    }
}

/// The value of an integer constant's expression: literals, negation, shifts, ors and earlier
/// constants, which is all the header's macros use.
fn evaluate(expr: &syn::Expr, constants: &BTreeMap<String, i128>) -> i128 {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(literal),
            ..
        }) => literal.base10_parse().unwrap(),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => -evaluate(expr, constants),
        syn::Expr::Paren(inner) => evaluate(&inner.expr, constants),
        syn::Expr::Binary(binary) => {
            let (left, right) = (
                evaluate(&binary.left, constants),
                evaluate(&binary.right, constants),
            );
            match binary.op {
                syn::BinOp::Shl(_) => left << right,
                syn::BinOp::BitOr(_) => left | right,
                ref op => panic!("no evaluation for {op:?}"),
            }
        }
        syn::Expr::Path(path) => {
            let name = path.path.get_ident().unwrap().to_string();
            *constants
                .get(&name)
                .unwrap_or_else(|| panic!("{name} is used before it is declared"))
        }
        other => panic!("no evaluation for {other:?}"),
    }
}

/// The `zb_` functions and types the preprocessed header declares: its top-level declarations
/// (split at semicolons outside braces), named by their declarator.
fn header_functions_and_types(preprocessed: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut functions, mut types) = (BTreeSet::new(), BTreeSet::new());
    let mut depth = 0;
    let mut start = 0;
    for (index, character) in preprocessed.char_indices() {
        match character {
            '{' => depth += 1,
            '}' => depth -= 1,
            ';' if depth == 0 => {
                let declaration = preprocessed[start..index].trim();
                start = index + 1;
                if declaration.starts_with("typedef") {
                    let name = match declaration.find("(*") {
                        Some(at) => {
                            let declarator = &declaration[at + 2..];
                            declarator[..declarator.find(')').unwrap()].trim()
                        }
                        None => last_identifier(declaration),
                    };
                    if name.starts_with("zb_") {
                        types.insert(name.to_string());
                    }
                } else if let Some(tag) = declaration.strip_prefix("struct Arrow") {
                    // The Arrow C Data structs the Arrow functions take, declared by tag only.
                    types.insert(format!("Arrow{}", tag.trim()));
                } else if let Some(parenthesis) = declaration.find('(') {
                    let name = last_identifier(&declaration[..parenthesis]);
                    if name.starts_with("zb_") {
                        functions.insert(name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    (functions, types)
}

fn last_identifier(text: &str) -> &str {
    let text = text.trim_end();
    let start = text
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |at| at + 1);
    &text[start..]
}

/// The header's `ZB_` macros from `cc -dM -E`, but ZB_API, a visibility attribute for C, and
/// ZB_EXPERIMENTAL_PERSISTENT, the opt-in that `compile_c` defines.
fn header_constants(macros: &str) -> BTreeSet<String> {
    macros
        .lines()
        .filter_map(|line| line.strip_prefix("#define ")?.split_whitespace().next())
        .filter(|name| {
            name.starts_with("ZB_") && !["ZB_API", "ZB_EXPERIMENTAL_PERSISTENT"].contains(name)
        })
        .map(str::to_string)
        .collect()
}

/// Runs the C compiler on `source` with the header's include directories; its stdout, or its
/// diagnostics when it fails.
fn compile_c(source: &str, arguments: &[&str]) -> Result<String, String> {
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let mut command = Command::new(&compiler);
    // With the experimental section, which zerobus-sys declares too.
    command.args([
        "-std=c11",
        "-Wall",
        "-Werror",
        "-DZB_EXPERIMENTAL_PERSISTENT",
        "-x",
        "c",
    ]);
    for directory in std::env::split_paths(env!("ZEROBUS_SYS_INCLUDE_DIRS")) {
        if !directory.as_os_str().is_empty() {
            command.arg("-I").arg(directory);
        }
    }
    let mut child = command
        .args(arguments)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run the C compiler {compiler:?}: {error}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
