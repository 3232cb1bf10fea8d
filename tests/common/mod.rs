//! Helpers shared by the integration tests: run the real binary, find the conformance
//! corpus in `tests/conformance/`, and require outside tools (tshark, tmux, root).
#![allow(dead_code)]

use std::io::Write;
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

/// The conformance corpus kept in the repository: public captures with tshark 4.0.17's
/// answers in `expected/`, and the crafted-scenario generator.
pub fn corpus_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    assert!(d.is_dir(), "{} is missing from the repository", d.display());
    d
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

/// True under CI (`CI=true`), where a missing tool fails the run instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Where skips are listed for `scripts/test` to print after the run.
pub fn skip_log() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("hs-tui-skips.txt")
}

/// Say that a test skipped part of its work, where a person sees it: the harness hides a
/// passing test's output, so write to the terminal and to the skip log `scripts/test` prints.
/// Under CI a skip is a failure.
pub fn skip(test: &str, why: &str) {
    assert!(!in_ci(), "CI=true: {test} cannot run: {why}");
    let line = format!("SKIPPED {test}: {why}\n");
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        let _ = tty.write_all(line.as_bytes());
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(skip_log())
    {
        let _ = f.write_all(line.as_bytes());
    }
    eprint!("{line}");
}

/// Whether `tool` (tshark, tmux, python3) runs; if not, record a skip for `test` (under CI:
/// fail, naming the tool).
pub fn require_tool(tool: &str, test: &str) -> bool {
    let arg = if tool == "tmux" { "-V" } else { "--version" };
    let ok = Command::new(tool)
        .arg(arg)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !ok {
        skip(test, &format!("{tool} is missing or does not run"));
    }
    ok
}

/// Whether the tests run as root; if not, record a skip (under CI: fail).
pub fn require_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        skip(test, "needs root (live capture)");
    }
    root
}

/// tshark printing `fields` of every frame `filter` selects (`None`: all) as
/// `hs-tui -T fields` is compared with it: all occurrences, comma-joined,
/// numeric addresses, C locale, the empty configuration `config`.
pub fn tshark_fields_cmd(
    cap: &std::path::Path,
    filter: Option<&str>,
    fields: &[&str],
    config: &std::path::Path,
) -> Command {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(cap);
    if let Some(f) = filter {
        cmd.args(["-Y", f]);
    }
    cmd.args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    cmd.env("WIRESHARK_CONFIG_DIR", config).env("LC_ALL", "C");
    cmd
}

/// Run tshark; its failure or empty output fails the calling test.
pub fn tshark(args: &[&str]) -> String {
    tshark_cmd(Command::new("tshark").args(args))
}

/// Run a prepared tshark command; a non-zero exit or empty output fails the test.
pub fn tshark_cmd(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {:?} failed ({}): {}",
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.stdout.is_empty(),
        "tshark {:?} printed nothing: {}",
        cmd.get_args().collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark output is UTF-8")
}

/// Whether `python3` can import `module` (duckdb, pyspark); if not, record a skip for
/// `test` (under CI: fail, naming the module).
pub fn require_python_module(module: &str, test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(
            test,
            &format!("the Python module {module} is missing (scripts/deps test installs it)"),
        );
    }
    ok
}
