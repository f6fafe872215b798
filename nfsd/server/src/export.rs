//! Export rules: which clients may reach which subtree, and as whom.
//!
//! Checked on MOUNT and again on every NFS call (the handle carries the
//! export it was issued under), so a handle leaked to a client outside the
//! allowlist is useless to it.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use fsapi::{Credentials, FileRef};

/// How client identities are mapped (exports(5) squashing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Squash {
    /// uid 0 and gid 0 become the anonymous ids (the default).
    #[default]
    Root,
    /// Every user becomes the anonymous ids.
    All,
    /// Identities are taken as sent.
    None,
}

/// One address range of an allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// True when `ip` lies in the range. IPv4-mapped IPv6 clients match IPv4
    /// ranges; a zero-length prefix (`*`, `0.0.0.0/0`, `::/0`) matches all.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if self.prefix == 0 {
            return true;
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - self.prefix) };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix == 0 {
            write!(f, "*")
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    /// `10.0.0.0/8`, `192.168.1.7`, `::1/128`, or `*` (everyone).
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "*" {
            return Ok(Cidr { addr: IpAddr::from([0, 0, 0, 0]), prefix: 0 });
        }
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr =
            a.parse().map_err(|_| format!("'{s}' is not an address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("bad prefix length in '{s}'"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }
}

/// One exported subtree: its rules and the directory its path names.
#[derive(Debug, Clone)]
pub struct Export {
    pub rules: ExportRules,
    /// The directory `rules.path` names (resolved at start).
    pub root: FileRef,
}

/// What an export allows, as configured.
#[derive(Debug, Clone)]
pub struct ExportRules {
    /// The path clients mount, e.g. `/` or `/projects`.
    pub path: String,
    /// Clients allowed (`*` for all).
    pub clients: Vec<Cidr>,
    pub read_only: bool,
    pub squash: Squash,
    pub anon_uid: u32,
    pub anon_gid: u32,
    /// Accept requests from source ports ≥ 1024.
    pub insecure: bool,
    /// Allow MKNOD of block and character devices.
    pub allow_devices: bool,
}

impl ExportRules {
    /// True when `peer` may use this export at all.
    pub fn admits(&self, peer: SocketAddr) -> bool {
        let allowed = self.clients.iter().any(|c| c.contains(peer.ip()));
        allowed && (self.insecure || peer.port() < 1024)
    }

    /// The identity a request runs as after squashing. `auth` is the
    /// AUTH_SYS credential, `None` for AUTH_NONE (always anonymous).
    pub fn map_credentials(&self, auth: Option<(u32, u32, &[u32])>) -> Credentials {
        let anon = Credentials { uid: self.anon_uid, gid: self.anon_gid, groups: Vec::new() };
        let Some((uid, gid, groups)) = auth else { return anon };
        match self.squash {
            Squash::All => anon,
            Squash::None => Credentials { uid, gid, groups: groups.to_vec() },
            Squash::Root => Credentials {
                uid: if uid == 0 { self.anon_uid } else { uid },
                gid: if gid == 0 { self.anon_gid } else { gid },
                groups: groups.iter().map(|&g| if g == 0 { self.anon_gid } else { g }).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(clients: &[&str], squash: Squash, insecure: bool) -> ExportRules {
        ExportRules {
            path: "/".into(),
            clients: clients.iter().map(|c| c.parse().expect("cidr")).collect(),
            read_only: false,
            squash,
            anon_uid: 65534,
            anon_gid: 65534,
            insecure,
            allow_devices: false,
        }
    }

    #[test]
    fn allowlist_and_secure_ports() {
        let e = export(&["10.1.0.0/16", "::1"], Squash::Root, false);
        assert!(e.admits("10.1.2.3:700".parse().expect("addr")));
        assert!(
            !e.admits("10.1.2.3:40000".parse().expect("addr")),
            "insecure port refused by default"
        );
        assert!(!e.admits("10.2.0.1:700".parse().expect("addr")));
        assert!(e.admits("[::1]:800".parse().expect("addr")));
        assert!(e.admits("[::ffff:10.1.0.9]:800".parse().expect("addr")), "v4-mapped client");
        let open = export(&["*"], Squash::Root, true);
        assert!(open.admits("192.0.2.1:50000".parse().expect("addr")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("bogus".parse::<Cidr>().is_err());
    }

    #[test]
    fn squashing() {
        let root = export(&["*"], Squash::Root, true);
        assert_eq!(
            root.map_credentials(Some((0, 0, &[0, 5]))),
            Credentials { uid: 65534, gid: 65534, groups: vec![65534, 5] }
        );
        assert_eq!(root.map_credentials(Some((1000, 100, &[]))).uid, 1000);
        assert_eq!(
            export(&["*"], Squash::All, true).map_credentials(Some((1000, 100, &[]))).uid,
            65534
        );
        assert_eq!(export(&["*"], Squash::None, true).map_credentials(Some((0, 0, &[]))).uid, 0);
        assert_eq!(root.map_credentials(None).uid, 65534, "AUTH_NONE is anonymous");
    }
}
