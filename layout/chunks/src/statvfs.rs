//! `statvfs(3)` of the data directory: the one place of the crate with
//! `unsafe`. std has no safe wrapper and the call is small enough that a
//! dependency (nix, rustix) is not worth it.

#![allow(unsafe_code)]
// The statvfs field types differ between platforms (u32 or u64).
#![allow(clippy::unnecessary_cast)]

use std::ffi::CString;
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Space and inode counts of a file system (`statvfs(3)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsSpace {
    /// Size of the file system, in bytes.
    pub total_bytes: u64,
    /// Free space, in bytes, including what only root may use.
    pub free_bytes: u64,
    /// Free space available to unprivileged users, in bytes.
    pub avail_bytes: u64,
    /// Number of inodes.
    pub files_total: u64,
    /// Number of free inodes.
    pub files_free: u64,
}

pub(crate) fn statvfs(path: &Path) -> io::Result<FsSpace> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    let mut out = MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the
    // call, and `out` points to writable memory of the type statvfs fills.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), out.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it initialised the whole struct.
    let s = unsafe { out.assume_init() };
    let frsize = s.f_frsize as u64;
    Ok(FsSpace {
        total_bytes: (s.f_blocks as u64).saturating_mul(frsize),
        free_bytes: (s.f_bfree as u64).saturating_mul(frsize),
        avail_bytes: (s.f_bavail as u64).saturating_mul(frsize),
        files_total: s.f_files as u64,
        files_free: s.f_ffree as u64,
    })
}
