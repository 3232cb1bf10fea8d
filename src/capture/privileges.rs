//! Dropping root after the capture is open, as tcpdump does: the packet
//! socket (or the open file) stays usable, and nothing else (parsing hostile
//! packets, writing `-w` files) runs as root.
//!
//! Which user: `-Z USER` when given (`-Z root` keeps root); otherwise, for a
//! live capture, the invoking user under sudo, else `nobody`. A file read as
//! root is parsed as root unless `-Z` is given (as tcpdump).

use super::CaptureError;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The user of `-Z`, set once from the command line before the capture opens.
static RUN_AS: OnceLock<Option<String>> = OnceLock::new();

/// The unprivileged user a live capture run as root falls back to.
pub const DEFAULT_USER: &str = "nobody";

/// Record `-Z USER` (call once, before opening the capture).
pub fn set_run_as(user: Option<String>) {
    let _ = RUN_AS.set(user);
}

fn run_as() -> Option<&'static str> {
    RUN_AS.get().and_then(|u| u.as_deref())
}

/// The home directory of the user the process became, once it switched.
static BECAME_HOME: OnceLock<PathBuf> = OnceLock::new();

/// After a switch of user: that user's home directory. Settings are read from
/// there, not from the `$HOME` of the root account that started the process
/// (which the new user cannot read).
pub fn became_home() -> Option<&'static Path> {
    BECAME_HOME.get().map(PathBuf::as_path)
}

/// The user to become, for a process whose effective user is root: `-Z`, else (live
/// only) `$SUDO_USER`, else `nobody`. `None`: stay root.
pub fn target_user(live: bool, z: Option<&str>, sudo_user: Option<&str>) -> Option<String> {
    let user = match z {
        Some(u) => u.to_string(),
        None if !live => return None,
        None => match sudo_user {
            Some(u) if !u.is_empty() => u.to_string(),
            _ => DEFAULT_USER.to_string(),
        },
    };
    (user != "root").then_some(user)
}

/// After opening a live capture: if root, become the `-Z` user, the invoking sudo
/// user or `nobody`. Returns the user switched to, if any.
pub fn drop_to_invoking_user() -> Result<Option<String>, CaptureError> {
    drop_after_open(true)
}

/// After opening a capture file: if root and `-Z USER` was given, become that user.
pub fn drop_for_file() -> Result<Option<String>, CaptureError> {
    drop_after_open(false)
}

fn drop_after_open(live: bool) -> Result<Option<String>, CaptureError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let sudo = std::env::var("SUDO_USER").ok();
    match target_user(live, run_as(), sudo.as_deref()) {
        Some(user) => become_user(&user).map(|()| Some(user)),
        None => Ok(None),
    }
}

/// Switch every user and group id (real, effective, saved) to `user`'s.
fn become_user(user: &str) -> Result<(), CaptureError> {
    let err = |detail: String| CaptureError::PrivilegeDrop {
        user: user.to_string(),
        detail,
    };
    let cname = CString::new(user).map_err(|_| err("bad user name".into()))?;
    // SAFETY: plain libc calls; getpwnam's result is copied before any other call.
    let home = unsafe {
        let pw = libc::getpwnam(cname.as_ptr());
        if pw.is_null() {
            return Err(err("no such user".into()));
        }
        let (uid, gid) = ((*pw).pw_uid, (*pw).pw_gid);
        let home = if (*pw).pw_dir.is_null() {
            PathBuf::new()
        } else {
            PathBuf::from(CStr::from_ptr((*pw).pw_dir).to_string_lossy().into_owned())
        };
        if libc::initgroups(cname.as_ptr(), gid) != 0 {
            return Err(err(std::io::Error::last_os_error().to_string()));
        }
        if libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
            return Err(err(std::io::Error::last_os_error().to_string()));
        }
        // Root must be gone for good.
        if uid != 0 && libc::setuid(0) == 0 {
            return Err(err("could still regain root".into()));
        }
        home
    };
    let _ = BECAME_HOME.set(home);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_user() {
        // Live: -Z, else the sudo user, else nobody; -Z root keeps root.
        assert_eq!(target_user(true, None, None).as_deref(), Some("nobody"));
        assert_eq!(target_user(true, None, Some("")).as_deref(), Some("nobody"));
        assert_eq!(
            target_user(true, None, Some("alice")).as_deref(),
            Some("alice")
        );
        assert_eq!(target_user(true, None, Some("root")), None);
        assert_eq!(
            target_user(true, Some("bob"), Some("alice")).as_deref(),
            Some("bob")
        );
        assert_eq!(target_user(true, Some("root"), Some("alice")), None);
        // Files: only with -Z.
        assert_eq!(target_user(false, None, Some("alice")), None);
        assert_eq!(
            target_user(false, Some("bob"), None).as_deref(),
            Some("bob")
        );
        assert_eq!(target_user(false, Some("root"), None), None);
    }
}
