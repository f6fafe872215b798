//! Counters and latency histograms of the front end, rendered in the
//! Prometheus text exposition format 0.0.4.
//!
//! Recorded at one point, [`Server::dispatch`](crate::Server::dispatch),
//! from the bytes of the call and of the reply alone: program, version and
//! procedure from the call header's fixed words (RFC 5531 §9), the outcome
//! from the reply header, the NFSv3 status from the first word of the
//! results (every NFSv3 result starts with `nfsstat3`, RFC 1813 §3.3), and
//! the READ and WRITE payload sizes from their `count` fields. The handlers
//! know nothing of metrics. NFSv4 COMPOUND operations are recorded by the
//! COMPOUND dispatcher with [`Metrics::observe_op`] and [`Metrics::op_error`].
//!
//! Plain atomics behind a read-mostly lock (taken for writing once per new
//! label set); no tokio. Label values are `&'static str` from fixed tables,
//! so a client cannot grow the number of series: unknown programs,
//! versions and procedures are all labelled `other`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nfs_proto::mount::{MountProc3, MountStat3};
use nfs_proto::nfs3::{Nfsstat3, Proc3};
use parking_lot::RwLock;

/// An RPC program and version as labelled in metrics (`program="nfs"`,
/// `version="3"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Program {
    /// `nfs`, `mount`, `portmap`, or `other`.
    pub name: &'static str,
    /// `3`, `4.1`, … or `other`.
    pub version: &'static str,
}

impl Program {
    /// NFS version 3 (RFC 1813).
    pub const NFS3: Program = Program { name: "nfs", version: "3" };
    /// NFS version 4 at the RPC level (NULL and COMPOUND; RFC 7530 §16).
    pub const NFS4: Program = Program { name: "nfs", version: "4" };
    /// NFSv4.0 COMPOUND operations.
    pub const NFS4_0: Program = Program { name: "nfs", version: "4.0" };
    /// NFSv4.1 COMPOUND operations.
    pub const NFS4_1: Program = Program { name: "nfs", version: "4.1" };
    /// NFSv4.2 COMPOUND operations.
    pub const NFS4_2: Program = Program { name: "nfs", version: "4.2" };
    /// MOUNT version 3 (RFC 1813 Appendix I).
    pub const MOUNT3: Program = Program { name: "mount", version: "3" };
    /// PORTMAP version 2 (RFC 1833 §3).
    pub const PORTMAP2: Program = Program { name: "portmap", version: "2" };
    /// Anything else (NFSACL, NLM, unknown numbers).
    pub const OTHER: Program = Program { name: "other", version: "other" };

    /// The label of RPC program `prog` version `vers`.
    pub fn of(prog: u32, vers: u32) -> Program {
        match (prog, vers) {
            (nfs_proto::nfs3::PROGRAM, 3) => Program::NFS3,
            (nfs_proto::nfs3::PROGRAM, 4) => Program::NFS4,
            (nfs_proto::nfs3::PROGRAM, _) => Program { name: "nfs", version: "other" },
            (nfs_proto::mount::PROGRAM, 3) => Program::MOUNT3,
            (nfs_proto::mount::PROGRAM, _) => Program { name: "mount", version: "other" },
            (nfs_proto::portmap::PROGRAM, 2) => Program::PORTMAP2,
            (nfs_proto::portmap::PROGRAM, _) => Program { name: "portmap", version: "other" },
            _ => Program::OTHER,
        }
    }
}

/// Upper bounds of the latency buckets: (nanoseconds, the `le` label in
/// seconds). From 50 µs (a cached GETATTR) to 10 s (a COMMIT of a large
/// file on a slow disk).
const BUCKETS: [(u64, &str); 17] = [
    (50_000, "0.00005"),
    (100_000, "0.0001"),
    (250_000, "0.00025"),
    (500_000, "0.0005"),
    (1_000_000, "0.001"),
    (2_500_000, "0.0025"),
    (5_000_000, "0.005"),
    (10_000_000, "0.01"),
    (25_000_000, "0.025"),
    (50_000_000, "0.05"),
    (100_000_000, "0.1"),
    (250_000_000, "0.25"),
    (500_000_000, "0.5"),
    (1_000_000_000, "1"),
    (2_500_000_000, "2.5"),
    (5_000_000_000, "5"),
    (10_000_000_000, "10"),
];

/// A latency histogram: one counter per bucket (not cumulative; summed
/// when rendered), the last one for everything above the largest bound.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = BUCKETS.partition_point(|(bound, _)| *bound < ns);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(ns, Ordering::Relaxed);
    }

    /// (cumulative bucket counts, count, sum in seconds), read once so that
    /// `_count` equals the `+Inf` bucket.
    fn snapshot(&self) -> ([u64; BUCKETS.len() + 1], u64, f64) {
        let mut c = [0u64; BUCKETS.len() + 1];
        let mut total = 0u64;
        for (i, b) in self.buckets.iter().enumerate() {
            total += b.load(Ordering::Relaxed);
            c[i] = total;
        }
        (c, total, self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9)
    }
}

/// Labelled values created on first use.
struct Family<K, V> {
    series: RwLock<HashMap<K, V>>,
}

impl<K: std::hash::Hash + Eq + Copy + Ord, V: Default> Family<K, V> {
    fn new() -> Self {
        Family { series: RwLock::new(HashMap::new()) }
    }

    fn with<R>(&self, key: K, f: impl FnOnce(&V) -> R) -> R {
        if let Some(v) = self.series.read().get(&key) {
            return f(v);
        }
        f(self.series.write().entry(key).or_default())
    }

    /// Every series, sorted by labels (stable output for diffing scrapes).
    fn sorted<R>(&self, mut f: impl FnMut(&K, &V) -> R) -> Vec<R> {
        let series = self.series.read();
        let mut keys: Vec<&K> = series.keys().collect();
        keys.sort();
        keys.into_iter().map(|k| f(k, &series[k])).collect()
    }
}

type ProcKey = (Program, &'static str);
type StatusKey = (Program, &'static str, &'static str);

/// The front end's metrics. One per [`Server`](crate::Server).
pub struct Metrics {
    requests: Family<ProcKey, Histogram>,
    rejected: Family<StatusKey, AtomicU64>,
    errors: Family<StatusKey, AtomicU64>,
    ops: Family<ProcKey, Histogram>,
    op_errors: Family<StatusKey, AtomicU64>,
    unanswered: AtomicU64,
    in_flight: AtomicU64,
    received_bytes: AtomicU64,
    sent_bytes: AtomicU64,
    read_bytes: AtomicU64,
    write_bytes: AtomicU64,
    connections_open: AtomicU64,
    connections_accepted: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A call being timed: made by [`Metrics::call_started`], consumed by
/// [`Metrics::call_finished`]. Dropped without finishing (the call's task
/// was cancelled), it still leaves the in-flight gauge.
pub struct CallTimer {
    metrics: Option<Arc<Metrics>>,
    program: Program,
    procedure: &'static str,
    started: Instant,
}

impl Drop for CallTimer {
    fn drop(&mut self) {
        if let Some(m) = self.metrics.take() {
            m.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Counts a connection as open until dropped.
pub struct ConnectionGuard(Arc<Metrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// All counters at zero.
    pub fn new() -> Self {
        Metrics {
            requests: Family::new(),
            rejected: Family::new(),
            errors: Family::new(),
            ops: Family::new(),
            op_errors: Family::new(),
            unanswered: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            received_bytes: AtomicU64::new(0),
            sent_bytes: AtomicU64::new(0),
            read_bytes: AtomicU64::new(0),
            write_bytes: AtomicU64::new(0),
            connections_open: AtomicU64::new(0),
            connections_accepted: AtomicU64::new(0),
        }
    }

    /// A call record arrived: start its timer. Reads only the header's
    /// fixed words (xid, msg_type, rpcvers, prog, vers, proc: RFC 5531 §9).
    pub fn call_started(self: &Arc<Self>, record: &[u8]) -> CallTimer {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.received_bytes.fetch_add(record.len() as u64, Ordering::Relaxed);
        let (program, procedure) = match (word(record, 12), word(record, 16), word(record, 20)) {
            (Some(prog), Some(vers), Some(proc_)) => {
                let p = Program::of(prog, vers);
                (p, procedure_name(p, proc_))
            }
            _ => (Program::OTHER, "other"),
        };
        CallTimer { metrics: Some(self.clone()), program, procedure, started: Instant::now() }
    }

    /// The call's reply (`None`: nothing sent, e.g. a retransmission of a
    /// call still running) is ready: record latency, outcome and bytes.
    pub fn call_finished(&self, timer: CallTimer, reply: Option<&[u8]>) {
        let (program, procedure) = (timer.program, timer.procedure);
        let elapsed = timer.started.elapsed();
        drop(timer);
        self.requests.with((program, procedure), |h| h.observe(elapsed));
        let Some(reply) = reply else {
            self.unanswered.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.sent_bytes.fetch_add(reply.len() as u64, Ordering::Relaxed);
        match reply_outcome(reply) {
            Outcome::Rejected(reason) => {
                self.rejected.with((program, procedure, reason), |c| {
                    c.fetch_add(1, Ordering::Relaxed);
                });
            }
            Outcome::Success(results) => self.results(program, procedure, &reply[results..]),
        }
    }

    /// Status and payload size of a successful reply's results.
    fn results(&self, program: Program, procedure: &'static str, results: &[u8]) {
        let Some(status) = word(results, 0) else { return };
        let name = if program == Program::NFS3 {
            if status == 0 {
                match procedure {
                    "READ" => self.add(&self.read_bytes, nfs3_read_count(results)),
                    "WRITE" => self.add(&self.write_bytes, nfs3_write_count(results)),
                    _ => {}
                }
                return;
            }
            nfs3_status_name(status)
        } else if program == Program::MOUNT3 && procedure == "MNT" && status != 0 {
            mount3_status_name(status)
        } else {
            return;
        };
        self.errors.with((program, procedure, name), |c| {
            c.fetch_add(1, Ordering::Relaxed);
        });
    }

    fn add(&self, counter: &AtomicU64, n: Option<u32>) {
        if let Some(n) = n {
            counter.fetch_add(u64::from(n), Ordering::Relaxed);
        }
    }

    /// One NFSv4 COMPOUND operation (`op` as in RFC 8881 §18, e.g.
    /// `"GETATTR"`) of `program` (e.g. [`Program::NFS4_1`]) took `elapsed`.
    pub fn observe_op(&self, program: Program, op: &'static str, elapsed: Duration) {
        self.ops.with((program, op), |h| h.observe(elapsed));
    }

    /// An NFSv4 operation ended with a status other than `NFS4_OK`
    /// (`status` e.g. `"NFS4ERR_NOENT"`).
    pub fn op_error(&self, program: Program, op: &'static str, status: &'static str) {
        self.op_errors.with((program, op, status), |c| {
            c.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// Payload bytes of a READ answered outside the NFSv3 path (NFSv4).
    pub fn add_read_bytes(&self, n: u64) {
        self.read_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// Payload bytes of a WRITE answered outside the NFSv3 path (NFSv4).
    pub fn add_write_bytes(&self, n: u64) {
        self.write_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// A client connection was accepted; it counts as open until the guard
    /// is dropped.
    pub fn connection_opened(self: &Arc<Self>) -> ConnectionGuard {
        self.connections_accepted.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(self.clone())
    }

    /// Calls answered so far for `program`/`procedure` (for tests and
    /// status pages).
    pub fn requests_total(&self, program: Program, procedure: &'static str) -> u64 {
        self.requests.series.read().get(&(program, procedure)).map_or(0, |h| h.snapshot().1)
    }

    /// Append every metric in the Prometheus text format 0.0.4.
    pub fn render(&self, out: &mut String) {
        let proc_labels = |k: &ProcKey| {
            format!("program=\"{}\",version=\"{}\",procedure=\"{}\"", k.0.name, k.0.version, k.1)
        };
        let op_labels = |k: &ProcKey| {
            format!("program=\"{}\",version=\"{}\",operation=\"{}\"", k.0.name, k.0.version, k.1)
        };

        header(
            out,
            "cairn_rpc_requests_total",
            "counter",
            "RPC calls handled, by program, version and procedure.",
        );
        for line in self.requests.sorted(|k, h| (proc_labels(k), h.snapshot().1)) {
            let _ = writeln!(out, "cairn_rpc_requests_total{{{}}} {}", line.0, line.1);
        }
        histogram(
            out,
            "cairn_rpc_request_duration_seconds",
            "Time from receiving an RPC call to its reply being ready.",
            self.requests.sorted(|k, h| (proc_labels(k), h.snapshot())),
        );
        counters(
            out,
            "cairn_rpc_rejected_total",
            "RPC calls answered without results: reason is rpc_mismatch, auth_error, prog_unavail, prog_mismatch, proc_unavail, garbage_args or system_err.",
            self.rejected.sorted(|k, c| {
                (format!("{},reason=\"{}\"", proc_labels(&(k.0, k.1)), k.2), c.load(Ordering::Relaxed))
            }),
        );
        counters(
            out,
            "cairn_nfs_errors_total",
            "Calls answered with a status other than OK (NFSv3 nfsstat3, MOUNT mountstat3).",
            self.errors.sorted(|k, c| {
                (
                    format!("{},status=\"{}\"", proc_labels(&(k.0, k.1)), k.2),
                    c.load(Ordering::Relaxed),
                )
            }),
        );
        header(
            out,
            "cairn_nfs_operations_total",
            "counter",
            "NFSv4 COMPOUND operations executed, by minor version and operation.",
        );
        for line in self.ops.sorted(|k, h| (op_labels(k), h.snapshot().1)) {
            let _ = writeln!(out, "cairn_nfs_operations_total{{{}}} {}", line.0, line.1);
        }
        histogram(
            out,
            "cairn_nfs_operation_duration_seconds",
            "Execution time of one NFSv4 COMPOUND operation.",
            self.ops.sorted(|k, h| (op_labels(k), h.snapshot())),
        );
        counters(
            out,
            "cairn_nfs_operation_errors_total",
            "NFSv4 operations that ended with a status other than NFS4_OK.",
            self.op_errors.sorted(|k, c| {
                (
                    format!("{},status=\"{}\"", op_labels(&(k.0, k.1)), k.2),
                    c.load(Ordering::Relaxed),
                )
            }),
        );
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        for (name, kind, help, value) in [
            ("cairn_rpc_unanswered_total", "counter", "RPC calls that got no reply: retransmissions of calls still running, records that are not calls.", load(&self.unanswered)),
            ("cairn_rpc_in_flight", "gauge", "RPC calls being executed now.", load(&self.in_flight)),
            ("cairn_rpc_received_bytes_total", "counter", "Bytes of RPC call records received (without record marks).", load(&self.received_bytes)),
            ("cairn_rpc_sent_bytes_total", "counter", "Bytes of RPC reply records sent (without record marks).", load(&self.sent_bytes)),
            ("cairn_nfs_read_bytes_total", "counter", "File data bytes returned by READ.", load(&self.read_bytes)),
            ("cairn_nfs_write_bytes_total", "counter", "File data bytes accepted by WRITE.", load(&self.write_bytes)),
            ("cairn_connections_open", "gauge", "Client TCP connections open now.", load(&self.connections_open)),
            ("cairn_connections_accepted_total", "counter", "Client TCP connections accepted.", load(&self.connections_accepted)),
        ] {
            header(out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
    }
}

/// `# HELP` and `# TYPE` lines of one metric family.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counters(out: &mut String, name: &str, help: &str, series: Vec<(String, u64)>) {
    header(out, name, "counter", help);
    for (labels, v) in series {
        let _ = writeln!(out, "{name}{{{labels}}} {v}");
    }
}

type HistogramSnapshot = ([u64; BUCKETS.len() + 1], u64, f64);

fn histogram(out: &mut String, name: &str, help: &str, series: Vec<(String, HistogramSnapshot)>) {
    header(out, name, "histogram", help);
    for (labels, (cumulative, count, sum)) in series {
        for (i, (_, le)) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {}", cumulative[i]);
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// The big-endian word at byte `at`, if the buffer holds it.
fn word(b: &[u8], at: usize) -> Option<u32> {
    let w = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
}

/// What a reply says, from its header.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// SUCCESS; the results start at this offset.
    Success(usize),
    /// Anything else, with the reason's label.
    Rejected(&'static str),
}

/// RFC 5531 §9: `xid, REPLY, reply_stat` then, when accepted, the verifier
/// (`flavor, length, body` padded to 4) and `accept_stat`; when denied,
/// `reject_stat`.
fn reply_outcome(r: &[u8]) -> Outcome {
    match word(r, 8) {
        Some(0) => {
            let Some(verf_len) = word(r, 16) else { return Outcome::Rejected("malformed") };
            let at = 20usize.saturating_add((verf_len as usize).saturating_add(3) & !3);
            match word(r, at) {
                Some(0) => Outcome::Success(at + 4),
                Some(1) => Outcome::Rejected("prog_unavail"),
                Some(2) => Outcome::Rejected("prog_mismatch"),
                Some(3) => Outcome::Rejected("proc_unavail"),
                Some(4) => Outcome::Rejected("garbage_args"),
                Some(5) => Outcome::Rejected("system_err"),
                _ => Outcome::Rejected("malformed"),
            }
        }
        Some(1) => match word(r, 12) {
            Some(0) => Outcome::Rejected("rpc_mismatch"),
            Some(1) => Outcome::Rejected("auth_error"),
            _ => Outcome::Rejected("malformed"),
        },
        _ => Outcome::Rejected("malformed"),
    }
}

/// Size of `fattr3` on the wire (RFC 1813 §2.6): five 32-bit fields,
/// five 64-bit fields, three `nfstime3`.
const FATTR3_BYTES: usize = 5 * 4 + 5 * 8 + 3 * 8;
/// Size of `wcc_attr` on the wire: `size3` and two `nfstime3`.
const WCC_ATTR_BYTES: usize = 8 + 2 * 8;

/// `count` of READ3resok: `status, post_op_attr file_attributes, count`.
fn nfs3_read_count(results: &[u8]) -> Option<u32> {
    let attr = if word(results, 4)? == 1 { FATTR3_BYTES } else { 0 };
    word(results, 8 + attr)
}

/// `count` of WRITE3resok: `status, wcc_data (pre_op_attr, post_op_attr),
/// count`.
fn nfs3_write_count(results: &[u8]) -> Option<u32> {
    let pre = if word(results, 4)? == 1 { WCC_ATTR_BYTES } else { 0 };
    let post_at = 8 + pre;
    let post = if word(results, post_at)? == 1 { FATTR3_BYTES } else { 0 };
    word(results, post_at + 4 + post)
}

/// Procedure names as the RFCs write them, without the program prefix.
fn procedure_name(p: Program, proc_: u32) -> &'static str {
    const MOUNT: [&str; 6] = ["NULL", "MNT", "DUMP", "UMNT", "UMNTALL", "EXPORT"];
    const PORTMAP: [&str; 6] = ["NULL", "SET", "UNSET", "GETPORT", "DUMP", "CALLIT"];
    const NFS4: [&str; 2] = ["NULL", "COMPOUND"];
    let table: &[&'static str] = match p {
        Program::NFS3 => return Proc3::from_u32(proc_).map_or("other", nfs3_procedure_name),
        Program::MOUNT3 => {
            debug_assert_eq!(MountProc3::ALL.len(), MOUNT.len());
            &MOUNT
        }
        Program::PORTMAP2 => &PORTMAP,
        Program::NFS4 => &NFS4,
        _ => return "other",
    };
    table.get(proc_ as usize).copied().unwrap_or("other")
}

/// `NFSPROC3_<name>` of RFC 1813 §3.
pub fn nfs3_procedure_name(p: Proc3) -> &'static str {
    match p {
        Proc3::Null => "NULL",
        Proc3::Getattr => "GETATTR",
        Proc3::Setattr => "SETATTR",
        Proc3::Lookup => "LOOKUP",
        Proc3::Access => "ACCESS",
        Proc3::Readlink => "READLINK",
        Proc3::Read => "READ",
        Proc3::Write => "WRITE",
        Proc3::Create => "CREATE",
        Proc3::Mkdir => "MKDIR",
        Proc3::Symlink => "SYMLINK",
        Proc3::Mknod => "MKNOD",
        Proc3::Remove => "REMOVE",
        Proc3::Rmdir => "RMDIR",
        Proc3::Rename => "RENAME",
        Proc3::Link => "LINK",
        Proc3::Readdir => "READDIR",
        Proc3::Readdirplus => "READDIRPLUS",
        Proc3::Fsstat => "FSSTAT",
        Proc3::Fsinfo => "FSINFO",
        Proc3::Pathconf => "PATHCONF",
        Proc3::Commit => "COMMIT",
    }
}

/// The RFC 1813 §2.6 name of an `nfsstat3` value.
fn nfs3_status_name(s: u32) -> &'static str {
    let Some(s) = Nfsstat3::from_u32(s) else { return "other" };
    match s {
        Nfsstat3::Ok => "NFS3_OK",
        Nfsstat3::Perm => "NFS3ERR_PERM",
        Nfsstat3::Noent => "NFS3ERR_NOENT",
        Nfsstat3::Io => "NFS3ERR_IO",
        Nfsstat3::Nxio => "NFS3ERR_NXIO",
        Nfsstat3::Acces => "NFS3ERR_ACCES",
        Nfsstat3::Exist => "NFS3ERR_EXIST",
        Nfsstat3::Xdev => "NFS3ERR_XDEV",
        Nfsstat3::Nodev => "NFS3ERR_NODEV",
        Nfsstat3::Notdir => "NFS3ERR_NOTDIR",
        Nfsstat3::Isdir => "NFS3ERR_ISDIR",
        Nfsstat3::Inval => "NFS3ERR_INVAL",
        Nfsstat3::Fbig => "NFS3ERR_FBIG",
        Nfsstat3::Nospc => "NFS3ERR_NOSPC",
        Nfsstat3::Rofs => "NFS3ERR_ROFS",
        Nfsstat3::Mlink => "NFS3ERR_MLINK",
        Nfsstat3::Nametoolong => "NFS3ERR_NAMETOOLONG",
        Nfsstat3::Notempty => "NFS3ERR_NOTEMPTY",
        Nfsstat3::Dquot => "NFS3ERR_DQUOT",
        Nfsstat3::Stale => "NFS3ERR_STALE",
        Nfsstat3::Remote => "NFS3ERR_REMOTE",
        Nfsstat3::Badhandle => "NFS3ERR_BADHANDLE",
        Nfsstat3::NotSync => "NFS3ERR_NOT_SYNC",
        Nfsstat3::BadCookie => "NFS3ERR_BAD_COOKIE",
        Nfsstat3::Notsupp => "NFS3ERR_NOTSUPP",
        Nfsstat3::Toosmall => "NFS3ERR_TOOSMALL",
        Nfsstat3::Serverfault => "NFS3ERR_SERVERFAULT",
        Nfsstat3::Badtype => "NFS3ERR_BADTYPE",
        Nfsstat3::Jukebox => "NFS3ERR_JUKEBOX",
    }
}

/// The RFC 1813 Appendix I name of a `mountstat3` value.
fn mount3_status_name(s: u32) -> &'static str {
    let Some(s) = MountStat3::from_u32(s) else { return "other" };
    match s {
        MountStat3::Ok => "MNT3_OK",
        MountStat3::Perm => "MNT3ERR_PERM",
        MountStat3::Noent => "MNT3ERR_NOENT",
        MountStat3::Io => "MNT3ERR_IO",
        MountStat3::Acces => "MNT3ERR_ACCES",
        MountStat3::Notdir => "MNT3ERR_NOTDIR",
        MountStat3::Inval => "MNT3ERR_INVAL",
        MountStat3::Nametoolong => "MNT3ERR_NAMETOOLONG",
        MountStat3::Notsupp => "MNT3ERR_NOTSUPP",
        MountStat3::Serverfault => "MNT3ERR_SERVERFAULT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nfs_proto::nfs3::*;
    use nfs_proto::rpc::{self, AuthStat, OpaqueAuth};
    use nfs_proto::xdr::{to_bytes, XdrEncode};

    fn call(prog: u32, vers: u32, proc_: u32) -> Vec<u8> {
        rpc::encode_call(7, prog, vers, proc_, &OpaqueAuth::none(), &OpaqueAuth::none())
            .into_inner()
    }

    fn success(results: &impl XdrEncode) -> Vec<u8> {
        let mut e = rpc::accepted_success(7);
        results.encode(&mut e);
        e.into_inner()
    }

    /// A zeroed regular file's `fattr3`, decoded so that the test does not
    /// depend on its fields.
    fn fattr() -> Fattr3 {
        let mut b = vec![0u8; FATTR3_BYTES];
        b[3] = 1; // NF3REG
        nfs_proto::xdr::from_bytes(&b).expect("fattr3 of zeroes decodes")
    }

    fn render(m: &Metrics) -> String {
        let mut s = String::new();
        m.render(&mut s);
        s
    }

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn metrics_wire_sizes_match_the_codec() {
        assert_eq!(to_bytes(&fattr()).len(), FATTR3_BYTES, "RFC 1813 §2.6 fattr3");
        let w = WccAttr { size: 1, mtime: Nfstime3::default(), ctime: Nfstime3::default() };
        assert_eq!(to_bytes(&w).len(), WCC_ATTR_BYTES);
    }

    #[test]
    fn metrics_count_calls_latency_and_payload_by_procedure() {
        let m = Arc::new(Metrics::new());
        for _ in 0..3 {
            let t = m.call_started(&call(PROGRAM, VERSION, Proc3::Getattr as u32));
            let reply = success(&Nfsstat3::Noent);
            m.call_finished(t, Some(&reply));
        }
        let t = m.call_started(&call(PROGRAM, VERSION, Proc3::Read as u32));
        let read = ReadRes::Ok(ReadResOk {
            file_attributes: PostOpAttr(Some(fattr())),
            count: 5,
            eof: true,
            data: b"hello".to_vec(),
        });
        m.call_finished(t, Some(&success(&read)));
        for (pre, post) in [
            (None, None),
            (
                Some(WccAttr { size: 1, mtime: Nfstime3::default(), ctime: Nfstime3::default() }),
                Some(fattr()),
            ),
        ] {
            let t = m.call_started(&call(PROGRAM, VERSION, Proc3::Write as u32));
            let write = WriteRes::Ok(WriteResOk {
                file_wcc: WccData { before: PreOpAttr(pre), after: PostOpAttr(post) },
                count: 1000,
                committed: StableHow::FileSync,
                verf: [0; 8],
            });
            m.call_finished(t, Some(&success(&write)));
        }
        assert_eq!(m.requests_total(Program::NFS3, "GETATTR"), 3);
        let text = render(&m);
        let g = "program=\"nfs\",version=\"3\",procedure=\"GETATTR\"";
        assert_eq!(value(&text, &format!("cairn_rpc_requests_total{{{g}}}")), Some(3.0));
        assert_eq!(
            value(&text, &format!("cairn_rpc_request_duration_seconds_bucket{{{g},le=\"+Inf\"}}")),
            Some(3.0)
        );
        assert_eq!(
            value(&text, &format!("cairn_rpc_request_duration_seconds_count{{{g}}}")),
            Some(3.0)
        );
        assert_eq!(
            value(&text, &format!("cairn_nfs_errors_total{{{g},status=\"NFS3ERR_NOENT\"}}")),
            Some(3.0)
        );
        assert_eq!(value(&text, "cairn_nfs_read_bytes_total"), Some(5.0));
        assert_eq!(value(&text, "cairn_nfs_write_bytes_total"), Some(2000.0));
        assert_eq!(value(&text, "cairn_rpc_in_flight"), Some(0.0));
    }

    #[test]
    fn metrics_buckets_are_cumulative_and_sum_is_in_seconds() {
        let m = Metrics::new();
        let p = Program::NFS4_1;
        m.observe_op(p, "READ", Duration::from_micros(70));
        m.observe_op(p, "READ", Duration::from_millis(3));
        m.observe_op(p, "READ", Duration::from_secs(60));
        m.op_error(p, "READ", "NFS4ERR_STALE");
        let text = render(&m);
        let l = "program=\"nfs\",version=\"4.1\",operation=\"READ\"";
        let bucket = |le: &str| {
            value(&text, &format!("cairn_nfs_operation_duration_seconds_bucket{{{l},le=\"{le}\"}}"))
        };
        assert_eq!(bucket("0.00005"), Some(0.0));
        assert_eq!(bucket("0.0001"), Some(1.0));
        assert_eq!(bucket("0.005"), Some(2.0));
        assert_eq!(bucket("10"), Some(2.0));
        assert_eq!(bucket("+Inf"), Some(3.0));
        let sum =
            value(&text, &format!("cairn_nfs_operation_duration_seconds_sum{{{l}}}")).expect("sum");
        assert!((sum - 60.00307).abs() < 1e-9, "{sum}");
        assert_eq!(
            value(
                &text,
                &format!("cairn_nfs_operation_errors_total{{{l},status=\"NFS4ERR_STALE\"}}")
            ),
            Some(1.0)
        );
    }

    #[test]
    fn metrics_rpc_failures_are_counted_by_reason() {
        let m = Arc::new(Metrics::new());
        let cases = [
            (call(PROGRAM, VERSION, 99), rpc::proc_unavail(7), "proc_unavail", "other"),
            (call(PROGRAM, VERSION, 1), rpc::garbage_args(7), "garbage_args", "GETATTR"),
            (
                call(PROGRAM, VERSION, 1),
                rpc::auth_error(7, AuthStat::TooWeak),
                "auth_error",
                "GETATTR",
            ),
            (call(100227, 3, 0), rpc::prog_unavail(7), "prog_unavail", "other"),
            (call(PROGRAM, 2, 0), rpc::prog_mismatch(7, 3, 3), "prog_mismatch", "other"),
            (call(PROGRAM, VERSION, 0), rpc::rpc_mismatch(7, 2, 2), "rpc_mismatch", "NULL"),
        ];
        let cases: Vec<_> =
            cases.into_iter().map(|(c, r, a, b)| (c, r.into_inner(), a, b)).collect();
        for (c, r, _, _) in &cases {
            let t = m.call_started(c);
            m.call_finished(t, Some(r));
        }
        let t = m.call_started(b"junk");
        m.call_finished(t, None);
        let text = render(&m);
        for (_, _, reason, procedure) in &cases {
            assert!(
                text.contains(&format!("procedure=\"{procedure}\",reason=\"{reason}\"}} 1")),
                "{reason}:\n{text}"
            );
        }
        assert!(text.contains(
            "cairn_rpc_requests_total{program=\"nfs\",version=\"other\",procedure=\"other\"} 1"
        ));
        assert!(text.contains(
            "cairn_rpc_requests_total{program=\"other\",version=\"other\",procedure=\"other\"} 2"
        ));
        assert_eq!(value(&text, "cairn_rpc_unanswered_total"), Some(1.0));
    }

    #[test]
    fn metrics_text_format_is_well_formed() {
        let m = Arc::new(Metrics::new());
        let _c = m.connection_opened();
        let t = m.call_started(&call(nfs_proto::mount::PROGRAM, 3, 1));
        m.call_finished(t, Some(&success(&nfs_proto::mount::MountStat3::Acces)));
        let text = render(&m);
        assert_eq!(value(&text, "cairn_connections_open"), Some(1.0));
        assert!(text.contains("procedure=\"MNT\",status=\"MNT3ERR_ACCES\"} 1"), "{text}");
        // Every sample line belongs to a family declared just before it.
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut it = rest.split(' ');
                let name = it.next().expect("name");
                let kind = it.next().expect("kind");
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                assert!(name.starts_with("cairn_"), "{line}");
                assert!(declared.insert(name.to_string()), "{name} declared twice");
            } else if !line.starts_with("# HELP ") {
                let name = line.split(['{', ' ']).next().expect("name");
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| declared.contains(*f)))
                    .unwrap_or(name);
                assert!(declared.contains(family), "undeclared: {line}");
                let v = line.rsplit(' ').next().expect("value");
                assert!(v.parse::<f64>().is_ok(), "value of {line}");
            }
        }
        drop(_c);
        assert_eq!(value(&render(&m), "cairn_connections_open"), Some(0.0));
    }
}
