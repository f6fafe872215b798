//! The admin commands of the `cairn` CLI: `cairn cluster status`,
//! `cairn metrics`. They talk to a running node's admin API.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context};

use super::auth::{Token, TOKEN_FILE};
use super::backend::{ClusterStatus, NewNode, NodeChange};
use super::client::{self, Endpoint, Response};
use crate::config::Config;

/// Environment variable that may hold the admin token.
pub const TOKEN_ENV: &str = "CAIRN_ADMIN_TOKEN";

/// How to reach the admin API: flags of the admin commands.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `http://host:port`; default: `[admin] listen` of the configuration.
    pub admin: Option<String>,
    /// File holding the token; default: `$CAIRN_ADMIN_TOKEN`, then
    /// [`ConnectOptions::token`], then `<data_dir>/admin-token`.
    pub token_file: Option<PathBuf>,
    /// The token itself (a cluster member's own, derived from the cluster
    /// secret, when it asks another member).
    pub token: Option<Token>,
    /// Configuration file, for the defaults above.
    pub config: Option<PathBuf>,
    /// Data directory (overrides `server.data_dir`), for the token file.
    pub data_dir: Option<PathBuf>,
}

/// A resolved connection.
struct Connection {
    endpoint: Endpoint,
    token: Option<Token>,
    /// Where the token came from, for error messages.
    token_source: String,
}

impl ConnectOptions {
    /// Resolve the endpoint and the token; without a token, an error when
    /// `token_required`.
    fn connect(&self, token_required: bool) -> anyhow::Result<Connection> {
        let load = || Config::load(self.config.as_deref());
        let endpoint = match &self.admin {
            Some(url) => Endpoint::parse(url)?,
            None => Endpoint::of_listen(load()?.admin.listen),
        };
        let (token, token_source) = if let Some(f) = &self.token_file {
            (Some(Token::read(f)?), f.display().to_string())
        } else if let Some(t) = std::env::var(TOKEN_ENV).ok().filter(|t| !t.trim().is_empty()) {
            (
                Some(Token::parse(&t).with_context(|| format!("${TOKEN_ENV}"))?),
                format!("${TOKEN_ENV}"),
            )
        } else if let Some(t) = &self.token {
            (Some(t.clone()), "the cluster secret".to_string())
        } else {
            let dir = match &self.data_dir {
                Some(d) => d.clone(),
                None => load()?.server.data_dir,
            };
            let path = dir.join(TOKEN_FILE);
            match Token::read(&path) {
                Ok(t) => (Some(t), path.display().to_string()),
                Err(_) if !token_required && !path.exists() => (None, String::new()),
                Err(e) => {
                    return Err(e).context(format!(
                        "no admin token: give the server's --data-dir or --config, --token-file, or set ${TOKEN_ENV} (the file is readable by the user that runs `cairn serve`)"
                    ))
                }
            }
        };
        Ok(Connection { endpoint, token, token_source })
    }
}

impl Connection {
    fn get(&self, path: &str) -> anyhow::Result<Response> {
        self.call("GET", path, None)
    }

    fn call(&self, method: &str, path: &str, json: Option<&[u8]>) -> anyhow::Result<Response> {
        let wait = if method == "GET" { client::TIMEOUT } else { client::MEMBERSHIP_TIMEOUT };
        let token = self.token.as_ref();
        let r = client::request_with(&self.endpoint, method, path, token, json, &[], wait)?;
        match r.status {
            200 => Ok(r),
            401 if self.token.is_none() => {
                bail!("{}{path} needs the admin token: {}", self.endpoint.url(), r.error_message())
            }
            401 => bail!(
                "{} refused the admin token from {}: {}",
                self.endpoint.url(),
                self.token_source,
                r.error_message()
            ),
            s => bail!("{}{path} answered {s}: {}", self.endpoint.url(), r.error_message()),
        }
    }
}

/// `cairn cluster status`: a table, or the JSON document with `json`.
pub fn cluster_status(opts: &ConnectOptions, json: bool) -> anyhow::Result<()> {
    let r = opts.connect(true)?.get("/v1/cluster")?;
    if json {
        println!("{}", r.text());
        return Ok(());
    }
    let status: ClusterStatus =
        serde_json::from_slice(&r.body).context("the cluster status does not parse")?;
    print!("{}", format_status(&status));
    Ok(())
}

/// The admin API URL of the leader as the node at `opts` sees it, when
/// it knows the leader and the leader's admin address.
pub fn leader_admin_url(opts: &ConnectOptions) -> anyhow::Result<Option<String>> {
    let r = opts.connect(true)?.get("/v1/cluster")?;
    let status: ClusterStatus =
        serde_json::from_slice(&r.body).context("the cluster status does not parse")?;
    let Some(leader) = status.leader else { return Ok(None) };
    Ok(status
        .members
        .iter()
        .find(|m| m.node_id == Some(leader))
        .and_then(|m| m.admin_address.as_ref())
        .map(|a| if a.contains("://") { a.clone() } else { format!("http://{a}") }))
}

/// `cairn node add`: `POST /v1/nodes` (to the leader).
pub fn node_add(opts: &ConnectOptions, node: &NewNode) -> anyhow::Result<()> {
    let body = serde_json::to_vec(node)?;
    let r = opts.connect(true)?.call("POST", "/v1/nodes", Some(&body))?;
    let c: NodeChange = serde_json::from_slice(&r.body).context("the answer does not parse")?;
    println!(
        "node {} added (learner until it has caught up); cluster map version {}",
        c.node_id, c.map_version
    );
    Ok(())
}

/// `cairn node remove`: `DELETE /v1/nodes/{id}` (to the leader).
pub fn node_remove(opts: &ConnectOptions, id: u64) -> anyhow::Result<()> {
    let r = opts.connect(true)?.call("DELETE", &format!("/v1/nodes/{id}"), None)?;
    let c: NodeChange = serde_json::from_slice(&r.body).context("the answer does not parse")?;
    println!("node {} removed; cluster map version {}", c.node_id, c.map_version);
    Ok(())
}

/// `cairn metrics`: the Prometheus text as served.
pub fn metrics(opts: &ConnectOptions) -> anyhow::Result<()> {
    let r = opts.connect(false)?.get("/metrics")?;
    print!("{}", r.text());
    Ok(())
}

/// The human-readable cluster status.
pub fn format_status(s: &ClusterStatus) -> String {
    let dash = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let mut out = String::new();
    let _ = writeln!(out, "Cluster {}", s.cluster_id);
    let _ = writeln!(out, "  role      {}", s.role.as_str());
    let _ = writeln!(out, "  health    {}", s.health.as_str());
    let _ = writeln!(out, "  version   {}", s.version);
    if s.term.is_some() || s.leader.is_some() {
        let _ = writeln!(out, "  node      {}", dash(s.node_id));
        let _ = writeln!(out, "  leader    {}", dash(s.leader));
        let _ = writeln!(out, "  term      {}", dash(s.term));
        let _ = writeln!(
            out,
            "  log       committed {}, applied {}",
            dash(s.commit_index),
            dash(s.applied_index)
        );
        let _ = writeln!(out, "  map       version {}", dash(s.map_version));
    }
    let _ = writeln!(out);
    let mut rows = vec![[
        "NODE".to_string(),
        "NFS ADDRESS".into(),
        "ADMIN ADDRESS".into(),
        "ROLE".into(),
        "HEALTH".into(),
        "VERSION".into(),
    ]];
    for m in &s.members {
        let id = dash(m.node_id) + if m.this_node { " *" } else { "" };
        rows.push([
            id,
            m.nfs_address.clone(),
            m.admin_address.clone().unwrap_or_else(|| "-".into()),
            m.role.as_str().into(),
            m.health.as_str().into(),
            m.version.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> =
        (0..6).map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0)).collect();
    for r in &rows {
        let line: Vec<String> =
            r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    let _ = writeln!(out, "(* this node)");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table_shows_raft_fields_only_when_known() {
        let mut s = crate::admin::backend::sample_status();
        let t = format_status(&s);
        assert!(t.starts_with("Cluster 00000000000000ab\n"), "{t}");
        assert!(
            t.contains("- *   127.0.0.1:2049  127.0.0.1:9049  standalone  ok      0.1.0"),
            "{t}"
        );
        assert!(!t.contains("term"), "{t}");
        s.term = Some(4);
        s.leader = Some(1);
        let t = format_status(&s);
        assert!(t.contains("term      4") && t.contains("leader    1"), "{t}");
        assert!(t.contains("committed -, applied -"), "{t}");
    }
}
