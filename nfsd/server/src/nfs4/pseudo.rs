//! The NFSv4 pseudo file system (RFC 7530 §7, RFC 8881 §7.3): the one
//! namespace a v4 client browses from PUTROOTFH, joining the exports.
//!
//! Export paths are directories of the one Cairn namespace. A path prefix
//! of an export that lies inside no export (e.g. `/home` for an export
//! `/home/alice` when `/` is not exported) is a *pseudo directory*: read
//! only, listing only the next components towards exports. Everything at
//! or below an export's path is that export's, with its rules, and the
//! deepest export wins: a v4 LOOKUP from `/` into `/squash` crosses into the
//! `/squash` export, as an NFSv3 MOUNT of `/squash` would.

use std::collections::BTreeMap;

/// Where a pseudo directory's entry leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Junction {
    /// Another pseudo directory.
    Pseudo(u32),
    /// The root of export number `n`.
    Export(u8),
}

#[derive(Debug, Clone)]
struct Node {
    /// Absolute path, "/" for the root.
    path: String,
    parent: u32,
    children: BTreeMap<Vec<u8>, Junction>,
}

/// The pseudo directories built from the export paths.
#[derive(Debug, Clone)]
pub(crate) struct PseudoFs {
    nodes: Vec<Node>,
    /// Export paths by export number, split into components.
    exports: Vec<Vec<String>>,
}

fn components(path: &str) -> Vec<String> {
    path.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect()
}

impl PseudoFs {
    /// Build from the export paths (by export number; absolute, checked by
    /// the configuration).
    pub(crate) fn new(export_paths: &[String]) -> Self {
        let exports: Vec<Vec<String>> = export_paths.iter().map(|p| components(p)).collect();
        let mut fs = PseudoFs {
            nodes: vec![Node { path: "/".into(), parent: 0, children: BTreeMap::new() }],
            exports,
        };
        if fs.export_covering(&[]).is_some() {
            // "/" is exported: there is no pseudo directory at all.
            return fs;
        }
        for (n, comps) in fs.exports.clone().iter().enumerate() {
            let mut at = 0u32;
            for depth in 1..=comps.len() {
                let prefix = &comps[..depth];
                let name = comps[depth - 1].as_bytes().to_vec();
                if fs.export_covering(&prefix[..depth - 1]).is_some() {
                    // the parent lies inside an export: no pseudo entries below it
                    break;
                }
                if depth == comps.len() || fs.export_covering(prefix).is_some() {
                    let target = fs.export_covering(prefix).unwrap_or(n as u8);
                    fs.nodes[at as usize].children.insert(name, Junction::Export(target));
                    break;
                }
                let existing = fs.nodes[at as usize].children.get(&name).copied();
                at = match existing {
                    Some(Junction::Pseudo(p)) => p,
                    _ => {
                        let id = fs.nodes.len() as u32;
                        fs.nodes.push(Node {
                            path: format!("/{}", prefix.join("/")),
                            parent: at,
                            children: BTreeMap::new(),
                        });
                        fs.nodes[at as usize].children.insert(name, Junction::Pseudo(id));
                        id
                    }
                };
            }
        }
        fs
    }

    /// The deepest export whose path is `comps` or a prefix of it.
    fn export_covering(&self, comps: &[String]) -> Option<u8> {
        self.exports
            .iter()
            .enumerate()
            .filter(|(_, e)| comps.starts_with(e))
            .max_by_key(|(_, e)| e.len())
            .map(|(n, _)| n as u8)
    }

    /// What PUTROOTFH names: the export of "/", or pseudo directory 0.
    pub(crate) fn root(&self) -> Junction {
        match self.export_covering(&[]) {
            Some(n) => Junction::Export(n),
            None => Junction::Pseudo(0),
        }
    }

    /// True when pseudo directory `id` exists.
    pub(crate) fn exists(&self, id: u32) -> bool {
        (id as usize) < self.nodes.len()
    }

    /// Entry `name` of pseudo directory `id`.
    pub(crate) fn lookup(&self, id: u32, name: &[u8]) -> Option<Junction> {
        self.nodes.get(id as usize)?.children.get(name).copied()
    }

    /// Entries of pseudo directory `id`, in name order.
    pub(crate) fn entries(&self, id: u32) -> Vec<(Vec<u8>, Junction)> {
        self.nodes
            .get(id as usize)
            .map(|n| n.children.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// Parent of pseudo directory `id` (`None` for the root).
    pub(crate) fn parent(&self, id: u32) -> Option<u32> {
        if id == 0 {
            None
        } else {
            self.nodes.get(id as usize).map(|n| n.parent)
        }
    }

    /// Path of pseudo directory `id`.
    pub(crate) fn path(&self, id: u32) -> &str {
        self.nodes.get(id as usize).map(|n| n.path.as_str()).unwrap_or("/")
    }

    /// Number of pseudo directories.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// LOOKUPP from the root of export `n`: the export that holds the
    /// parent directory (stay in the file system, with its rules), or the
    /// pseudo directory that is the parent, or `None` at "/".
    pub(crate) fn above_export(&self, n: u8) -> Option<Junction> {
        let comps = self.exports.get(n as usize)?;
        if comps.is_empty() {
            return None;
        }
        let parent = &comps[..comps.len() - 1];
        if let Some(e) = self.export_covering(parent) {
            return Some(Junction::Export(e));
        }
        // walk the pseudo tree along `parent`
        let mut at = 0u32;
        for c in parent {
            match self.lookup(at, c.as_bytes())? {
                Junction::Pseudo(p) => at = p,
                Junction::Export(e) => return Some(Junction::Export(e)),
            }
        }
        Some(Junction::Pseudo(at))
    }

    /// A LOOKUP in export `from` landed on the root inode of export
    /// `child_export`: cross into it when its path lies below `from`'s (a
    /// LOOKUP only goes down, so that is where it was reached).
    pub(crate) fn crosses_into(&self, from: u8, child_export: u8) -> bool {
        match (self.exports.get(from as usize), self.exports.get(child_export as usize)) {
            (Some(a), Some(b)) => b.len() > a.len() && b.starts_with(a),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    /// With "/" exported there are no pseudo directories; sub-exports are
    /// crossed into from their parent directory.
    #[test]
    fn root_export_has_no_pseudo_dirs() {
        let fs = PseudoFs::new(&paths(&["/", "/squash", "/ro"]));
        assert_eq!(fs.root(), Junction::Export(0));
        assert_eq!(fs.len(), 1);
        assert!(fs.crosses_into(0, 1));
        assert!(!fs.crosses_into(1, 0));
        assert_eq!(fs.above_export(1), Some(Junction::Export(0)));
        assert_eq!(fs.above_export(0), None);
    }

    /// RFC 7530 §7.3: without "/", the pseudo root leads to every export
    /// along pseudo directories that list only the way there.
    #[test]
    fn pseudo_dirs_join_exports() {
        let fs = PseudoFs::new(&paths(&["/data", "/home/alice", "/home/bob/deep"]));
        assert_eq!(fs.root(), Junction::Pseudo(0));
        let names: Vec<Vec<u8>> = fs.entries(0).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec![b"data".to_vec(), b"home".to_vec()]);
        assert_eq!(fs.lookup(0, b"data"), Some(Junction::Export(0)));
        let Some(Junction::Pseudo(home)) = fs.lookup(0, b"home") else { panic!("home") };
        assert_eq!(fs.path(home), "/home");
        assert_eq!(fs.lookup(home, b"alice"), Some(Junction::Export(1)));
        let Some(Junction::Pseudo(bob)) = fs.lookup(home, b"bob") else { panic!("bob") };
        assert_eq!(fs.lookup(bob, b"deep"), Some(Junction::Export(2)));
        assert_eq!(fs.lookup(0, b"etc"), None);
        assert_eq!(fs.parent(bob), Some(home));
        assert_eq!(fs.above_export(2), Some(Junction::Pseudo(bob)));
        assert_eq!(fs.above_export(0), Some(Junction::Pseudo(0)));
    }

    /// An export inside another is reached through the outer one, not
    /// through a pseudo directory.
    #[test]
    fn nested_exports() {
        let fs = PseudoFs::new(&paths(&["/a", "/a/b/c"]));
        assert_eq!(fs.entries(0).len(), 1);
        assert_eq!(fs.lookup(0, b"a"), Some(Junction::Export(0)));
        assert_eq!(fs.above_export(1), Some(Junction::Export(0)));
        assert!(fs.crosses_into(0, 1));
        assert!(!fs.crosses_into(1, 0));
    }
}
