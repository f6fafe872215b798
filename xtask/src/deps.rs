//! `cargo xtask check-deps`: the layering rules of DESIGN.md §1, checked on `cargo metadata`.
//!
//! The rules are data ([`LAYERS`], [`EXCLUSIVE`], [`PURE`]): a new crate is one more row.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Workspace crate → the workspace crates it may depend on (`"*"`: any).
/// A workspace crate missing from this table is an error: add its row.
pub const LAYERS: &[(&str, &[&str])] = &[
    ("fsapi", &[]),
    ("nfs-proto", &[]),
    ("nfs-server", &["nfs-proto", "fsapi"]),
    ("store", &[]),
    ("consensus", &["store"]),
    ("meta", &["consensus", "store", "snapshots", "fsapi"]),
    ("layout", &["fsapi"]),
    ("chunks", &["layout", "store", "fsapi"]),
    ("snapshots", &["fsapi"]),
    ("nfsd", &["*"]),
    ("xtask", &[]),
];

/// (dependency, the only workspace crate that may name it directly).
pub const EXCLUSIVE: &[(&str, &str)] =
    &[("sled", "store"), ("raft", "consensus"), ("nfs-server", "nfsd"), ("axum", "nfsd")];

/// Crates that must not reach the crates in [`IMPURE`], directly or transitively
/// (normal and build dependencies; dev-dependencies are for tests and exempt).
pub const PURE: &[&str] = &["fsapi", "nfs-proto", "layout", "snapshots"];
pub const IMPURE: &[&str] = &["tokio", "sled"];

/// One dependency edge as declared in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// "normal", "dev" or "build"
    pub kind: String,
}

/// The dependency graph the rules look at.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    /// names of the workspace members
    pub members: BTreeSet<String>,
    /// direct dependencies declared by workspace members (all kinds)
    pub direct: Vec<Edge>,
    /// resolved normal+build dependencies of every package in the graph, by name
    pub resolved: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// Builds the graph from the JSON of `cargo metadata --format-version 1` (with `resolve`).
    pub fn from_metadata(meta: &serde_json::Value) -> Result<Graph, String> {
        let packages = meta["packages"].as_array().ok_or("cargo metadata: no packages")?;
        let members_ids: BTreeSet<&str> = meta["workspace_members"]
            .as_array()
            .ok_or("cargo metadata: no workspace_members")?
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let mut names: BTreeMap<&str, String> = BTreeMap::new();
        let mut g = Graph::default();
        for p in packages {
            let id = p["id"].as_str().ok_or("package without id")?;
            let name = p["name"].as_str().ok_or("package without name")?.to_string();
            names.insert(id, name.clone());
            if members_ids.contains(id) {
                g.members.insert(name.clone());
                for d in p["dependencies"].as_array().into_iter().flatten() {
                    let to = d["name"].as_str().unwrap_or_default().to_string();
                    let kind = d["kind"].as_str().unwrap_or("normal").to_string();
                    g.direct.push(Edge { from: name.clone(), to, kind });
                }
            }
        }
        if let Some(nodes) = meta["resolve"]["nodes"].as_array() {
            for n in nodes {
                let Some(from) = n["id"].as_str().and_then(|id| names.get(id)) else { continue };
                let entry = g.resolved.entry(from.clone()).or_default();
                for d in n["deps"].as_array().into_iter().flatten() {
                    let runtime = d["dep_kinds"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|k| k["kind"].is_null() || k["kind"].as_str() == Some("build"));
                    if let Some(to) = d["pkg"].as_str().and_then(|id| names.get(id)) {
                        if runtime {
                            entry.insert(to.clone());
                        }
                    }
                }
            }
        }
        Ok(g)
    }
}

/// Applies every rule; returns one message per violation (empty: all good).
pub fn check(g: &Graph) -> Vec<String> {
    let table: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut errors = Vec::new();
    for m in &g.members {
        if !table.contains_key(m.as_str()) {
            errors.push(format!(
                "workspace crate `{m}` is not in the layering table (xtask/src/deps.rs LAYERS): add its row with the crates it may depend on"
            ));
        }
    }
    for e in &g.direct {
        let kind =
            if e.kind == "normal" { String::new() } else { format!(" ({}-dependency)", e.kind) };
        if g.members.contains(&e.to) {
            if let Some(allowed) = table.get(e.from.as_str()) {
                if !allowed.contains(&"*") && !allowed.contains(&e.to.as_str()) {
                    let list = if allowed.is_empty() {
                        "no workspace crate".to_string()
                    } else {
                        allowed.join(", ")
                    };
                    errors.push(format!(
                        "forbidden edge {} -> {}{kind}: `{}` may depend on {list} (DESIGN.md §1)",
                        e.from, e.to, e.from
                    ));
                }
            }
        }
        for (dep, owner) in EXCLUSIVE {
            if e.to == *dep && e.from != *owner {
                errors.push(format!(
                    "forbidden edge {} -> {}{kind}: only `{owner}` may depend on `{dep}`",
                    e.from, e.to
                ));
            }
        }
    }
    for p in PURE {
        if !g.members.contains(*p) {
            continue;
        }
        if let Some(path) = reach(g, p, IMPURE) {
            errors.push(format!(
                "`{p}` must stay pure (no {}) but depends on `{}`: {}",
                IMPURE.join(", "),
                path.last().map(String::as_str).unwrap_or_default(),
                path.join(" -> ")
            ));
        }
    }
    errors.sort();
    errors.dedup();
    errors
}

/// Shortest path (breadth first over resolved runtime deps) from `start` to any of `targets`.
fn reach(g: &Graph, start: &str, targets: &[&str]) -> Option<Vec<String>> {
    let mut prev: BTreeMap<String, String> = BTreeMap::new();
    let mut seen = BTreeSet::from([start.to_string()]);
    let mut queue = VecDeque::from([start.to_string()]);
    while let Some(n) = queue.pop_front() {
        for d in g.resolved.get(&n).into_iter().flatten() {
            if !seen.insert(d.clone()) {
                continue;
            }
            prev.insert(d.clone(), n.clone());
            if targets.contains(&d.as_str()) {
                let mut path = vec![d.clone()];
                let mut cur = d.clone();
                while let Some(p) = prev.get(&cur) {
                    path.push(p.clone());
                    cur = p.clone();
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(d.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(members: &[&str], direct: &[(&str, &str, &str)], resolved: &[(&str, &str)]) -> Graph {
        let mut g =
            Graph { members: members.iter().map(|s| s.to_string()).collect(), ..Graph::default() };
        for (f, t, k) in direct {
            g.direct.push(Edge { from: f.to_string(), to: t.to_string(), kind: k.to_string() });
        }
        for (f, t) in resolved {
            g.resolved.entry(f.to_string()).or_default().insert(t.to_string());
        }
        g
    }

    #[test]
    fn a_clean_graph_passes() {
        let g = graph(
            &["fsapi", "nfs-proto", "nfs-server", "store", "meta", "chunks", "nfsd", "xtask"],
            &[
                ("nfs-server", "nfs-proto", "normal"),
                ("nfs-server", "fsapi", "normal"),
                ("nfs-server", "tokio", "normal"),
                ("store", "sled", "normal"),
                ("meta", "store", "normal"),
                ("chunks", "fsapi", "normal"),
                ("nfsd", "nfs-server", "normal"),
                ("nfsd", "meta", "normal"),
                ("fsapi", "proptest", "dev"),
            ],
            &[
                ("nfs-server", "tokio"),
                ("store", "sled"),
                ("fsapi", "thiserror"),
                ("thiserror", "proc-macro2"),
            ],
        );
        assert_eq!(check(&g), Vec::<String>::new());
    }

    #[test]
    fn violations_are_reported_with_their_edge() {
        let g = graph(
            &[
                "fsapi",
                "nfs-proto",
                "nfs-server",
                "store",
                "meta",
                "chunks",
                "nfsd",
                "xtask",
                "newcrate",
            ],
            &[
                ("fsapi", "store", "normal"),
                ("meta", "nfs-server", "normal"),
                ("chunks", "sled", "normal"),
                ("meta", "chunks", "dev"),
                ("nfs-proto", "helper", "normal"),
            ],
            &[("nfs-proto", "helper"), ("helper", "tokio"), ("fsapi", "store"), ("store", "sled")],
        );
        let errs = check(&g);
        let has = |s: &str| errs.iter().any(|e| e.contains(s));
        assert!(has("`newcrate` is not in the layering table"), "{errs:#?}");
        assert!(has("forbidden edge fsapi -> store"), "{errs:#?}");
        assert!(has("forbidden edge meta -> nfs-server: `meta` may depend on"), "{errs:#?}");
        assert!(
            has("forbidden edge meta -> nfs-server: only `nfsd` may depend on `nfs-server`"),
            "{errs:#?}"
        );
        assert!(
            has("forbidden edge chunks -> sled: only `store` may depend on `sled`"),
            "{errs:#?}"
        );
        assert!(has("forbidden edge meta -> chunks (dev-dependency)"), "{errs:#?}");
        assert!(has("`nfs-proto` must stay pure (no tokio, sled) but depends on `tokio`: nfs-proto -> helper -> tokio"), "{errs:#?}");
        assert!(has("`fsapi` must stay pure (no tokio, sled) but depends on `sled`: fsapi -> store -> sled"), "{errs:#?}");
        assert_eq!(errs.len(), 8, "{errs:#?}");
    }

    #[test]
    fn parses_cargo_metadata() {
        let meta = serde_json::json!({
            "packages": [
                {"id": "a 0.1", "name": "fsapi", "dependencies": [{"name": "tokio", "kind": null}]},
                {"id": "t 1.0", "name": "tokio", "dependencies": []},
            ],
            "workspace_members": ["a 0.1"],
            "resolve": {"nodes": [
                {"id": "a 0.1", "deps": [{"name": "tokio", "pkg": "t 1.0", "dep_kinds": [{"kind": null, "target": null}]}]},
                {"id": "t 1.0", "deps": []},
            ]}
        });
        let g = Graph::from_metadata(&meta).expect("parse");
        assert_eq!(g.members, BTreeSet::from(["fsapi".to_string()]));
        assert_eq!(
            g.direct,
            vec![Edge { from: "fsapi".into(), to: "tokio".into(), kind: "normal".into() }]
        );
        let errs = check(&g);
        assert!(errs.iter().any(|e| e.contains("`fsapi` must stay pure")), "{errs:#?}");
    }
}
