//! Dropping root after the live handle is open, as tcpdump does: the
//! packet socket stays usable, and nothing else (parsing hostile packets,
//! writing `-w` files) runs as root.

use super::CaptureError;
use std::ffi::CString;

/// If running as root under sudo, become the invoking user. Returns the user
/// switched to, if any.
pub fn drop_to_invoking_user() -> Result<Option<String>, CaptureError> {
    // SAFETY: plain libc calls; getpwnam's result is copied before any other call.
    unsafe {
        if libc::geteuid() != 0 {
            return Ok(None);
        }
        let Ok(user) = std::env::var("SUDO_USER") else {
            return Ok(None);
        };
        if user.is_empty() || user == "root" {
            return Ok(None);
        }
        let err = |detail: String| CaptureError::PrivilegeDrop {
            user: user.clone(),
            detail,
        };
        let cname = CString::new(user.clone()).map_err(|_| err("bad user name".into()))?;
        let pw = libc::getpwnam(cname.as_ptr());
        if pw.is_null() {
            return Err(err("no such user".into()));
        }
        let (uid, gid) = ((*pw).pw_uid, (*pw).pw_gid);
        if libc::initgroups(cname.as_ptr(), gid) != 0 {
            return Err(err(std::io::Error::last_os_error().to_string()));
        }
        if libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
            return Err(err(std::io::Error::last_os_error().to_string()));
        }
        Ok(Some(user))
    }
}
