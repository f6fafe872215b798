//! `cairn`: the Cairn NFS server and its command-line tools.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// glibc's malloc maps and unmaps every buffer of 128 KiB and more, so each
/// 1 MiB READ or WRITE buffer cost page faults and page clearing (seen in
/// `perf`); mimalloc keeps and reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Cairn: an NFS server (NFSv3 today) with a crash-safe local store.
///
/// Start a server with `cairn serve`; it serves the embedded default
/// configuration (export `/` from ./cairn-data on port 2049) unless given
/// --config. Mount it from Linux with
/// `mount -t nfs -o vers=3,proto=tcp,port=2049,mountport=2049 HOST:/ /mnt`.
#[derive(Parser)]
#[command(name = "cairn", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve NFSv3, MOUNT and PORTMAP on one TCP port until SIGTERM or Ctrl-C.
    ///
    /// On SIGTERM the server stops accepting calls, finishes the calls in
    /// flight, makes all acknowledged data durable and exits.
    Serve {
        /// Configuration file (TOML). Without it the embedded defaults are
        /// used; `cairn config default` prints them with explanations.
        #[arg(long, short = 'c', env = "CAIRN_CONFIG")]
        config: Option<PathBuf>,
        /// Directory for metadata, data chunks and the installation secret
        /// (overrides `server.data_dir`).
        #[arg(long, env = "CAIRN_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Address and port to serve on, e.g. 127.0.0.1:20049 (overrides
        /// `server.listen`).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Join a running cluster: start with an empty Raft log and ask the
        /// admin API at URL (any member's; it forwards to the leader) to add
        /// this node (`[cluster] node_id` and its `[[cluster.member]]`). The
        /// request carries the cluster's admin token, derived from the
        /// cluster secret ($CAIRN_ADMIN_TOKEN, when set, instead).
        #[arg(long, value_name = "URL")]
        join: Option<String>,
    },
    /// Change the cluster's membership (through any member's admin API: a
    /// member that does not lead forwards the request to the leader).
    Node {
        #[command(subcommand)]
        what: NodeCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        what: ConfigCommand,
    },
    /// Ask a running node about its cluster (through its admin API).
    Cluster {
        #[command(subcommand)]
        what: ClusterCommand,
    },
    /// Print a running node's metrics (Prometheus text format, as served
    /// at /metrics of its admin API).
    ///
    /// Sends the admin token when one is found (see `cairn cluster status
    /// --help`); /metrics needs it only with `[admin]
    /// metrics_require_token = true`.
    Metrics {
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Start a 3-node cluster on 127.0.0.1 (three `cairn serve` processes,
    /// data and logs under DIR), print how to mount each node and where
    /// its admin API is, and stop all three on Ctrl-C.
    Demo {
        /// Folder for the cluster secret, configurations, data and logs
        /// (reused when it holds a demo cluster already).
        #[arg(long, default_value = "./cairn-demo")]
        dir: PathBuf,
        /// First port: node i uses base + 10*(i-1) for NFS, +1 Raft,
        /// +2 replica traffic, +3 admin API.
        #[arg(long, default_value_t = 20490)]
        base_port: u16,
    },
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Add a node: into the cluster map and into Raft as a learner, made a
    /// voter once it has caught up. Start it with `cairn serve` and
    /// `[cluster] join = true` (or `--join`).
    Add {
        #[command(flatten)]
        admin: AdminArgs,
        /// Its Raft id (new in this cluster).
        #[arg(long)]
        id: u64,
        /// Its Raft peer address, host:port.
        #[arg(long)]
        raft: std::net::SocketAddr,
        /// Its replica service address, host:port.
        #[arg(long)]
        replica: std::net::SocketAddr,
        /// Where it serves NFS.
        #[arg(long)]
        nfs: Option<String>,
        /// Where its admin API listens, host:port (shown by `cluster
        /// status`; `serve --join` records it by itself).
        #[arg(long)]
        admin_address: Option<String>,
        /// Its failure domain (default node-<id>).
        #[arg(long)]
        domain: Option<String>,
        /// Its capacity weight (default 1).
        #[arg(long)]
        weight: Option<u32>,
    },
    /// Remove node ID: out of Raft and the cluster map; it stops serving
    /// and the others copy its chunks to their new places.
    ///
    /// Any member can be removed, the leader and the node asked included:
    /// a leader that must go first hands leadership to the voter with the
    /// most of the log, and the new leader removes it. The last voter
    /// cannot be removed. Errors of the API are printed and the command
    /// exits with status 1.
    Remove {
        #[command(flatten)]
        admin: AdminArgs,
        id: u64,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Found a new cluster: write DIR/cluster-secret (cluster id, founding
    /// time, cluster secret; mode 0600) and DIR/node-<i>.toml, the
    /// configuration of each founding member, and DIR/admin-token (mode
    /// 0600), the cluster's admin token. Copy the secret and each
    /// configuration to its node and run `cairn serve -c node-<i>.toml`
    /// there; the members elect a leader once a majority runs. Every member
    /// derives the same admin token from the cluster secret (and writes it
    /// to its data directory), so DIR/admin-token works with
    /// `--token-file` against any of them.
    Init {
        /// Output folder.
        #[arg(long)]
        dir: PathBuf,
        /// The founding members' IP addresses, in node id order (1, 2, ...).
        /// The same address repeated puts several nodes on one host on
        /// different ports.
        #[arg(long = "member", required = true)]
        members: Vec<String>,
        /// First port of each member: NFS, then Raft +1, replica +2, admin +3
        /// (+10 per node when they share a host).
        #[arg(long, default_value_t = 2049)]
        base_port: u16,
    },
    /// Show the cluster: id, health, version, and each node's address,
    /// role and health (a standalone node is a cluster of one).
    ///
    /// Asks GET /v1/cluster of the node's admin API (--admin, default the
    /// configuration's `admin.listen`). The admin token is read from
    /// --token-file, else from $CAIRN_ADMIN_TOKEN, else from `admin-token`
    /// in the server's data directory (--data-dir or the configuration's
    /// `server.data_dir`), which only the user running `cairn serve` can
    /// read. A cluster has one token for all members (also in the folder
    /// `cairn cluster init` wrote).
    Status {
        #[command(flatten)]
        admin: AdminArgs,
        /// Print the JSON document of GET /v1/cluster instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// How the admin commands reach a node and find its token.
#[derive(clap::Args)]
struct AdminArgs {
    /// The node's admin API, e.g. http://127.0.0.1:9049 (default: the
    /// configuration's `admin.listen`).
    #[arg(long, env = "CAIRN_ADMIN_URL", value_name = "URL")]
    admin: Option<String>,
    /// File holding the admin token (default: $CAIRN_ADMIN_TOKEN, then
    /// DATA_DIR/admin-token).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The server's configuration file, for the defaults of --admin and of
    /// the data directory.
    #[arg(long, short = 'c', env = "CAIRN_CONFIG")]
    config: Option<PathBuf>,
    /// The server's data directory, where the token file is (overrides
    /// `server.data_dir`).
    #[arg(long, env = "CAIRN_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

impl AdminArgs {
    fn options(self) -> nfsd::admin::cli::ConnectOptions {
        nfsd::admin::cli::ConnectOptions {
            admin: self.admin,
            token_file: self.token_file,
            token: None,
            config: self.config,
            data_dir: self.data_dir,
        }
    }
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the default configuration, with a comment on every key.
    Default,
    /// Check a configuration file and print what it resolves to.
    Check {
        /// The file to check.
        file: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config, data_dir, listen, join } => {
            nfsd::serve::run_joining(config, data_dir, listen, join)
        }
        Command::Node {
            what: NodeCommand::Add { admin, id, raft, replica, nfs, admin_address, domain, weight },
        } => {
            let node = nfsd::admin::NewNode {
                id,
                raft_address: raft,
                replica_address: replica,
                nfs_address: nfs,
                admin_address,
                failure_domain: domain,
                weight,
            };
            nfsd::admin::cli::node_add(&admin.options(), &node)
        }
        Command::Node { what: NodeCommand::Remove { admin, id } } => {
            nfsd::admin::cli::node_remove(&admin.options(), id)
        }
        Command::Cluster { what: ClusterCommand::Status { admin, json } } => {
            nfsd::admin::cli::cluster_status(&admin.options(), json)
        }
        Command::Metrics { admin } => nfsd::admin::cli::metrics(&admin.options()),
        Command::Cluster { what: ClusterCommand::Init { dir, members, base_port } } => {
            nfsd::cluster::init(&dir, &members, base_port).map(|files| {
                for f in files {
                    println!("wrote {}", f.display());
                }
            })
        }
        Command::Demo { dir, base_port } => nfsd::cluster::demo(&dir, base_port),
        Command::Config { what: ConfigCommand::Default } => {
            print!("{}", nfsd::config::DEFAULT_CONFIG);
            Ok(())
        }
        Command::Config { what: ConfigCommand::Check { file } } => {
            nfsd::config::Config::load(Some(&file))
                .and_then(|c| c.admin.checked_listen().map(|_| c))
                .and_then(|c| c.export_rules().map(|r| (c, r)))
                .map(|(c, rules)| {
                    println!(
                        "ok: data_dir {}, listen {}",
                        c.server.data_dir.display(),
                        c.server.listen
                    );
                    for r in rules {
                        println!(
                            "export {} clients {} {} squash {:?} insecure {}",
                            r.path,
                            r.clients.len(),
                            if r.read_only { "ro" } else { "rw" },
                            r.squash,
                            r.insecure
                        );
                    }
                })
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cairn: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
