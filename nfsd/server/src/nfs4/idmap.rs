//! `owner` and `owner_group` strings (RFC 7530 §5.9, RFC 8881 §5.9).
//!
//! AUTH_SYS clients (the Linux client by default) send and expect numeric
//! strings ("1000"); clients that map ids send `name@domain`. The server
//! answers in the configured [`OwnerFormat`] and accepts both forms: a
//! numeric string, `N@domain`, or `name@domain` for a name it knows, when
//! `domain` is the configured one. Anything else is NFS4ERR_BADOWNER.

use std::collections::BTreeMap;

/// How the server writes owners in replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerFormat {
    /// "1000": what the Linux client expects with AUTH_SYS (its
    /// `nfs4_disable_idmapping` default).
    Numeric,
    /// "alice@example.com" for ids with a known name; numeric otherwise
    /// (RFC 7530 §5.9 allows numeric strings for ids without a name).
    Name,
}

/// Names and ids of users and groups, and the NFSv4 id-mapping domain.
#[derive(Debug, Clone)]
pub struct IdMapper {
    format: OwnerFormat,
    domain: String,
    users: BTreeMap<u32, String>,
    groups: BTreeMap<u32, String>,
    user_ids: BTreeMap<String, u32>,
    group_ids: BTreeMap<String, u32>,
}

/// An owner string the server cannot map (NFS4ERR_BADOWNER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadOwner;

impl IdMapper {
    /// A mapper writing `format`, for `domain`, with user and group names
    /// from files in `/etc/passwd` and `/etc/group` format (empty: numeric
    /// only).
    pub fn new(format: OwnerFormat, domain: &str, passwd: &str, group: &str) -> Self {
        let users = parse_db(passwd);
        let groups = parse_db(group);
        let user_ids = users.iter().map(|(id, n)| (n.clone(), *id)).collect();
        let group_ids = groups.iter().map(|(id, n)| (n.clone(), *id)).collect();
        IdMapper { format, domain: domain.to_string(), users, groups, user_ids, group_ids }
    }

    /// Numeric owners only.
    pub fn numeric() -> Self {
        IdMapper::new(OwnerFormat::Numeric, "localdomain", "", "")
    }

    /// The `owner` string for `uid`.
    pub fn user_to_wire(&self, uid: u32) -> Vec<u8> {
        self.to_wire(uid, &self.users)
    }

    /// The `owner_group` string for `gid`.
    pub fn group_to_wire(&self, gid: u32) -> Vec<u8> {
        self.to_wire(gid, &self.groups)
    }

    /// The uid an `owner` string names.
    pub fn user_from_wire(&self, s: &[u8]) -> Result<u32, BadOwner> {
        self.parse_wire(s, &self.user_ids)
    }

    /// The gid an `owner_group` string names.
    pub fn group_from_wire(&self, s: &[u8]) -> Result<u32, BadOwner> {
        self.parse_wire(s, &self.group_ids)
    }

    fn to_wire(&self, id: u32, names: &BTreeMap<u32, String>) -> Vec<u8> {
        match (self.format, names.get(&id)) {
            (OwnerFormat::Name, Some(n)) => format!("{n}@{}", self.domain).into_bytes(),
            _ => id.to_string().into_bytes(),
        }
    }

    fn parse_wire(&self, s: &[u8], ids: &BTreeMap<String, u32>) -> Result<u32, BadOwner> {
        let s = std::str::from_utf8(s).map_err(|_| BadOwner)?;
        let (name, domain) = match s.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (s, None),
        };
        if let Some(d) = domain {
            if !d.eq_ignore_ascii_case(&self.domain) {
                return Err(BadOwner);
            }
        }
        if let Some(id) = parse_numeric(name) {
            return Ok(id);
        }
        match domain {
            Some(_) => ids.get(name).copied().ok_or(BadOwner),
            // a bare name is not a valid owner (RFC 7530 §5.9: user@domain or a number)
            None => Err(BadOwner),
        }
    }
}

/// A decimal id without sign or leading zeros (RFC 7530 §5.9: "a numeric
/// value ... without leading zeros").
fn parse_numeric(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// `name:x:id:...` lines; later duplicates do not replace earlier ones.
fn parse_db(text: &str) -> BTreeMap<u32, String> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let mut f = line.split(':');
        let (Some(name), Some(_), Some(id)) = (f.next(), f.next(), f.next()) else { continue };
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        if let Ok(id) = id.parse::<u32>() {
            m.entry(id).or_insert_with(|| name.to_string());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:alice\n";

    /// RFC 7530 §5.9: numeric strings are accepted in both directions.
    #[test]
    fn numeric_owners_round_trip() {
        let m = IdMapper::numeric();
        assert_eq!(m.user_to_wire(1000), b"1000");
        assert_eq!(m.user_from_wire(b"1000"), Ok(1000));
        assert_eq!(m.group_from_wire(b"0"), Ok(0));
        assert_eq!(m.user_from_wire(b"1000@localdomain"), Ok(1000));
        assert_eq!(m.user_from_wire(b"01000"), Err(BadOwner));
        assert_eq!(m.user_from_wire(b"-1"), Err(BadOwner));
        assert_eq!(m.user_from_wire(b"99999999999"), Err(BadOwner));
        assert_eq!(m.user_from_wire(b""), Err(BadOwner));
        assert_eq!(m.user_from_wire(b"nobody"), Err(BadOwner));
        assert_eq!(m.user_from_wire(&[0xff, 0xfe]), Err(BadOwner));
    }

    /// name@domain is answered in the Name format and accepted only for the
    /// configured domain and known names.
    #[test]
    fn names_map_within_the_domain() {
        let m = IdMapper::new(OwnerFormat::Name, "example.com", PASSWD, GROUP);
        assert_eq!(m.user_to_wire(1000), b"alice@example.com");
        assert_eq!(m.group_to_wire(50), b"staff@example.com");
        assert_eq!(m.user_to_wire(4242), b"4242", "an id without a name is numeric");
        assert_eq!(m.user_from_wire(b"alice@example.com"), Ok(1000));
        assert_eq!(m.user_from_wire(b"alice@EXAMPLE.com"), Ok(1000));
        assert_eq!(m.user_from_wire(b"alice@other.org"), Err(BadOwner));
        assert_eq!(m.user_from_wire(b"bob@example.com"), Err(BadOwner));
        assert_eq!(m.group_from_wire(b"staff@example.com"), Ok(50));
        assert_eq!(m.user_from_wire(b"1000"), Ok(1000));
    }
}
