//! `cairn serve`: start the node, serve until SIGTERM/SIGINT, stop cleanly.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use fsapi::ClusterFs;
use nfs_server::{Export, IdMapper, OwnerFormat, Server, ServerConfig, V4Config};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::local::LocalFs;

/// Identity file format version.
const IDENTITY_V1: &str = "cairn-identity-v1";

/// The installation's identity: the handle MAC key and the cluster id.
/// Created at first start, kept in `data_dir/identity` (mode 0600).
pub struct Identity {
    pub handle_key: [u8; 32],
    pub cluster_id: u64,
}

impl Identity {
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Identity> {
        let path = data_dir.join("identity");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                Self::parse(&text).with_context(|| format!("{} is damaged", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let id =
                    Identity { handle_key: rand::random(), cluster_id: rand::random::<u64>() | 1 };
                let text =
                    format!("{IDENTITY_V1}\n{:016x}\n{}\n", id.cluster_id, hex(&id.handle_key));
                crate::admin::auth::write_private(&path, &text)?;
                Ok(id)
            }
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn parse(text: &str) -> anyhow::Result<Identity> {
        let mut lines = text.lines();
        anyhow::ensure!(lines.next() == Some(IDENTITY_V1), "unknown identity format");
        let cluster_id = u64::from_str_radix(lines.next().unwrap_or_default(), 16)?;
        let key_hex = lines.next().unwrap_or_default();
        anyhow::ensure!(key_hex.len() == 64, "bad key length");
        let mut handle_key = [0u8; 32];
        for (i, b) in handle_key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&key_hex[2 * i..2 * i + 2], 16)?;
        }
        Ok(Identity { handle_key, cluster_id })
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    // Colours only on a terminal: a log file or journald gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// `cairn serve`.
pub fn run(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
) -> anyhow::Result<()> {
    run_joining(config, data_dir, listen, None)
}

/// `cairn serve --join URL`: as [`run`]; with `join`, this cluster node
/// starts with an empty Raft log and asks the admin API at `join` (a
/// member's; with the cluster's admin token, or `$CAIRN_ADMIN_TOKEN` when
/// set) to add it.
pub fn run_joining(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    join: Option<String>,
) -> anyhow::Result<()> {
    let mut cfg = Config::load(config.as_deref())?;
    if join.is_some() {
        match cfg.cluster.as_mut() {
            Some(c) => c.join = true,
            None => anyhow::bail!("--join needs a [cluster] table in the configuration"),
        }
    }
    if let Some(d) = data_dir {
        cfg.server.data_dir = d;
    }
    if let Some(l) = listen {
        cfg.server.listen = l;
    }
    init_tracing(&cfg.server.log);
    let rules = cfg.export_rules()?;
    let root_mode = cfg.root_mode()?;
    let v4_config = V4Config {
        lease: cfg.nfs4.lease()?,
        grace: cfg.nfs4.grace,
        idmap: if cfg.nfs4.names()? {
            let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
            IdMapper::new(OwnerFormat::Name, &cfg.nfs4.id_domain, &passwd, &group)
        } else {
            IdMapper::new(OwnerFormat::Numeric, &cfg.nfs4.id_domain, "", "")
        },
        client_records: Some(cfg.server.data_dir.join("nfs4-clients")),
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("cairn").build()?;
    runtime.block_on(async move {
        std::fs::create_dir_all(&cfg.server.data_dir).with_context(|| {
            format!("cannot create data directory {}", cfg.server.data_dir.display())
        })?;
        if let Some(section) = cfg.cluster.clone() {
            // Bound before NFS: a busy admin port fails the start at once.
            // Every member accepts the token derived from the cluster secret.
            let token = crate::cluster::ClusterSecret::read(&section.secret_file)?.admin_token();
            let admin =
                crate::admin::AdminListener::bind(&cfg.admin, &cfg.server.data_dir, Some(token))
                    .await?;
            let running = crate::cluster::start(&cfg, &section, root_mode).await?;
            if let Some(url) = join {
                let token = running.secret.admin_token();
                crate::cluster::ask_to_join(
                    url,
                    token,
                    &section,
                    cfg.server.listen,
                    cfg.admin.listen,
                );
            }
            let identity = Identity {
                handle_key: running.secret.handle_key(),
                cluster_id: running.secret.cluster_id,
            };
            let fs = running.fs.clone();
            let node = |nfs, admin_addr, exports: &[Export]| {
                crate::cluster::ClusterAdmin::new(
                    &running, &cfg, &section, nfs, admin_addr, exports,
                )
            };
            let served = serve_fs(&cfg, rules, v4_config, &identity, admin, fs, node).await;
            running.stop().await;
            return served;
        }
        let identity = Identity::load_or_create(&cfg.server.data_dir)?;
        // Bound before NFS: a busy admin port fails the start at once.
        let admin =
            crate::admin::AdminListener::bind(&cfg.admin, &cfg.server.data_dir, None).await?;
        let fs = Arc::new(LocalFs::open(&cfg.server.data_dir, root_mode)?);
        fs.start_background();
        let node = |nfs, admin_addr, exports: &[Export]| {
            crate::admin::StandaloneNode::new(
                fs.clone(),
                identity.cluster_id,
                nfs,
                admin_addr,
                exports,
            )
        };
        serve_fs(&cfg, rules, v4_config, &identity, admin, fs.clone(), node).await
    })
}

/// Serve `fs` over NFS (and the admin API with the backend `node` builds)
/// until SIGTERM/SIGINT, then shut `fs` down.
async fn serve_fs<F: ClusterFs, B: crate::admin::AdminBackend>(
    cfg: &Config,
    rules: Vec<nfs_server::ExportRules>,
    v4_config: V4Config,
    identity: &Identity,
    admin: Option<crate::admin::AdminListener>,
    fs: Arc<F>,
    node: impl FnOnce(SocketAddr, Option<SocketAddr>, &[Export]) -> B,
) -> anyhow::Result<()> {
    {
        let mut exports = Vec::new();
        for r in rules {
            let root = crate::local::ensure_path(&*fs, &r.path).await.map_err(|e| {
                anyhow::anyhow!("export {}: cannot create or resolve the path: {e}", r.path)
            })?;
            exports.push(Export { rules: r, root });
        }
        let listener = TcpListener::bind(cfg.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
        let addr = listener.local_addr()?;
        let mut listeners = vec![listener];
        if cfg.server.portmap_port_111 && addr.port() != 111 {
            match TcpListener::bind(SocketAddr::new(addr.ip(), 111)).await {
                Ok(l) => {
                    tracing::info!("PORTMAP also served on port 111");
                    listeners.push(l);
                }
                Err(e) => tracing::info!(error = %e, "PORTMAP not served on port 111"),
            }
        }
        let export_paths: Vec<String> = exports.iter().map(|e| e.rules.path.clone()).collect();
        let admin_addr = admin.as_ref().map(|a| a.local_addr());
        let node = node(addr, admin_addr, &exports);
        let server = Arc::new(Server::new(
            fs.clone(),
            ServerConfig {
                exports,
                handle_key: identity.handle_key,
                cluster_id: identity.cluster_id,
                port: addr.port(),
                limits: cfg.limits.to_limits(),
                drc_entries_max: cfg.limits.drc_entries_max,
                v4: v4_config,
            },
        ));
        {
            let server = server.clone();
            tokio::spawn(async move { server.run_v4_housekeeping().await });
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let admin = admin.map(|a| a.serve(node, server.metrics().clone(), stop_rx.clone()));
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("stopping: finishing calls in flight");
            let _ = stop_tx.send(true);
        });
        tracing::info!(%addr, data_dir = %cfg.server.data_dir.display(), exports = ?export_paths, "Cairn is serving NFSv3 and NFSv4");
        let host =
            if addr.ip().is_unspecified() { "HOST".to_string() } else { addr.ip().to_string() };
        let p = addr.port();
        eprintln!("\nCairn is serving NFSv3, NFSv4.0, 4.1 and 4.2 on {addr} (NFS, MOUNT and PORTMAP on one port).");
        for path in &export_paths {
            eprintln!("  mount -t nfs -o port={p} {host}:{path} /mnt          (NFSv4)");
            eprintln!(
                "  mount -t nfs -o vers=3,proto=tcp,port={p},mountport={p} {host}:{path} /mnt"
            );
        }
        if let Some(a) = &admin {
            eprintln!("{}", a.describe());
        }
        eprintln!("Stop with Ctrl-C or SIGTERM.\n");
        nfs_server::serve(server, listeners, stop_rx).await;
        if let Some(a) = admin {
            a.stopped().await;
        }
        fs.shutdown().await.map_err(|e| anyhow::anyhow!("flushing at shutdown failed: {e}"))?;
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
