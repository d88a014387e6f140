//! The shape of the repository, as docs/architecture.md states it: no
//! circle of imports between source files, no source file past 600 lines,
//! and a runtime that knows nothing of HTTP.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Every `.rs` file under `dir`, but `target/` and test directories.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "tests" | ".git" | "node_modules") {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

#[test]
fn no_source_file_is_longer_than_600_lines() {
    let root = root();
    let mut files = Vec::new();
    for dir in ["apps", "crates"] {
        sources(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "found only {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > 600).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by concern: {long:#?}");
}

#[test]
fn no_source_files_import_each_other_in_a_circle() {
    let script = root().join("tools/import_cycles.py");
    let out = match Command::new("python3").arg(&script).arg(root()).output() {
        Ok(out) => out,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("notice: python3 not found ({e}); the import-circle check was skipped");
            return;
        }
        Err(e) => panic!("python3 is needed in CI for {}: {e}", script.display()),
    };
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert_eq!(report.trim(), "no circles");
}

#[test]
fn the_runtime_knows_nothing_of_http() {
    let manifest = std::fs::read_to_string(root().join("crates/runtime/Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    for http in ["actix", "reqwest", "hyper", "axum", "http"] {
        assert!(
            !deps.lines().any(|l| l.trim_start().starts_with(http)),
            "crates/runtime depends on {http}"
        );
    }
    let mut files = Vec::new();
    sources(&root().join("crates/runtime/src"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            !text.contains("StatusCode") && !text.contains("actix"),
            "{} mentions HTTP types",
            f.display()
        );
    }
}
