//! The configuration file: TOML, every key optional, defaults embedded
//! (`default-config.toml`, printed by `cairn config default`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use nfs_server::{Cidr, ExportRules, Limits, Squash};
use serde::Deserialize;

/// The embedded default configuration, with its comments.
pub const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub nfs4: Nfs4Section,
    #[serde(default)]
    pub admin: AdminSection,
    #[serde(default = "default_exports", rename = "export")]
    pub exports: Vec<ExportSection>,
    /// Cluster mode (`cluster::start`); absent = a single node.
    #[serde(default)]
    pub cluster: Option<ClusterSection>,
}

/// `[cluster]`: this node's part in a Raft cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// This node's Raft id (not 0), one of the members.
    pub node_id: u64,
    /// The file written by `cairn cluster init`: cluster id, founding time,
    /// cluster secret (peer authentication, handle MACs).
    pub secret_file: PathBuf,
    /// Copies of each chunk (at most the number of members).
    #[serde(default = "default_replicas")]
    pub replicas: usize,
    /// Raft tick in milliseconds (election timeout: 10 to 20 ticks).
    #[serde(default = "default_tick_ms")]
    pub tick_ms: u64,
    /// This node joins a running cluster (`cairn serve --join`): it starts
    /// with an empty Raft log and waits to be added as a learner; the
    /// members listed are the ones it contacts first.
    #[serde(default)]
    pub join: bool,
    /// Every member, this one included, with where it listens.
    #[serde(rename = "member")]
    pub members: Vec<MemberSection>,
}

/// One `[[cluster.member]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSection {
    pub id: u64,
    /// Raft peer transport.
    pub raft: SocketAddr,
    /// Replica service (chunk data).
    pub replica: SocketAddr,
    /// Where it serves NFS and its admin API (for `cairn cluster status`).
    #[serde(default)]
    pub nfs: Option<String>,
    #[serde(default)]
    pub admin: Option<String>,
}

fn default_replicas() -> usize {
    3
}
fn default_tick_ms() -> u64 {
    100
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub portmap_port_111: bool,
    pub root_mode: String,
    pub log: String,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            data_dir: PathBuf::from("./cairn-data"),
            listen: SocketAddr::from(([0, 0, 0, 0], 2049)),
            portmap_port_111: true,
            root_mode: "0755".into(),
            log: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    pub record_size_max_bytes: u32,
    pub connections_max: usize,
    pub calls_in_flight_per_connection_max: usize,
    pub calls_in_flight_max: usize,
    pub drc_entries_max: usize,
    pub shutdown_grace_secs: u64,
}

impl Default for LimitsSection {
    fn default() -> Self {
        let l = Limits::default();
        LimitsSection {
            record_size_max_bytes: l.record_size_max_bytes,
            connections_max: l.connections_max,
            calls_in_flight_per_connection_max: l.calls_in_flight_per_connection_max,
            calls_in_flight_max: l.calls_in_flight_max,
            drc_entries_max: 16384,
            shutdown_grace_secs: l.shutdown_grace.as_secs(),
        }
    }
}

impl LimitsSection {
    pub fn to_limits(&self) -> Limits {
        Limits {
            record_size_max_bytes: self.record_size_max_bytes.max(64 * 1024),
            connections_max: self.connections_max.max(1),
            calls_in_flight_per_connection_max: self.calls_in_flight_per_connection_max.max(1),
            calls_in_flight_max: self.calls_in_flight_max.max(1),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            ..Limits::default()
        }
    }
}

/// NFSv4 state and id mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Nfs4Section {
    pub lease_secs: u64,
    pub grace: bool,
    pub id_domain: String,
    pub owner_format: String,
}

impl Default for Nfs4Section {
    fn default() -> Self {
        Nfs4Section {
            lease_secs: 90,
            grace: true,
            id_domain: "localdomain".into(),
            owner_format: "numeric".into(),
        }
    }
}

impl Nfs4Section {
    /// Checked lease time.
    pub fn lease(&self) -> anyhow::Result<Duration> {
        if !(5..=3600).contains(&self.lease_secs) {
            bail!("nfs4.lease_secs must be between 5 and 3600, not {}", self.lease_secs);
        }
        Ok(Duration::from_secs(self.lease_secs))
    }

    /// Checked owner format: "numeric" or "name".
    pub fn names(&self) -> anyhow::Result<bool> {
        match self.owner_format.as_str() {
            "numeric" => Ok(false),
            "name" => Ok(true),
            other => bail!("nfs4.owner_format must be \"numeric\" or \"name\", not \"{other}\""),
        }
    }
}

/// The admin REST API and `/metrics` (HTTP).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSection {
    pub enabled: bool,
    pub listen: SocketAddr,
    pub allow_remote: bool,
    pub metrics_require_token: bool,
}

impl Default for AdminSection {
    fn default() -> Self {
        AdminSection {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9049)),
            allow_remote: false,
            metrics_require_token: false,
        }
    }
}

impl AdminSection {
    /// The listen address, refused unless it is a loopback address or
    /// `allow_remote` is set: the API is plain HTTP.
    pub fn checked_listen(&self) -> anyhow::Result<SocketAddr> {
        if !self.listen.ip().is_loopback() && !self.allow_remote {
            bail!(
                "admin.listen {} is not a loopback address: the admin API is plain HTTP; set admin.allow_remote = true to serve it there anyway",
                self.listen
            );
        }
        Ok(self.listen)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSection {
    pub path: String,
    #[serde(default = "everyone")]
    pub clients: Vec<String>,
    #[serde(default = "rw")]
    pub access: String,
    #[serde(default = "root_squash")]
    pub squash: String,
    #[serde(default = "nobody")]
    pub anonuid: u32,
    #[serde(default = "nobody")]
    pub anongid: u32,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub devices: bool,
    /// Cluster mode: copies of each chunk of a file created under this
    /// export (recorded in the file's inode at creation); default
    /// `[cluster] replicas`. Placement uses at most the member count.
    #[serde(default)]
    pub replicas: Option<usize>,
}

fn everyone() -> Vec<String> {
    vec!["*".into()]
}
fn rw() -> String {
    "rw".into()
}
fn root_squash() -> String {
    "root".into()
}
fn nobody() -> u32 {
    65534
}
fn default_exports() -> Vec<ExportSection> {
    vec![ExportSection {
        path: "/".into(),
        clients: everyone(),
        access: rw(),
        squash: root_squash(),
        anonuid: nobody(),
        anongid: nobody(),
        insecure: false,
        devices: false,
        replicas: None,
    }]
}

impl Config {
    /// The embedded defaults.
    pub fn default_config() -> anyhow::Result<Config> {
        toml::from_str(DEFAULT_CONFIG).context("the embedded default configuration does not parse")
    }

    /// Read `path`, or the embedded defaults when `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else { return Self::default_config() };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid Cairn configuration", path.display()))
    }

    /// The root directory mode, from its octal string.
    pub fn root_mode(&self) -> anyhow::Result<u32> {
        u32::from_str_radix(self.server.root_mode.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .with_context(|| format!("root_mode '{}' is not an octal mode", self.server.root_mode))
    }

    /// Check every export and turn it into rules.
    pub fn export_rules(&self) -> anyhow::Result<Vec<ExportRules>> {
        if self.exports.is_empty() {
            bail!("no [[export]] is configured: clients could mount nothing");
        }
        if self.exports.len() > 255 {
            bail!("at most 255 exports are supported");
        }
        let mut out: Vec<ExportRules> = Vec::new();
        for e in &self.exports {
            if !e.path.starts_with('/') || e.path.split('/').any(|p| p == "." || p == "..") {
                bail!("export path '{}' must be absolute and contain no '.' or '..'", e.path);
            }
            let path = if e.path.len() > 1 {
                e.path.trim_end_matches('/').to_string()
            } else {
                e.path.clone()
            };
            if out.iter().any(|o| o.path == path) {
                bail!("export path '{path}' is listed twice");
            }
            let clients = e
                .clients
                .iter()
                .map(|c| c.parse::<Cidr>().map_err(|m| anyhow::anyhow!("export '{path}': {m}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let read_only = match e.access.as_str() {
                "rw" => false,
                "ro" => true,
                other => bail!("export '{path}': access must be \"rw\" or \"ro\", not \"{other}\""),
            };
            let squash = match e.squash.as_str() {
                "root" => Squash::Root,
                "all" => Squash::All,
                "none" => Squash::None,
                other => bail!("export '{path}': squash must be \"root\", \"all\" or \"none\", not \"{other}\""),
            };
            out.push(ExportRules {
                path,
                clients,
                read_only,
                squash,
                anon_uid: e.anonuid,
                anon_gid: e.anongid,
                insecure: e.insecure,
                allow_devices: e.devices,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses_and_matches_the_code_defaults() {
        let c = Config::default_config().expect("default parses");
        let d = ServerSection::default();
        assert_eq!(c.server.listen, d.listen);
        assert_eq!(c.server.data_dir, d.data_dir);
        assert_eq!(c.limits.record_size_max_bytes, LimitsSection::default().record_size_max_bytes);
        let a = AdminSection::default();
        assert_eq!(
            (c.admin.enabled, c.admin.listen, c.admin.allow_remote, c.admin.metrics_require_token),
            (a.enabled, a.listen, a.allow_remote, a.metrics_require_token)
        );
        let rules = c.export_rules().expect("rules");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].squash, Squash::Root);
        assert!(!rules[0].insecure);
        // An empty file means all defaults.
        let empty: Config = toml::from_str("").expect("empty parses");
        assert_eq!(empty.exports.len(), 1);
    }

    #[test]
    fn bad_configs_are_refused_with_a_reason() {
        let bad = |s: &str| {
            let c: Config = toml::from_str(s).expect("parses");
            c.export_rules().err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(bad("[[export]]\npath = \"rel\"").contains("absolute"));
        assert!(bad("[[export]]\npath = \"/\"\nsquash = \"maybe\"").contains("squash"));
        assert!(bad("[[export]]\npath = \"/\"\nclients = [\"10.0.0.0/99\"]").contains("prefix"));
        let admin = |s: &str| toml::from_str::<Config>(s).expect("parses").admin.checked_listen();
        assert!(admin("[admin]\nlisten = \"0.0.0.0:9049\"").is_err(), "remote only when allowed");
        assert!(admin("[admin]\nlisten = \"0.0.0.0:9049\"\nallow_remote = true").is_ok());
        assert!(admin("[admin]\nlisten = \"[::1]:9049\"").is_ok());
        assert!(
            toml::from_str::<Config>("[server]\nlisten_typo = 1").is_err(),
            "unknown keys are errors"
        );
    }
}
