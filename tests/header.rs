//! The committed header must be what the current code generates, and the version macros must
//! agree with `codex_version()` and Cargo.toml. (The exported symbols are checked against abi/
//! by scripts/check-abi.sh, the documentation by scripts/check-docs.py.)

use std::ffi::CStr;
use std::path::Path;

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/codex_app_server.h"));

#[test]
fn committed_header_matches_the_generated_one() {
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/codex_app_server.h");
    let committed = std::fs::read_to_string(&committed_path).expect("include/codex_app_server.h");
    assert!(
        committed == GENERATED,
        "include/codex_app_server.h is out of date with the Rust sources: run `make header` \
         and commit the result"
    );
}

#[test]
fn version_macro_matches_codex_version() {
    let line = GENERATED
        .lines()
        .find(|l| l.starts_with("#define CODEX_APP_SERVER_VERSION "))
        .expect("version macro in the header");
    let from_header = line.split('"').nth(1).unwrap();
    let from_library = unsafe { CStr::from_ptr(codex_app_server::ffi::version::codex_version()) };
    assert_eq!(from_header, from_library.to_str().unwrap());
    // ... and both agree with Cargo.toml, the one place the version is written.
    assert_eq!(from_header, env!("CARGO_PKG_VERSION"));
    for (part, value) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define CODEX_APP_SERVER_VERSION_{part} {value}\n");
        assert!(GENERATED.contains(&line), "no `{}` in the header", line.trim());
    }
}

#[test]
fn every_public_function_in_the_header_has_a_doc_comment() {
    let lines: Vec<&str> = GENERATED.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let is_decl = line.contains("codex_")
            && line.contains('(')
            && !line.starts_with(' ')
            && !line.starts_with('#')
            && !line.starts_with('*')
            && !line.starts_with("/*");
        if is_decl {
            assert!(i > 0 && lines[i - 1].trim() == "*/", "no doc comment above: {line}");
        }
    }
}
