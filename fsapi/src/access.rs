//! AUTH_SYS permission rules, the same for every backend.
//!
//! POSIX owner/group/other classes with supplementary groups, the superuser
//! override, sticky directories and setuid/setgid clearing, following what
//! the Linux VFS does so that a Linux client sees the errors it expects.

use crate::{AccessMask, Attr, Credentials, FileType, FsError, FsResult, SetAttr, SetTime};

/// Read permission bit within a class.
pub const R: u32 = 4;
/// Write permission bit within a class.
pub const W: u32 = 2;
/// Execute / search permission bit within a class.
pub const X: u32 = 1;

const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;
const S_ISVTX: u32 = 0o1000;

/// The permission bits (of `R|W|X`) that apply to `cred` for `attr`:
/// the owner class, else the group class when any of the caller's groups
/// matches, else other.
fn class_bits(attr: &Attr, cred: &Credentials) -> u32 {
    if cred.uid == attr.uid {
        (attr.mode >> 6) & 7
    } else if cred.in_group(attr.gid) {
        (attr.mode >> 3) & 7
    } else {
        attr.mode & 7
    }
}

/// True when `cred` holds every bit of `want` (`R|W|X`) on `attr`.
/// The superuser may read and write anything and may execute anything that
/// has at least one execute bit (or is a directory).
pub fn may(attr: &Attr, cred: &Credentials, want: u32) -> bool {
    if cred.uid == 0 {
        if want & X != 0 && attr.ftype != FileType::Directory && attr.mode & 0o111 == 0 {
            return false;
        }
        return true;
    }
    class_bits(attr, cred) & want == want
}

/// `Ok` when `cred` holds `want`, else [`FsError::AccessDenied`].
pub fn require(attr: &Attr, cred: &Credentials, want: u32) -> FsResult<()> {
    if may(attr, cred, want) {
        Ok(())
    } else {
        Err(FsError::AccessDenied)
    }
}

/// The ACCESS reply (RFC 1813 §3.3.4): which of `wanted` the caller may do.
pub fn access_mask(attr: &Attr, cred: &Credentials, wanted: AccessMask) -> AccessMask {
    let mut granted = 0;
    let w = wanted.0;
    let is_dir = attr.ftype == FileType::Directory;
    if w & AccessMask::READ != 0 && may(attr, cred, R) {
        granted |= AccessMask::READ;
    }
    if is_dir {
        if w & AccessMask::LOOKUP != 0 && may(attr, cred, X) {
            granted |= AccessMask::LOOKUP;
        }
        if may(attr, cred, W | X) {
            granted |= w & (AccessMask::MODIFY | AccessMask::EXTEND | AccessMask::DELETE);
        }
    } else {
        if may(attr, cred, W) {
            granted |= w & (AccessMask::MODIFY | AccessMask::EXTEND);
        }
        if w & AccessMask::EXECUTE != 0 && may(attr, cred, X) {
            granted |= AccessMask::EXECUTE;
        }
    }
    AccessMask(granted)
}

/// May `cred` add or remove entries in directory `dir`? Needs write and search.
pub fn require_dir_write(dir: &Attr, cred: &Credentials) -> FsResult<()> {
    if dir.ftype != FileType::Directory {
        return Err(FsError::NotDir);
    }
    require(dir, cred, W | X)
}

/// Sticky directories (POSIX `S_ISVTX`): only the owner of the entry, the
/// owner of the directory or the superuser may remove or rename the entry.
pub fn check_sticky(dir: &Attr, victim: &Attr, cred: &Credentials) -> FsResult<()> {
    if dir.mode & S_ISVTX != 0 && cred.uid != 0 && cred.uid != dir.uid && cred.uid != victim.uid {
        return Err(FsError::NotPermitted);
    }
    Ok(())
}

/// Check a SETATTR against the caller's rights and return the mode the
/// object gets (setuid/setgid cleared where POSIX requires it).
///
/// - mode: owner or superuser; a non-member setting setgid loses it.
/// - uid: superuser only (a no-op change to the same uid is allowed).
/// - gid: superuser, or the owner changing to a group they are in.
/// - size: write permission.
/// - times to a client value: owner or superuser; to server time: owner or
///   write permission.
/// - a chown by anyone clears setuid/setgid on non-directories.
pub fn check_setattr(attr: &Attr, cred: &Credentials, set: &SetAttr) -> FsResult<Option<u32>> {
    let root = cred.uid == 0;
    let owner = cred.uid == attr.uid;
    let mut new_mode = None;
    if let Some(mode) = set.mode {
        if !root && !owner {
            return Err(FsError::NotPermitted);
        }
        let mut m = mode & 0o7777;
        let gid = set.gid.unwrap_or(attr.gid);
        if !root && m & S_ISGID != 0 && !cred.in_group(gid) {
            m &= !S_ISGID;
        }
        new_mode = Some(m);
    }
    if let Some(uid) = set.uid {
        if uid != attr.uid && !root {
            return Err(FsError::NotPermitted);
        }
    }
    if let Some(gid) = set.gid {
        if gid != attr.gid && !root && !(owner && cred.in_group(gid)) {
            return Err(FsError::NotPermitted);
        }
    }
    let chown = set.uid.is_some_and(|u| u != attr.uid) || set.gid.is_some_and(|g| g != attr.gid);
    if chown && attr.ftype != FileType::Directory {
        let m = new_mode.unwrap_or(attr.mode & 0o7777);
        // Linux clears setgid on chown only when the group may execute.
        let mut cleared = m & !S_ISUID;
        if m & 0o010 != 0 {
            cleared &= !S_ISGID;
        }
        if cleared != m || new_mode.is_some() {
            new_mode = Some(cleared);
        }
    }
    if set.size.is_some() {
        if attr.ftype == FileType::Directory {
            return Err(FsError::IsDir);
        }
        if attr.ftype != FileType::Regular {
            return Err(FsError::Invalid("size of a non-regular file"));
        }
        require(attr, cred, W)?;
    }
    for t in [set.atime, set.mtime] {
        match t {
            SetTime::DontChange => {}
            SetTime::ClientTime(_) => {
                if !root && !owner {
                    return Err(FsError::NotPermitted);
                }
            }
            SetTime::ServerTime => {
                if !root && !owner && !may(attr, cred, W) {
                    return Err(FsError::AccessDenied);
                }
            }
        }
    }
    Ok(new_mode)
}

/// The mode a regular file keeps after a write or truncate by `cred`: a
/// writer without the superuser's privilege clears setuid, and setgid when
/// the group may execute (Linux `should_remove_suid`).
pub fn mode_after_write(attr: &Attr, cred: &Credentials) -> u32 {
    let mut m = attr.mode;
    if cred.uid != 0 && attr.ftype == FileType::Regular {
        m &= !S_ISUID;
        if m & 0o010 != 0 {
            m &= !S_ISGID;
        }
    }
    m
}

/// The gid of a new object in `dir`: the directory's group when it has
/// setgid (BSD semantics), else the caller's primary group.
pub fn new_object_gid(dir: &Attr, cred: &Credentials) -> u32 {
    if dir.mode & S_ISGID != 0 {
        dir.gid
    } else {
        cred.gid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Generation, InodeId, Timestamp};

    fn attr(ftype: FileType, mode: u32, uid: u32, gid: u32) -> Attr {
        Attr {
            ftype,
            mode,
            nlink: 1,
            uid,
            gid,
            size: 0,
            used: 0,
            rdev: (0, 0),
            ino: InodeId(2),
            generation: Generation(1),
            atime: Timestamp::default(),
            mtime: Timestamp::default(),
            ctime: Timestamp::default(),
            change: 0,
        }
    }

    fn user(uid: u32, gid: u32, groups: &[u32]) -> Credentials {
        Credentials { uid, gid, groups: groups.to_vec() }
    }

    #[test]
    fn owner_group_other_classes() {
        let f = attr(FileType::Regular, 0o640, 1000, 100);
        assert!(may(&f, &user(1000, 1000, &[]), R | W));
        assert!(may(&f, &user(1001, 5, &[100]), R), "supplementary group grants group bits");
        assert!(!may(&f, &user(1001, 5, &[100]), W));
        assert!(!may(&f, &user(1002, 5, &[]), R), "other has no bits");
        // The owner class applies even when it is narrower than group.
        let g = attr(FileType::Regular, 0o070, 1000, 100);
        assert!(!may(&g, &user(1000, 100, &[]), R));
    }

    #[test]
    fn root_reads_anything_but_executes_only_with_an_x_bit() {
        let f = attr(FileType::Regular, 0o600, 1000, 100);
        assert!(may(&f, &Credentials::root(), R | W));
        assert!(!may(&f, &Credentials::root(), X));
        let d = attr(FileType::Directory, 0o700, 1000, 100);
        assert!(may(&d, &Credentials::root(), X));
    }

    #[test]
    fn sticky_directory_protects_other_users_entries() {
        let dir = attr(FileType::Directory, 0o1777, 0, 0);
        let victim = attr(FileType::Regular, 0o644, 1000, 100);
        assert_eq!(check_sticky(&dir, &victim, &user(1001, 100, &[])), Err(FsError::NotPermitted));
        assert!(check_sticky(&dir, &victim, &user(1000, 100, &[])).is_ok());
        assert!(check_sticky(&dir, &victim, &Credentials::root()).is_ok());
    }

    #[test]
    fn chmod_chown_rules() {
        let f = attr(FileType::Regular, 0o6755, 1000, 100);
        let other = user(1001, 100, &[]);
        assert_eq!(
            check_setattr(&f, &other, &SetAttr { mode: Some(0o777), ..Default::default() }),
            Err(FsError::NotPermitted)
        );
        let owner = user(1000, 100, &[200]);
        assert_eq!(
            check_setattr(&f, &owner, &SetAttr { uid: Some(0), ..Default::default() }),
            Err(FsError::NotPermitted)
        );
        // chgrp to a group the owner is in: allowed, and clears setuid/setgid.
        let m = check_setattr(&f, &owner, &SetAttr { gid: Some(200), ..Default::default() });
        assert_eq!(m, Ok(Some(0o755)));
        // setgid bit dropped when the owner is not in the file's group.
        let h = attr(FileType::Regular, 0o644, 1000, 300);
        let m = check_setattr(&h, &owner, &SetAttr { mode: Some(0o2755), ..Default::default() });
        assert_eq!(m, Ok(Some(0o755)));
    }

    #[test]
    fn write_by_non_root_clears_setuid() {
        let f = attr(FileType::Regular, 0o6775, 1000, 100);
        assert_eq!(mode_after_write(&f, &user(1001, 100, &[])), 0o775);
        assert_eq!(mode_after_write(&f, &Credentials::root()), 0o6775);
    }

    #[test]
    fn access_reply_for_directories() {
        let d = attr(FileType::Directory, 0o755, 1000, 100);
        let other = user(1001, 5, &[]);
        let got = access_mask(&d, &other, AccessMask(AccessMask::ALL));
        assert_eq!(got.0, AccessMask::READ | AccessMask::LOOKUP);
        let got = access_mask(&d, &user(1000, 100, &[]), AccessMask(AccessMask::ALL));
        assert_eq!(got.0 & AccessMask::DELETE, AccessMask::DELETE);
    }
}
