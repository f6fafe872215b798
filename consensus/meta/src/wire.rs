//! The replicated formats of a command and of its outcome: what a proposer
//! puts in a Raft entry ([`Command::encode`]) and what every replica's
//! apply returns to it ([`encode_outcome`] / [`decode_outcome`]).
//!
//! ```text
//! command = version(1) tag(1) fields...       one tag per Command variant;
//!                                             the version is the lowest that has the tag
//! outcome = version(1) 0 applied              the command's effects
//!         | version(1) 1 fs_error             the operation's error
//! ```
//!
//! Both are hand-written, start with a version byte, are bounded
//! ([`COMMAND_SIZE_BYTES_MAX`], [`OUTCOME_SIZE_BYTES_MAX`]) and decode
//! strictly: an unknown tag, a flag other than 0 or 1, a length past the end
//! or trailing bytes are a [`DecodeError`], never a panic. A command decodes
//! to exactly one value and encodes back to the same bytes.
//!
//! A new command or field means a new version byte, and a proposer may only
//! use it once every replica runs code that decodes it: a replica that
//! cannot decode an entry answers "not understood" and changes nothing but
//! its applied index, so mixing versions would make replicas differ.

use fsapi::{
    Attr, Credentials, FileType, FsError, FsResult, Generation, InodeId, SetAttr, SetTime,
    SpecialKind, WccAttr, XattrSet,
};

use crate::codec::{DecodeError, Reader, Writer};
use crate::locks::{self, LockHolder};
use crate::{Applied, Command, CreateMode, NewKind};

/// Version byte of an encoded [`Command`]: the newest this replica writes
/// and reads. Version 2 added `replicas` to `Create` (version 1 entries are
/// not understood); version 3 added the byte-range lock commands (`Lock`,
/// `Unlock`, `UnlockAll`). Each command carries the lowest version that
/// has it: the others are still written as version 2, so logs written
/// before the locks decode, and replicas that do not know locks refuse only
/// the lock entries ("unknown version").
pub const COMMAND_FORMAT_VERSION: u8 = 3;
/// The version of commands that existed before the lock commands.
const COMMAND_FORMAT_VERSION_BASE: u8 = 2;
/// Version byte of an encoded command outcome: version 2 is version 1
/// followed by the lock that denied a `Lock` command; an outcome without a
/// denial is still written as version 1.
pub const OUTCOME_FORMAT_VERSION: u8 = 2;
const OUTCOME_FORMAT_VERSION_BASE: u8 = 1;
/// Largest encoded command accepted by [`Command::decode`]; the same as
/// the default `consensus::Config::proposal_size_bytes_max`. Every valid
/// command is far smaller (the largest field is an extended attribute
/// value, [`fsapi::XATTR_VALUE_MAX_BYTES`]).
pub const COMMAND_SIZE_BYTES_MAX: usize = 1 << 20;
/// Largest encoded outcome accepted by [`decode_outcome`].
pub const OUTCOME_SIZE_BYTES_MAX: usize = 1 << 20;
/// Error texts (`FsError::Io`, `FsError::ServerFault`) are cut to this many
/// bytes in an outcome.
pub const ERROR_TEXT_BYTES_MAX: usize = 1024;

const ATTR_BYTES: usize = 101;

mod tag {
    pub const CREATE: u8 = 1;
    pub const REMOVE: u8 = 2;
    pub const RENAME: u8 = 3;
    pub const SET_XATTR: u8 = 4;
    pub const REMOVE_XATTR: u8 = 5;
    pub const RELEASE_ORPHAN: u8 = 6;
    pub const LINK: u8 = 7;
    pub const SET_ATTR: u8 = 8;
    pub const AFTER_WRITE: u8 = 9;
    pub const WRITE_INLINE: u8 = 10;
    pub const MAKE_CHUNKED: u8 = 11;
    pub const SET_CLUSTER_MAP: u8 = 12;
    pub const LOCK: u8 = 13;
    pub const UNLOCK: u8 = 14;
    pub const UNLOCK_ALL: u8 = 15;
}

/// The version byte a command of this tag is written with.
fn version_of_tag(t: u8) -> u8 {
    if t >= tag::LOCK {
        COMMAND_FORMAT_VERSION
    } else {
        COMMAND_FORMAT_VERSION_BASE
    }
}

impl Command {
    /// The command as the bytes of a Raft entry (see the module docs).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        w.u8(0); // the version, set below from the tag
        match self {
            Command::Create {
                parent,
                name,
                kind,
                mode,
                attrs,
                cred,
                now,
                generation,
                chunk_size,
                replicas,
            } => {
                w.u8(tag::CREATE).u64(parent.0).bytes(name);
                put_kind(&mut w, kind);
                match mode {
                    CreateMode::Unchecked => w.u8(1),
                    CreateMode::Guarded => w.u8(2),
                    CreateMode::Exclusive(v) => w.u8(3).array8(v),
                };
                put_set_attr(&mut w, attrs);
                put_cred(&mut w, cred);
                w.time(*now).u64(generation.0).u32(*chunk_size).u8(*replicas);
            }
            Command::Remove { parent, name, directory, cred, now, keep } => {
                w.u8(tag::REMOVE).u64(parent.0).bytes(name).flag(*directory);
                put_cred(&mut w, cred);
                w.time(*now);
                put_opt_ino(&mut w, *keep);
            }
            Command::Rename { from, from_name, to, to_name, cred, now, keep } => {
                w.u8(tag::RENAME).u64(from.0).bytes(from_name).u64(to.0).bytes(to_name);
                put_cred(&mut w, cred);
                w.time(*now);
                put_opt_ino(&mut w, *keep);
            }
            Command::SetXattr { ino, name, value, how, cred, now } => {
                w.u8(tag::SET_XATTR).u64(ino.0).bytes(name).bytes(value);
                w.u8(match how {
                    XattrSet::Either => 1,
                    XattrSet::Create => 2,
                    XattrSet::Replace => 3,
                });
                put_cred(&mut w, cred);
                w.time(*now);
            }
            Command::RemoveXattr { ino, name, cred, now } => {
                w.u8(tag::REMOVE_XATTR).u64(ino.0).bytes(name);
                put_cred(&mut w, cred);
                w.time(*now);
            }
            Command::ReleaseOrphan { ino } => {
                w.u8(tag::RELEASE_ORPHAN).u64(ino.0);
            }
            Command::Link { file, dir, name, cred, now } => {
                w.u8(tag::LINK).u64(file.0).u64(dir.0).bytes(name);
                put_cred(&mut w, cred);
                w.time(*now);
            }
            Command::SetAttr { ino, set, guard_ctime, cred, now } => {
                w.u8(tag::SET_ATTR).u64(ino.0);
                put_set_attr(&mut w, set);
                match guard_ctime {
                    Some(t) => w.flag(true).time(*t),
                    None => w.flag(false),
                };
                put_cred(&mut w, cred);
                w.time(*now);
            }
            Command::AfterWrite { ino, end, writes, cred, now } => {
                w.u8(tag::AFTER_WRITE).u64(ino.0).u64(*end).u64(*writes);
                put_cred(&mut w, cred);
                w.time(*now);
            }
            Command::WriteInline { ino, offset, data, cred, now } => {
                w.u8(tag::WRITE_INLINE).u64(ino.0).u64(*offset).bytes(data);
                put_cred(&mut w, cred);
                w.time(*now);
            }
            Command::MakeChunked { ino } => {
                w.u8(tag::MAKE_CHUNKED).u64(ino.0);
            }
            Command::SetClusterMap { expected, version, map } => {
                w.u8(tag::SET_CLUSTER_MAP).u64(*expected).u64(*version).bytes(map);
            }
            Command::Lock { ino, lock } => {
                w.u8(tag::LOCK).u64(ino.0);
                locks::put_lock(&mut w, lock);
            }
            Command::Unlock { ino, owner, start, end } => {
                w.u8(tag::UNLOCK).u64(ino.0);
                locks::put_owner(&mut w, owner);
                w.u64(*start).u64(*end);
            }
            Command::UnlockAll { holder } => {
                w.u8(tag::UNLOCK_ALL);
                match holder {
                    LockHolder::Owner(o) => {
                        w.u8(1);
                        locks::put_owner(&mut w, o);
                    }
                    LockHolder::Client { node, incarnation, client } => {
                        w.u8(2).u64(*node).u64(*incarnation).u64(*client);
                    }
                    LockHolder::Incarnation { node, incarnation } => {
                        w.u8(3).u64(*node).u64(*incarnation);
                    }
                    LockHolder::OtherIncarnations { node, keep } => {
                        w.u8(4).u64(*node).u64(*keep);
                    }
                }
            }
        }
        let mut out = w.finish();
        out[0] = version_of_tag(out[1]);
        out
    }

    /// Decode what [`Command::encode`] wrote (of this version).
    pub fn decode(b: &[u8]) -> Result<Command, DecodeError> {
        let mut r = Reader::new(b, "command");
        if b.len() > COMMAND_SIZE_BYTES_MAX {
            return Err(r.bad("over the size limit"));
        }
        let version = r.u8()?;
        if !(COMMAND_FORMAT_VERSION_BASE..=COMMAND_FORMAT_VERSION).contains(&version) {
            return Err(r.bad("unknown version"));
        }
        const MAX: usize = COMMAND_SIZE_BYTES_MAX;
        let t = r.u8()?;
        if version != version_of_tag(t) {
            return Err(r.bad("command tag of another version"));
        }
        let cmd = match t {
            tag::CREATE => {
                let parent = InodeId(r.u64()?);
                let name = r.bytes(MAX)?.to_vec();
                let kind = get_kind(&mut r)?;
                let mode = match r.u8()? {
                    1 => CreateMode::Unchecked,
                    2 => CreateMode::Guarded,
                    3 => CreateMode::Exclusive(r.array8()?),
                    _ => return Err(r.bad("unknown create mode")),
                };
                Command::Create {
                    parent,
                    name,
                    kind,
                    mode,
                    attrs: get_set_attr(&mut r)?,
                    cred: get_cred(&mut r)?,
                    now: r.time()?,
                    generation: Generation(r.u64()?),
                    chunk_size: r.u32()?,
                    replicas: r.u8()?,
                }
            }
            tag::REMOVE => Command::Remove {
                parent: InodeId(r.u64()?),
                name: r.bytes(MAX)?.to_vec(),
                directory: r.flag()?,
                cred: get_cred(&mut r)?,
                now: r.time()?,
                keep: get_opt_ino(&mut r)?,
            },
            tag::RENAME => Command::Rename {
                from: InodeId(r.u64()?),
                from_name: r.bytes(MAX)?.to_vec(),
                to: InodeId(r.u64()?),
                to_name: r.bytes(MAX)?.to_vec(),
                cred: get_cred(&mut r)?,
                now: r.time()?,
                keep: get_opt_ino(&mut r)?,
            },
            tag::SET_XATTR => Command::SetXattr {
                ino: InodeId(r.u64()?),
                name: r.bytes(MAX)?.to_vec(),
                value: r.bytes(MAX)?.to_vec(),
                how: match r.u8()? {
                    1 => XattrSet::Either,
                    2 => XattrSet::Create,
                    3 => XattrSet::Replace,
                    _ => return Err(r.bad("unknown xattr set mode")),
                },
                cred: get_cred(&mut r)?,
                now: r.time()?,
            },
            tag::REMOVE_XATTR => Command::RemoveXattr {
                ino: InodeId(r.u64()?),
                name: r.bytes(MAX)?.to_vec(),
                cred: get_cred(&mut r)?,
                now: r.time()?,
            },
            tag::RELEASE_ORPHAN => Command::ReleaseOrphan { ino: InodeId(r.u64()?) },
            tag::LINK => Command::Link {
                file: InodeId(r.u64()?),
                dir: InodeId(r.u64()?),
                name: r.bytes(MAX)?.to_vec(),
                cred: get_cred(&mut r)?,
                now: r.time()?,
            },
            tag::SET_ATTR => Command::SetAttr {
                ino: InodeId(r.u64()?),
                set: get_set_attr(&mut r)?,
                guard_ctime: if r.flag()? { Some(r.time()?) } else { None },
                cred: get_cred(&mut r)?,
                now: r.time()?,
            },
            tag::AFTER_WRITE => Command::AfterWrite {
                ino: InodeId(r.u64()?),
                end: r.u64()?,
                writes: r.u64()?,
                cred: get_cred(&mut r)?,
                now: r.time()?,
            },
            tag::WRITE_INLINE => Command::WriteInline {
                ino: InodeId(r.u64()?),
                offset: r.u64()?,
                data: r.bytes(MAX)?.to_vec(),
                cred: get_cred(&mut r)?,
                now: r.time()?,
            },
            tag::MAKE_CHUNKED => Command::MakeChunked { ino: InodeId(r.u64()?) },
            tag::SET_CLUSTER_MAP => Command::SetClusterMap {
                expected: r.u64()?,
                version: r.u64()?,
                map: r.bytes(MAX)?.to_vec(),
            },
            tag::LOCK => Command::Lock { ino: InodeId(r.u64()?), lock: locks::get_lock(&mut r)? },
            tag::UNLOCK => Command::Unlock {
                ino: InodeId(r.u64()?),
                owner: locks::get_owner(&mut r)?,
                start: r.u64()?,
                end: r.u64()?,
            },
            tag::UNLOCK_ALL => Command::UnlockAll {
                holder: match r.u8()? {
                    1 => LockHolder::Owner(locks::get_owner(&mut r)?),
                    2 => LockHolder::Client {
                        node: r.u64()?,
                        incarnation: r.u64()?,
                        client: r.u64()?,
                    },
                    3 => LockHolder::Incarnation { node: r.u64()?, incarnation: r.u64()? },
                    4 => LockHolder::OtherIncarnations { node: r.u64()?, keep: r.u64()? },
                    _ => return Err(r.bad("unknown lock holder")),
                },
            },
            _ => return Err(r.bad("unknown command tag")),
        };
        r.expect_end()?;
        Ok(cmd)
    }
}

fn put_kind(w: &mut Writer, kind: &NewKind) {
    match kind {
        NewKind::Regular => {
            w.u8(1);
        }
        NewKind::Directory => {
            w.u8(2);
        }
        NewKind::Symlink(target) => {
            w.u8(3).bytes(target);
        }
        NewKind::Special(s) => {
            w.u8(4);
            match s {
                SpecialKind::Fifo => w.u8(1),
                SpecialKind::Socket => w.u8(2),
                SpecialKind::CharDevice(a, b) => w.u8(3).u32(*a).u32(*b),
                SpecialKind::BlockDevice(a, b) => w.u8(4).u32(*a).u32(*b),
            };
        }
    }
}

fn get_kind(r: &mut Reader<'_>) -> Result<NewKind, DecodeError> {
    Ok(match r.u8()? {
        1 => NewKind::Regular,
        2 => NewKind::Directory,
        3 => NewKind::Symlink(r.bytes(COMMAND_SIZE_BYTES_MAX)?.to_vec()),
        4 => NewKind::Special(match r.u8()? {
            1 => SpecialKind::Fifo,
            2 => SpecialKind::Socket,
            3 => SpecialKind::CharDevice(r.u32()?, r.u32()?),
            4 => SpecialKind::BlockDevice(r.u32()?, r.u32()?),
            _ => return Err(r.bad("unknown special file kind")),
        }),
        _ => return Err(r.bad("unknown object kind")),
    })
}

fn put_set_time(w: &mut Writer, t: SetTime) {
    match t {
        SetTime::DontChange => w.u8(0),
        SetTime::ServerTime => w.u8(1),
        SetTime::ClientTime(t) => w.u8(2).time(t),
    };
}

fn get_set_time(r: &mut Reader<'_>) -> Result<SetTime, DecodeError> {
    Ok(match r.u8()? {
        0 => SetTime::DontChange,
        1 => SetTime::ServerTime,
        2 => SetTime::ClientTime(r.time()?),
        _ => return Err(r.bad("unknown set-time mode")),
    })
}

fn put_set_attr(w: &mut Writer, s: &SetAttr) {
    for v in [s.mode, s.uid, s.gid] {
        match v {
            Some(v) => w.flag(true).u32(v),
            None => w.flag(false),
        };
    }
    match s.size {
        Some(v) => w.flag(true).u64(v),
        None => w.flag(false),
    };
    put_set_time(w, s.atime);
    put_set_time(w, s.mtime);
}

fn get_set_attr(r: &mut Reader<'_>) -> Result<SetAttr, DecodeError> {
    let opt32 = |r: &mut Reader<'_>| -> Result<Option<u32>, DecodeError> {
        Ok(if r.flag()? { Some(r.u32()?) } else { None })
    };
    let mode = opt32(r)?;
    let uid = opt32(r)?;
    let gid = opt32(r)?;
    let size = if r.flag()? { Some(r.u64()?) } else { None };
    Ok(SetAttr { mode, uid, gid, size, atime: get_set_time(r)?, mtime: get_set_time(r)? })
}

fn put_cred(w: &mut Writer, c: &Credentials) {
    w.u32(c.uid).u32(c.gid).u64(c.groups.len() as u64);
    for g in &c.groups {
        w.u32(*g);
    }
}

fn get_cred(r: &mut Reader<'_>) -> Result<Credentials, DecodeError> {
    let uid = r.u32()?;
    let gid = r.u32()?;
    let n = r.count(4)?;
    let mut groups = Vec::with_capacity(n);
    for _ in 0..n {
        groups.push(r.u32()?);
    }
    Ok(Credentials { uid, gid, groups })
}

fn put_opt_ino(w: &mut Writer, v: Option<InodeId>) {
    match v {
        Some(i) => w.flag(true).u64(i.0),
        None => w.flag(false),
    };
}

fn get_opt_ino(r: &mut Reader<'_>) -> Result<Option<InodeId>, DecodeError> {
    Ok(if r.flag()? { Some(InodeId(r.u64()?)) } else { None })
}

/// What a replica's apply returns to the proposer: the command's effects,
/// or the operation's error. Both are results: every replica reaches the
/// same state either way.
pub fn encode_outcome(outcome: &FsResult<Applied>) -> Vec<u8> {
    let mut w = Writer::with_capacity(128);
    let denied = outcome.as_ref().ok().and_then(|a| a.lock_denied.as_ref());
    w.u8(if denied.is_some() { OUTCOME_FORMAT_VERSION } else { OUTCOME_FORMAT_VERSION_BASE });
    match outcome {
        Ok(a) => {
            w.u8(0).u64(a.changed.len() as u64);
            for (ino, before, after) in &a.changed {
                w.u64(ino.0);
                match before {
                    Some(b) => w.flag(true).u64(b.size).time(b.mtime).time(b.ctime),
                    None => w.flag(false),
                };
                put_attr(&mut w, after);
            }
            match &a.object {
                Some((ino, attr)) => {
                    w.flag(true).u64(ino.0);
                    put_attr(&mut w, attr);
                }
                None => {
                    w.flag(false);
                }
            }
            w.u64(a.freed.len() as u64);
            for ino in &a.freed {
                w.u64(ino.0);
            }
            match a.truncated {
                Some((ino, size, chunk)) => w.flag(true).u64(ino.0).u64(size).u32(chunk),
                None => w.flag(false),
            };
            if let Some(l) = denied {
                locks::put_lock(&mut w, l);
            }
        }
        Err(e) => {
            w.u8(1);
            put_error(&mut w, e);
        }
    }
    w.finish()
}

/// Decode what [`encode_outcome`] wrote. The outer error is about the
/// bytes; the inner result is the command's.
pub fn decode_outcome(b: &[u8]) -> Result<FsResult<Applied>, DecodeError> {
    let mut r = Reader::new(b, "command outcome");
    if b.len() > OUTCOME_SIZE_BYTES_MAX {
        return Err(r.bad("over the size limit"));
    }
    let version = r.u8()?;
    if !(OUTCOME_FORMAT_VERSION_BASE..=OUTCOME_FORMAT_VERSION).contains(&version) {
        return Err(r.bad("unknown version"));
    }
    let out = match r.u8()? {
        0 => {
            let mut a = Applied::default();
            for _ in 0..r.count(9 + ATTR_BYTES)? {
                let ino = InodeId(r.u64()?);
                let before = if r.flag()? {
                    Some(WccAttr { size: r.u64()?, mtime: r.time()?, ctime: r.time()? })
                } else {
                    None
                };
                a.changed.push((ino, before, get_attr(&mut r)?));
            }
            if r.flag()? {
                let ino = InodeId(r.u64()?);
                a.object = Some((ino, get_attr(&mut r)?));
            }
            for _ in 0..r.count(8)? {
                a.freed.push(InodeId(r.u64()?));
            }
            if r.flag()? {
                a.truncated = Some((InodeId(r.u64()?), r.u64()?, r.u32()?));
            }
            if version == OUTCOME_FORMAT_VERSION {
                a.lock_denied = Some(locks::get_lock(&mut r)?);
            }
            Ok(a)
        }
        1 if version == OUTCOME_FORMAT_VERSION_BASE => Err(get_error(&mut r)?),
        _ => return Err(r.bad("unknown outcome tag")),
    };
    r.expect_end()?;
    Ok(out)
}

fn ftype_code(t: FileType) -> u8 {
    match t {
        FileType::Regular => 1,
        FileType::Directory => 2,
        FileType::BlockDevice => 3,
        FileType::CharDevice => 4,
        FileType::Symlink => 5,
        FileType::Socket => 6,
        FileType::Fifo => 7,
    }
}

fn put_attr(w: &mut Writer, a: &Attr) {
    w.u8(ftype_code(a.ftype)).u32(a.mode).u32(a.nlink).u32(a.uid).u32(a.gid);
    w.u64(a.size).u64(a.used).u32(a.rdev.0).u32(a.rdev.1).u64(a.ino.0).u64(a.generation.0);
    w.time(a.atime).time(a.mtime).time(a.ctime).u64(a.change);
}

fn get_attr(r: &mut Reader<'_>) -> Result<Attr, DecodeError> {
    let ftype = match r.u8()? {
        1 => FileType::Regular,
        2 => FileType::Directory,
        3 => FileType::BlockDevice,
        4 => FileType::CharDevice,
        5 => FileType::Symlink,
        6 => FileType::Socket,
        7 => FileType::Fifo,
        _ => return Err(r.bad("unknown file type")),
    };
    Ok(Attr {
        ftype,
        mode: r.u32()?,
        nlink: r.u32()?,
        uid: r.u32()?,
        gid: r.u32()?,
        size: r.u64()?,
        used: r.u64()?,
        rdev: (r.u32()?, r.u32()?),
        ino: InodeId(r.u64()?),
        generation: Generation(r.u64()?),
        atime: r.time()?,
        mtime: r.time()?,
        ctime: r.time()?,
        change: r.u64()?,
    })
}

/// The texts of every `FsError::Invalid` this crate and `fsapi` produce:
/// the variant holds a `&'static str`, so a decoded text is mapped back to
/// the same static string. A text not in the list (a newer replica's)
/// decodes as [`INVALID_UNKNOWN`].
const INVALID_TEXTS: &[&str] = &[
    "empty name",
    "name contains '/' or NUL",
    "size of a non-regular file",
    "bad extended attribute name",
    "cannot remove '.'",
    "cannot rename '.' or '..'",
    "cannot move a directory below itself",
    "size",
    "lock range",
    "lock owner",
];

/// What an `FsError::Invalid` text unknown to this version decodes to.
pub const INVALID_UNKNOWN: &str = "invalid argument";

fn cut_text(s: &str) -> &[u8] {
    let mut n = s.len().min(ERROR_TEXT_BYTES_MAX);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s.as_bytes()[..n]
}

fn put_error(w: &mut Writer, e: &FsError) {
    let (code, text): (u8, Option<&str>) = match e {
        FsError::NotPermitted => (1, None),
        FsError::NotFound => (2, None),
        FsError::Io(t) => (3, Some(t)),
        FsError::AccessDenied => (4, None),
        FsError::Exists => (5, None),
        FsError::CrossDevice => (6, None),
        FsError::NotDir => (7, None),
        FsError::IsDir => (8, None),
        FsError::Invalid(t) => (9, Some(t)),
        FsError::FileTooLarge => (10, None),
        FsError::NoSpace => (11, None),
        FsError::ReadOnly => (12, None),
        FsError::TooManyLinks => (13, None),
        FsError::NameTooLong => (14, None),
        FsError::NotEmpty => (15, None),
        FsError::Stale => (16, None),
        FsError::BadHandle => (17, None),
        FsError::BadCookie => (18, None),
        FsError::NotSync => (19, None),
        FsError::NotSupported => (20, None),
        FsError::BadType => (21, None),
        FsError::Jukebox => (22, None),
        FsError::ServerFault(t) => (23, Some(t)),
        FsError::NoXattr => (24, None),
        FsError::XattrTooBig => (25, None),
    };
    w.u8(code);
    if let Some(t) = text {
        w.bytes(cut_text(t));
    }
}

fn get_error(r: &mut Reader<'_>) -> Result<FsError, DecodeError> {
    let code = r.u8()?;
    let text = |r: &mut Reader<'_>| -> Result<String, DecodeError> {
        let b = r.bytes(ERROR_TEXT_BYTES_MAX)?;
        String::from_utf8(b.to_vec()).map_err(|_| r.bad("error text is not UTF-8"))
    };
    Ok(match code {
        1 => FsError::NotPermitted,
        2 => FsError::NotFound,
        3 => FsError::Io(text(r)?),
        4 => FsError::AccessDenied,
        5 => FsError::Exists,
        6 => FsError::CrossDevice,
        7 => FsError::NotDir,
        8 => FsError::IsDir,
        9 => {
            let t = text(r)?;
            FsError::Invalid(
                INVALID_TEXTS.iter().find(|k| **k == t).copied().unwrap_or(INVALID_UNKNOWN),
            )
        }
        10 => FsError::FileTooLarge,
        11 => FsError::NoSpace,
        12 => FsError::ReadOnly,
        13 => FsError::TooManyLinks,
        14 => FsError::NameTooLong,
        15 => FsError::NotEmpty,
        16 => FsError::Stale,
        17 => FsError::BadHandle,
        18 => FsError::BadCookie,
        19 => FsError::NotSync,
        20 => FsError::NotSupported,
        21 => FsError::BadType,
        22 => FsError::Jukebox,
        23 => FsError::ServerFault(text(r)?),
        24 => FsError::NoXattr,
        25 => FsError::XattrTooBig,
        _ => return Err(r.bad("unknown error code")),
    })
}

/// The outcome every replica answers for an entry it cannot decode.
pub(crate) fn not_understood(e: &DecodeError) -> FsError {
    FsError::ServerFault(format!("command not understood by this replica: {e}"))
}

#[cfg(test)]
pub(crate) fn known_invalid_texts() -> &'static [&'static str] {
    INVALID_TEXTS
}
