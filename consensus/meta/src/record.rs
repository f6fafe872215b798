//! Stored values: inode records, directory entries, cookie index entries.
//!
//! Every value starts with a format version byte; an empty value is a
//! tombstone (the object was removed in that epoch). Decoding never panics:
//! a short or unknown value is [`MetaError::Corrupt`].

use fsapi::{Attr, FileType, Generation, InodeId, Timestamp};

use crate::MetaError;

const RECORD_V1: u8 = 1;
/// An inode record with `replicas` (the last byte); version 1 records
/// (without it) still decode, with `replicas` 0.
const INODE_RECORD_V2: u8 = 2;

/// First cookie handed to a real entry; 1 and 2 are `.` and `..`.
pub const FIRST_COOKIE: u64 = 3;

/// Everything the namespace knows about one inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InodeRecord {
    pub ftype: FileType,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub rdev: (u32, u32),
    pub generation: Generation,
    pub atime: Timestamp,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
    pub change: u64,
    /// Chunk size of a regular file's data, fixed at creation.
    pub chunk_size: u32,
    /// Regular files: copies of each chunk in a cluster, fixed at creation
    /// (0 = the cluster's default; always 0 for other types).
    pub replicas: u8,
    /// Directories: the parent (for `..`); the root is its own parent.
    pub parent: InodeId,
    /// Directories: the next cookie to hand out.
    pub next_cookie: u64,
    /// Directories: number of entries (not counting `.` and `..`).
    pub entries: u64,
    /// The verifier of an exclusive CREATE (RFC 1813 §3.3.8), kept until the
    /// first SETATTR.
    pub create_verifier: Option<[u8; 8]>,
    /// Symbolic links: the target.
    pub target: Vec<u8>,
    /// Regular files: true once the data lives in chunk files; false while
    /// it is small enough to live in `inline`.
    pub chunked: bool,
    /// Regular files not yet chunked: bytes `0..inline.len()` of the file
    /// (at most [`crate::INLINE_DATA_MAX_BYTES`]); the rest up to `size` is zeros.
    pub inline: Vec<u8>,
}

impl InodeRecord {
    /// The attributes the front end sees (`used` is filled in by the data plane).
    pub fn to_attr(&self, ino: InodeId) -> Attr {
        let size = match self.ftype {
            FileType::Directory => 4096 + self.entries.saturating_mul(32),
            FileType::Symlink => self.target.len() as u64,
            _ => self.size,
        };
        Attr {
            ftype: self.ftype,
            mode: self.mode,
            nlink: self.nlink,
            uid: self.uid,
            gid: self.gid,
            size,
            used: match self.ftype {
                FileType::Regular if self.chunked => 0,
                FileType::Regular => (self.inline.len() as u64).div_ceil(4096) * 4096,
                _ => size.div_ceil(4096) * 4096,
            },
            rdev: self.rdev,
            ino,
            generation: self.generation,
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
            change: self.change,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(128 + self.target.len());
        v.push(INODE_RECORD_V2);
        v.push(ftype_code(self.ftype));
        for x in
            [self.mode, self.nlink, self.uid, self.gid, self.rdev.0, self.rdev.1, self.chunk_size]
        {
            v.extend_from_slice(&x.to_le_bytes());
        }
        for x in [
            self.size,
            self.generation.0,
            self.change,
            self.parent.0,
            self.next_cookie,
            self.entries,
        ] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        for t in [self.atime, self.mtime, self.ctime] {
            v.extend_from_slice(&t.seconds.to_le_bytes());
            v.extend_from_slice(&t.nanos.to_le_bytes());
        }
        match self.create_verifier {
            Some(verf) => {
                v.push(1);
                v.extend_from_slice(&verf);
            }
            None => v.push(0),
        }
        v.extend_from_slice(&(self.target.len() as u32).to_le_bytes());
        v.extend_from_slice(&self.target);
        v.push(u8::from(self.chunked));
        v.extend_from_slice(&(self.inline.len() as u32).to_le_bytes());
        v.extend_from_slice(&self.inline);
        v.push(self.replicas);
        v
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self, MetaError> {
        let mut r = Reader(b);
        let version = r.u8()?;
        if version != RECORD_V1 && version != INODE_RECORD_V2 {
            return Err(MetaError::Corrupt("unknown inode record version"));
        }
        let ftype = ftype_from(r.u8()?)?;
        let mode = r.u32()?;
        let nlink = r.u32()?;
        let uid = r.u32()?;
        let gid = r.u32()?;
        let rdev = (r.u32()?, r.u32()?);
        let chunk_size = r.u32()?;
        let size = r.u64()?;
        let generation = Generation(r.u64()?);
        let change = r.u64()?;
        let parent = InodeId(r.u64()?);
        let next_cookie = r.u64()?;
        let entries = r.u64()?;
        let atime = r.time()?;
        let mtime = r.time()?;
        let ctime = r.time()?;
        let create_verifier = match r.u8()? {
            0 => None,
            1 => Some(r.array8()?),
            _ => return Err(MetaError::Corrupt("bad verifier flag")),
        };
        let n = r.u32()? as usize;
        let target = r.take(n)?.to_vec();
        let chunked = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(MetaError::Corrupt("bad chunked flag")),
        };
        let n = r.u32()? as usize;
        let inline = r.take(n)?.to_vec();
        let replicas = if version == INODE_RECORD_V2 { r.u8()? } else { 0 };
        Ok(InodeRecord {
            ftype,
            mode,
            nlink,
            uid,
            gid,
            size,
            rdev,
            generation,
            atime,
            mtime,
            ctime,
            change,
            chunk_size,
            replicas,
            parent,
            next_cookie,
            entries,
            create_verifier,
            target,
            chunked,
            inline,
        })
    }
}

/// The value of a `d` key: the child and the entry's cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirentValue {
    pub child: InodeId,
    pub cookie: u64,
}

impl DirentValue {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(17);
        v.push(RECORD_V1);
        v.extend_from_slice(&self.child.0.to_le_bytes());
        v.extend_from_slice(&self.cookie.to_le_bytes());
        v
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self, MetaError> {
        let mut r = Reader(b);
        if r.u8()? != RECORD_V1 {
            return Err(MetaError::Corrupt("unknown dirent version"));
        }
        Ok(DirentValue { child: InodeId(r.u64()?), cookie: r.u64()? })
    }
}

/// The value of a `c` key: the child and the entry's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieValue {
    pub child: InodeId,
    pub name: Vec<u8>,
}

impl CookieValue {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(9 + self.name.len());
        v.push(RECORD_V1);
        v.extend_from_slice(&self.child.0.to_le_bytes());
        v.extend_from_slice(&self.name);
        v
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self, MetaError> {
        let mut r = Reader(b);
        if r.u8()? != RECORD_V1 {
            return Err(MetaError::Corrupt("unknown cookie entry version"));
        }
        let child = InodeId(r.u64()?);
        Ok(CookieValue { child, name: r.0.to_vec() })
    }
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

fn ftype_from(c: u8) -> Result<FileType, MetaError> {
    Ok(match c {
        1 => FileType::Regular,
        2 => FileType::Directory,
        3 => FileType::BlockDevice,
        4 => FileType::CharDevice,
        5 => FileType::Symlink,
        6 => FileType::Socket,
        7 => FileType::Fifo,
        _ => return Err(MetaError::Corrupt("unknown file type")),
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MetaError> {
        if self.0.len() < n {
            return Err(MetaError::Corrupt("truncated record"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, MetaError> {
        Ok(self.take(1)?[0])
    }
    fn array8(&mut self) -> Result<[u8; 8], MetaError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, MetaError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }
    fn u64(&mut self) -> Result<u64, MetaError> {
        Ok(u64::from_le_bytes(self.array8()?))
    }
    fn time(&mut self) -> Result<Timestamp, MetaError> {
        let seconds = self.u64()? as i64;
        let nanos = self.u32()?;
        Ok(Timestamp { seconds, nanos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> InodeRecord {
        InodeRecord {
            ftype: FileType::Symlink,
            mode: 0o777,
            nlink: 1,
            uid: 1000,
            gid: 100,
            size: 0,
            rdev: (0, 0),
            generation: Generation(42),
            atime: Timestamp { seconds: -5, nanos: 7 },
            mtime: Timestamp { seconds: 1_700_000_000, nanos: 999_999_999 },
            ctime: Timestamp { seconds: 1, nanos: 0 },
            change: 9,
            chunk_size: 4 << 20,
            replicas: 2,
            parent: InodeId(1),
            next_cookie: FIRST_COOKIE,
            entries: 0,
            create_verifier: Some([1, 2, 3, 4, 5, 6, 7, 8]),
            target: b"../x/y".to_vec(),
            chunked: false,
            inline: b"small".to_vec(),
        }
    }

    #[test]
    fn records_round_trip_and_truncation_is_an_error() {
        let r = sample();
        let bytes = r.encode();
        assert_eq!(InodeRecord::decode(&bytes).expect("decode"), r);
        for cut in 0..bytes.len() {
            assert!(InodeRecord::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // A version 1 record (no `replicas`) reads with replicas 0.
        let mut v1 = bytes.clone();
        v1[0] = RECORD_V1;
        v1.pop();
        let old = InodeRecord::decode(&v1).expect("decode v1");
        assert_eq!(old, InodeRecord { replicas: 0, ..r.clone() });
        let d = DirentValue { child: InodeId(5), cookie: 77 };
        assert_eq!(DirentValue::decode(&d.encode()).expect("decode"), d);
        let c = CookieValue { child: InodeId(5), name: b"name".to_vec() };
        assert_eq!(CookieValue::decode(&c.encode()).expect("decode"), c);
    }
}
