//! Helpers shared by the integration tests: run the real binary, find the shared captures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hs-tui")
}

/// Run hs-tui with these arguments, stdout not a terminal (so batch mode).
pub fn hs_tui<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let out = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run hs-tui");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `../shared/captures`, or `None` with a printed notice when it is absent.
pub fn shared_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    if d.is_dir() {
        Some(d)
    } else {
        println!(
            "NOTICE: {} not found; shared-capture conformance skipped",
            d.display()
        );
        None
    }
}

/// Every capture in `dir`: (path, file name, file name without extension), sorted.
pub fn captures_in(dir: &Path) -> Vec<(PathBuf, String, String)> {
    let mut v: Vec<(PathBuf, String, String)> = std::fs::read_dir(dir)
        .expect("read capture dir")
        .flatten()
        .map(|e| e.path())
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().to_string();
            let (stem, ext) = name.rsplit_once('.')?;
            let stem = stem.to_string();
            matches!(ext, "pcap" | "pcapng").then_some((path, name, stem))
        })
        .collect();
    v.sort();
    v
}

pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-captures")
        .join(name)
}

pub fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
