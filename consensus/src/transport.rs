//! The peer transport over TCP (tokio): one outbound connection per peer,
//! fed by a bounded queue; inbound connections from any peer that proves
//! it knows the cluster secret.
//!
//! Wire format, all little-endian:
//! - handshake (client → server): `"CAIRNRFT" | version u8 | client id u64 |
//!   client nonce [16]`; (server → client): `version u8 | server id u64 |
//!   server nonce [16] | server MAC [32]`; (client → server): `client MAC
//!   [32]`. A MAC is BLAKE3 keyed by the cluster secret over a role label,
//!   both nonces and both ids, so each side proves the secret and a
//!   recorded handshake cannot be replayed (fresh nonces).
//! - then frames: `length u32 | version u8 | body | MAC [32]`, the MAC keyed
//!   by a per-connection key derived from the secret and the nonces, over
//!   the frame's sequence number, version and body: a frame cannot be
//!   altered, injected, dropped from the middle or replayed without the
//!   receiver noticing. Frames are not encrypted (raft metadata only;
//!   confidentiality would need TLS).
//! - a frame's body is one encoding of the `message` module: a message, or
//!   a piece of a checkpoint. A checkpoint (raft's MsgSnapshot) with more
//!   than `checkpoint_piece_bytes` of data is sent as its pieces in order,
//!   then the message without its data, marked streamed, with the data's
//!   BLAKE3 digest; nothing else goes on that connection in between. The
//!   receiver hands the message on only once the pieces add up
//!   (`checkpoint_stream`); anything else closes the connection and drops
//!   the partial checkpoint, as does a connection lost mid-stream.
//!
//! Limits: `queue_len` messages per peer (a full queue drops the message:
//! raft retransmits), `frame_size_bytes_max` per frame, whatever the
//! checkpoint size; `checkpoint_size_bytes_max` per checkpoint sent or
//! received (one partial checkpoint per connection); a deadline per queued
//! message (`message_deadline`; for a checkpoint, until its first piece);
//! timeouts on connect, handshake, every frame written, and the next piece
//! of a stream.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use raft::eraftpb::Message;

use crate::checkpoint_stream::{CheckpointStream, Reassembler};
use crate::ids::NodeId;
use crate::message::{Frame, Outbound, PeerMessage, PIECE_HEADER_BYTES};

const MAGIC: &[u8; 8] = b"CAIRNRFT";
/// Version of the handshake and frame format (2: checkpoints in pieces).
pub const TRANSPORT_VERSION: u8 = 2;
const NONCE_BYTES: usize = 16;
const MAC_BYTES: usize = 32;

/// Where a transport's events go (the driver implements it).
pub trait TransportEvents: Send + Sync + 'static {
    /// A message arrived from an authenticated peer.
    fn received(&self, from: NodeId, msg: PeerMessage);
    /// A peer could not be reached.
    fn unreachable(&self, peer: NodeId);
    /// A checkpoint message was written to the peer's socket (every piece
    /// of it), or dropped; reported once per checkpoint.
    fn checkpoint_sent(&self, peer: NodeId, delivered: bool);
}

/// The transport's settings.
#[derive(Clone)]
pub struct TransportConfig {
    /// This node.
    pub id: NodeId,
    /// The cluster secret every member holds.
    pub secret: [u8; 32],
    /// Where each peer listens.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Messages queued per peer before new ones are dropped.
    pub queue_len: usize,
    /// Largest frame accepted or sent. It must hold the largest normal
    /// message: an append of `Config::append_size_bytes_max` entry bytes,
    /// or of one entry of `Config::proposal_size_bytes_max` (raft sends at
    /// least one), plus encoding; and a checkpoint piece.
    pub frame_size_bytes_max: usize,
    /// A checkpoint with more data than this is sent in pieces this large.
    pub checkpoint_piece_bytes: usize,
    /// Largest checkpoint sent or received; keep it equal to
    /// `Config::checkpoint_size_bytes_max`.
    pub checkpoint_size_bytes_max: usize,
    /// A queued message older than this is dropped instead of sent.
    pub message_deadline: Duration,
    /// Limit on connecting to a peer.
    pub connect_timeout: Duration,
    /// Limit on the whole handshake.
    pub handshake_timeout: Duration,
    /// Limit on writing one frame, on receiving the rest of a frame once
    /// its length arrived, and on waiting for a stream's next piece.
    pub write_timeout: Duration,
    /// First delay before reconnecting (doubles up to 16 times this).
    pub reconnect_backoff: Duration,
}

impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("id", &self.id)
            .field("peers", &self.peers)
            .field("queue_len", &self.queue_len)
            .finish_non_exhaustive()
    }
}

impl TransportConfig {
    /// Defaults for node `id` with `secret` and `peers`.
    pub fn new(id: NodeId, secret: [u8; 32], peers: BTreeMap<NodeId, SocketAddr>) -> Self {
        TransportConfig {
            id,
            secret,
            peers,
            queue_len: 1024,
            frame_size_bytes_max: 4 << 20,
            checkpoint_piece_bytes: 1 << 20,
            checkpoint_size_bytes_max: 1 << 30,
            message_deadline: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(2),
            write_timeout: Duration::from_secs(5),
            reconnect_backoff: Duration::from_millis(50),
        }
    }
}

/// Why a message was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No such peer in the configuration.
    #[error("unknown peer {0}")]
    UnknownPeer(NodeId),
    /// The peer's queue is full.
    #[error("queue to {0} is full")]
    QueueFull(NodeId),
    /// The transport was shut down.
    #[error("transport shut down")]
    Closed,
}

struct Queued {
    at: Instant,
    checkpoint: bool,
    body: Body,
}

enum Body {
    /// One frame's body.
    Frame(Vec<u8>),
    /// A checkpoint to send in pieces.
    Stream(Box<Message>),
}

/// A running transport. Cheap to clone.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    queues: BTreeMap<NodeId, mpsc::Sender<Queued>>,
    piece_bytes: usize,
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("local_addr", &self.inner.local_addr).finish()
    }
}

fn mac(key: &[u8; 32], parts: &[&[u8]]) -> blake3::Hash {
    let mut h = blake3::Hasher::new_keyed(key);
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

fn session_key(
    secret: &[u8; 32],
    nc: &[u8],
    ns: &[u8],
    client: NodeId,
    server: NodeId,
) -> [u8; 32] {
    *mac(secret, &[b"cairn raft session", nc, ns, &client.0.to_le_bytes(), &server.0.to_le_bytes()])
        .as_bytes()
}

fn role_mac(
    secret: &[u8; 32],
    role: &[u8],
    nc: &[u8],
    ns: &[u8],
    client: NodeId,
    server: NodeId,
) -> blake3::Hash {
    mac(secret, &[role, nc, ns, &client.0.to_le_bytes(), &server.0.to_le_bytes()])
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

async fn with_timeout<T>(
    d: Duration,
    f: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(d, f)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "timed out"))?
}

/// One authenticated direction of a connection: the MAC key and the frame
/// counter.
struct Session {
    key: [u8; 32],
    seq: u64,
}

impl Session {
    fn seal(&mut self, body: &[u8]) -> Vec<u8> {
        let tag = mac(&self.key, &[&self.seq.to_le_bytes(), &[TRANSPORT_VERSION], body]);
        self.seq += 1;
        let len = (1 + body.len() + MAC_BYTES) as u32;
        let mut f = Vec::with_capacity(4 + len as usize);
        f.extend_from_slice(&len.to_le_bytes());
        f.push(TRANSPORT_VERSION);
        f.extend_from_slice(body);
        f.extend_from_slice(tag.as_bytes());
        f
    }

    /// Read one frame. Waiting for a frame to start is limited by
    /// `start_timeout` only if given (a quiet peer is fine, a stalled
    /// checkpoint stream is not); once it started it must be complete
    /// within `body_timeout`, so a stalled sender cannot hold the buffer.
    async fn read(
        &mut self,
        s: &mut TcpStream,
        max: usize,
        start_timeout: Option<Duration>,
        body_timeout: Duration,
    ) -> io::Result<Vec<u8>> {
        let mut len = [0u8; 4];
        match start_timeout {
            Some(d) => with_timeout(d, async { s.read_exact(&mut len).await.map(|_| ()) }).await?,
            None => s.read_exact(&mut len).await.map(|_| ())?,
        }
        let len = u32::from_le_bytes(len) as usize;
        if len < 1 + MAC_BYTES || len > max {
            return Err(invalid("frame length out of bounds"));
        }
        let mut f = vec![0u8; len];
        with_timeout(body_timeout, async { s.read_exact(&mut f).await.map(|_| ()) }).await?;
        if f[0] != TRANSPORT_VERSION {
            return Err(invalid("unknown frame version"));
        }
        let (body, tag) = f[1..].split_at(len - 1 - MAC_BYTES);
        let want = mac(&self.key, &[&self.seq.to_le_bytes(), &[TRANSPORT_VERSION], body]);
        let tag: [u8; MAC_BYTES] = tag.try_into().map_err(|_| invalid("frame tag"))?;
        if want != blake3::Hash::from(tag) {
            return Err(invalid("frame MAC mismatch"));
        }
        self.seq += 1;
        Ok(body.to_vec())
    }
}

/// Client side of the handshake: prove the secret, check the server's.
async fn handshake_client(
    s: &mut TcpStream,
    secret: &[u8; 32],
    me: NodeId,
    expect: NodeId,
) -> io::Result<Session> {
    let nc: [u8; NONCE_BYTES] = rand::random();
    let mut hello = Vec::with_capacity(8 + 1 + 8 + NONCE_BYTES);
    hello.extend_from_slice(MAGIC);
    hello.push(TRANSPORT_VERSION);
    hello.extend_from_slice(&me.0.to_le_bytes());
    hello.extend_from_slice(&nc);
    s.write_all(&hello).await?;
    let mut reply = [0u8; 1 + 8 + NONCE_BYTES + MAC_BYTES];
    s.read_exact(&mut reply).await?;
    if reply[0] != TRANSPORT_VERSION {
        return Err(invalid("peer speaks another transport version"));
    }
    let server = NodeId(u64::from_le_bytes(reply[1..9].try_into().map_err(|_| invalid("id"))?));
    if server != expect {
        return Err(invalid("peer is not the node configured at this address"));
    }
    let ns = &reply[9..9 + NONCE_BYTES];
    let tag: [u8; MAC_BYTES] = reply[9 + NONCE_BYTES..].try_into().map_err(|_| invalid("mac"))?;
    if role_mac(secret, b"server", &nc, ns, me, server) != blake3::Hash::from(tag) {
        return Err(invalid("peer does not know the cluster secret"));
    }
    s.write_all(role_mac(secret, b"client", &nc, ns, me, server).as_bytes()).await?;
    Ok(Session { key: session_key(secret, &nc, ns, me, server), seq: 0 })
}

/// Server side of the handshake; returns the authenticated peer.
async fn handshake_server(
    s: &mut TcpStream,
    secret: &[u8; 32],
    me: NodeId,
) -> io::Result<(NodeId, Session)> {
    let mut hello = [0u8; 8 + 1 + 8 + NONCE_BYTES];
    s.read_exact(&mut hello).await?;
    if &hello[..8] != MAGIC {
        return Err(invalid("not a Cairn raft peer"));
    }
    if hello[8] != TRANSPORT_VERSION {
        return Err(invalid("peer speaks another transport version"));
    }
    let client = NodeId(u64::from_le_bytes(hello[9..17].try_into().map_err(|_| invalid("id"))?));
    if client == me || client.0 == 0 {
        return Err(invalid("bad peer id"));
    }
    let nc = &hello[17..];
    let ns: [u8; NONCE_BYTES] = rand::random();
    let mut reply = Vec::with_capacity(1 + 8 + NONCE_BYTES + MAC_BYTES);
    reply.push(TRANSPORT_VERSION);
    reply.extend_from_slice(&me.0.to_le_bytes());
    reply.extend_from_slice(&ns);
    reply.extend_from_slice(role_mac(secret, b"server", nc, &ns, client, me).as_bytes());
    s.write_all(&reply).await?;
    let mut tag = [0u8; MAC_BYTES];
    s.read_exact(&mut tag).await?;
    if role_mac(secret, b"client", nc, &ns, client, me) != blake3::Hash::from(tag) {
        return Err(invalid("peer does not know the cluster secret"));
    }
    Ok((client, Session { key: session_key(secret, nc, &ns, client, me), seq: 0 }))
}

impl Transport {
    /// Start serving `listener` and connecting to the configured peers, on
    /// the current tokio runtime. Fails if a checkpoint piece would not fit
    /// in a frame.
    pub fn start(
        cfg: TransportConfig,
        listener: TcpListener,
        events: Arc<dyn TransportEvents>,
    ) -> io::Result<Transport> {
        let piece_frame = 1 + PIECE_HEADER_BYTES + cfg.checkpoint_piece_bytes + MAC_BYTES;
        if cfg.checkpoint_piece_bytes == 0 || piece_frame > cfg.frame_size_bytes_max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a checkpoint piece must fit in a frame",
            ));
        }
        let local_addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut queues = BTreeMap::new();
        for (&peer, &addr) in &cfg.peers {
            if peer == cfg.id {
                continue;
            }
            let (tx, rx) = mpsc::channel(cfg.queue_len.max(1));
            queues.insert(peer, tx);
            tokio::spawn(outbound_task(
                cfg.clone(),
                peer,
                addr,
                rx,
                events.clone(),
                shutdown_rx.clone(),
            ));
        }
        let piece_bytes = cfg.checkpoint_piece_bytes;
        tokio::spawn(accept_task(cfg, listener, events, shutdown_rx));
        Ok(Transport { inner: Arc::new(Inner { queues, piece_bytes, local_addr, shutdown }) })
    }

    /// The address the transport listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// Queue `ob` for its peer without blocking.
    pub fn send(&self, ob: Outbound) -> Result<(), SendError> {
        let q = self.inner.queues.get(&ob.to).ok_or(SendError::UnknownPeer(ob.to))?;
        let checkpoint = ob.message.is_checkpoint();
        let body = match ob.message {
            PeerMessage::Raft(m)
                if checkpoint && m.get_snapshot().get_data().len() > self.inner.piece_bytes =>
            {
                Body::Stream(m)
            }
            m => Body::Frame(m.encode()),
        };
        let item = Queued { at: Instant::now(), checkpoint, body };
        q.try_send(item).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SendError::QueueFull(ob.to),
            mpsc::error::TrySendError::Closed(_) => SendError::Closed,
        })
    }

    /// Stop every task of this transport.
    pub fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
    }
}

async fn outbound_task(
    cfg: TransportConfig,
    peer: NodeId,
    addr: SocketAddr,
    mut rx: mpsc::Receiver<Queued>,
    events: Arc<dyn TransportEvents>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = cfg.reconnect_backoff;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let connected = async {
            let mut s = with_timeout(cfg.connect_timeout, TcpStream::connect(addr)).await?;
            s.set_nodelay(true)?;
            let session = with_timeout(
                cfg.handshake_timeout,
                handshake_client(&mut s, &cfg.secret, cfg.id, peer),
            )
            .await?;
            Ok::<_, io::Error>((s, session))
        }
        .await;
        let (mut stream, mut session) = match connected {
            Ok(c) => {
                backoff = cfg.reconnect_backoff;
                c
            }
            Err(e) => {
                tracing::debug!(%peer, %addr, error = %e, "peer unreachable");
                events.unreachable(peer);
                // What was queued meanwhile is dropped (raft sends again
                // what still matters), then wait before retrying.
                while let Ok(q) = rx.try_recv() {
                    if q.checkpoint {
                        events.checkpoint_sent(peer, false);
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return,
                }
                backoff = (backoff * 2).min(cfg.reconnect_backoff * 16);
                continue;
            }
        };
        loop {
            let q = tokio::select! {
                q = rx.recv() => q,
                _ = shutdown.changed() => return,
            };
            let Some(q) = q else { return };
            // The deadline is for starting: a stream's pieces each have the
            // write timeout instead.
            let wrote = if q.at.elapsed() > cfg.message_deadline {
                Ok(false)
            } else {
                let mut out = Out { cfg: &cfg, peer, stream: &mut stream, session: &mut session };
                match q.body {
                    Body::Frame(body) => out.frame(&body).await,
                    Body::Stream(m) => out.checkpoint(m, &shutdown).await,
                }
            };
            if q.checkpoint {
                events.checkpoint_sent(peer, matches!(wrote, Ok(true)));
            }
            if let Err(e) = wrote {
                tracing::debug!(%peer, error = %e, "write to peer failed; reconnecting");
                events.unreachable(peer);
                break;
            }
        }
    }
}

/// One connected peer, for writing.
struct Out<'a> {
    cfg: &'a TransportConfig,
    peer: NodeId,
    stream: &'a mut TcpStream,
    session: &'a mut Session,
}

impl Out<'_> {
    /// Write one frame: `Ok(false)` if it was over the frame limit (dropped),
    /// an error if the connection failed.
    async fn frame(&mut self, body: &[u8]) -> io::Result<bool> {
        if 1 + body.len() + MAC_BYTES > self.cfg.frame_size_bytes_max {
            tracing::error!(peer = %self.peer, size_bytes = body.len(), "message over the frame limit dropped");
            return Ok(false);
        }
        let frame = self.session.seal(body);
        with_timeout(self.cfg.write_timeout, self.stream.write_all(&frame)).await?;
        Ok(true)
    }

    /// Write a checkpoint in pieces, each with its own write timeout:
    /// `Ok(true)` once every frame was written.
    async fn checkpoint(
        &mut self,
        m: Box<Message>,
        shutdown: &watch::Receiver<bool>,
    ) -> io::Result<bool> {
        let frames = CheckpointStream::new(m, self.cfg.checkpoint_piece_bytes);
        if frames.total() > self.cfg.checkpoint_size_bytes_max {
            tracing::error!(peer = %self.peer, size_bytes = frames.total(), "checkpoint over the size limit dropped");
            return Ok(false);
        }
        for body in frames {
            if *shutdown.borrow() {
                return Err(io::Error::other("transport shut down mid-checkpoint"));
            }
            if !self.frame(&body).await? {
                // The peer holds part of it: only a new connection resets it.
                return Err(io::Error::other("a checkpoint frame over the frame limit"));
            }
        }
        Ok(true)
    }
}

async fn accept_task(
    cfg: TransportConfig,
    listener: TcpListener,
    events: Arc<dyn TransportEvents>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let (mut stream, from) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let cfg = cfg.clone();
        let events = events.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let hs = with_timeout(
                cfg.handshake_timeout,
                handshake_server(&mut stream, &cfg.secret, cfg.id),
            )
            .await;
            let (peer, mut session) = match hs {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(%from, error = %e, "rejected a peer connection");
                    return;
                }
            };
            let mut pieces = Reassembler::new(cfg.checkpoint_size_bytes_max);
            loop {
                let streaming = pieces.in_progress();
                let max = cfg.frame_size_bytes_max;
                let start_timeout = streaming.then_some(cfg.write_timeout);
                let body = tokio::select! {
                    b = session.read(&mut stream, max, start_timeout, cfg.write_timeout) => b,
                    _ = shutdown.changed() => return,
                };
                let body = match body {
                    Ok(b) => b,
                    Err(e) => {
                        if streaming {
                            tracing::warn!(%peer, error = %e, "connection lost mid-checkpoint; partial checkpoint dropped");
                        } else if e.kind() != io::ErrorKind::UnexpectedEof {
                            tracing::warn!(%peer, error = %e, "closing a peer connection");
                        }
                        return;
                    }
                };
                let frame = match Frame::decode(&body) {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "undecodable peer message; closing");
                        return;
                    }
                };
                match pieces.push(frame) {
                    Ok(Some(msg)) => events.received(peer, msg),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "checkpoint stream refused; closing");
                        return;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use parking_lot::Mutex;
    use raft::eraftpb::MessageType;

    use super::*;
    use crate::checkpoint_stream::test_checkpoint;

    const SECRET: [u8; 32] = [5; 32];
    const MIB: usize = 1 << 20;

    #[derive(Default)]
    struct Recorder {
        received: Mutex<Vec<(NodeId, PeerMessage)>>,
        sent: Mutex<Vec<(NodeId, bool)>>,
    }

    impl TransportEvents for Recorder {
        fn received(&self, from: NodeId, msg: PeerMessage) {
            self.received.lock().push((from, msg));
        }
        fn unreachable(&self, _: NodeId) {}
        fn checkpoint_sent(&self, peer: NodeId, delivered: bool) {
            self.sent.lock().push((peer, delivered));
        }
    }

    async fn until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Configurations of nodes 1 and 2 on 127.0.0.1 (1 MiB pieces, 4 MiB
    /// frames), with their listeners.
    async fn two_nodes() -> Vec<(TransportConfig, TcpListener)> {
        let mut listeners = Vec::new();
        let mut peers = BTreeMap::new();
        for id in [1, 2] {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            peers.insert(NodeId(id), l.local_addr().expect("addr"));
            listeners.push((NodeId(id), l));
        }
        let mut nodes = Vec::new();
        for (id, l) in listeners {
            let mut cfg = TransportConfig::new(id, SECRET, peers.clone());
            cfg.checkpoint_piece_bytes = MIB;
            cfg.frame_size_bytes_max = 4 * MIB;
            nodes.push((cfg, l));
        }
        nodes
    }

    fn start(node: (TransportConfig, TcpListener)) -> (Transport, Arc<Recorder>) {
        let rec = Arc::new(Recorder::default());
        let t = Transport::start(node.0, node.1, rec.clone()).expect("start");
        (t, rec)
    }

    fn raft_to_2(m: Box<Message>) -> Outbound {
        Outbound { to: NodeId(2), message: PeerMessage::Raft(m) }
    }

    fn heartbeat() -> Box<Message> {
        let mut m = Message::default();
        m.set_msg_type(MessageType::MsgHeartbeat);
        m.from = 1;
        m.to = 2;
        Box::new(m)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_checkpoint_arrives_whole_in_pieces() {
        let mut nodes = two_nodes().await;
        let (t2, rec2) = start(nodes.pop().expect("node 2"));
        let (t1, rec1) = start(nodes.pop().expect("node 1"));
        let m = test_checkpoint(3, 500, 10 * MIB + 12_345);
        t1.send(raft_to_2(m.clone())).expect("queue the checkpoint");
        t1.send(raft_to_2(heartbeat())).expect("queue a heartbeat");
        until("both messages", || rec2.received.lock().len() == 2).await;
        let got = rec2.received.lock().clone();
        assert_eq!(got[0], (NodeId(1), PeerMessage::Raft(m)), "the checkpoint, byte for byte");
        assert_eq!(got[1], (NodeId(1), PeerMessage::Raft(heartbeat())), "then the heartbeat");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(*rec1.sent.lock(), vec![(NodeId(2), true)], "reported once, delivered");
        t1.shutdown();
        t2.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cut_or_stalled_stream_delivers_nothing() {
        let mut nodes = two_nodes().await;
        let mut receiver = nodes.pop().expect("node 2");
        receiver.0.write_timeout = Duration::from_millis(300);
        let addr = receiver.0.peers[&NodeId(2)];
        let (t2, rec2) = start(receiver);
        let m = test_checkpoint(3, 500, 5 * MIB + 7);
        let frames: Vec<Vec<u8>> = CheckpointStream::new(m.clone(), MIB).collect();
        assert_eq!(frames.len(), 7, "six pieces and the trailer");

        // Three pieces and half the fourth, then the connection drops.
        let (mut c, mut session) = connect_and_send(addr, &frames[..3]).await;
        let fourth = session.seal(&frames[3]);
        c.write_all(&fourth[..fourth.len() / 2]).await.expect("write");
        drop(c);

        // Two pieces, then nothing: the receiver closes the connection.
        let (mut c, _) = connect_and_send(addr, &frames[..2]).await;
        assert_closed(&mut c, "a stalled stream").await;
        assert!(rec2.received.lock().is_empty(), "part of a checkpoint was handed over");

        // A whole stream afterwards arrives.
        let (t1, rec1) = start(nodes.pop().expect("node 1"));
        t1.send(raft_to_2(m.clone())).expect("queue");
        until("the checkpoint", || !rec2.received.lock().is_empty()).await;
        until("the report", || !rec1.sent.lock().is_empty()).await;
        assert_eq!(*rec2.received.lock(), vec![(NodeId(1), PeerMessage::Raft(m))]);
        assert_eq!(*rec1.sent.lock(), vec![(NodeId(2), true)]);
        t1.shutdown();
        t2.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checkpoints_over_the_limit_are_dropped_on_both_sides() {
        let mut nodes = two_nodes().await;
        let mut n2 = nodes.pop().expect("node 2");
        let mut n1 = nodes.pop().expect("node 1");
        n1.0.checkpoint_size_bytes_max = 2 * MIB;
        n2.0.checkpoint_size_bytes_max = 2 * MIB;
        let (t1, rec1) = start(n1);
        let (t2, rec2) = start(n2);
        let big = test_checkpoint(3, 500, 3 * MIB);

        // The sender refuses it and says so.
        t1.send(raft_to_2(big.clone())).expect("queue");
        t1.send(raft_to_2(heartbeat())).expect("queue");
        until("the heartbeat", || !rec2.received.lock().is_empty()).await;
        assert_eq!(*rec2.received.lock(), vec![(NodeId(1), PeerMessage::Raft(heartbeat()))]);
        assert_eq!(*rec1.sent.lock(), vec![(NodeId(2), false)]);

        // A receiver refuses one over its own limit (here from a raw peer
        // that ignores the sender's limit) and closes the connection.
        let first = CheckpointStream::new(big, MIB).take(1).collect::<Vec<_>>();
        let (mut c, _) = connect_and_send(t2.local_addr(), &first).await;
        assert_closed(&mut c, "a checkpoint over the limit").await;
        assert_eq!(rec2.received.lock().len(), 1);
        t1.shutdown();
        t2.shutdown();
    }

    /// Node 1 played by hand: connect to node 2, authenticate, send
    /// `frames`.
    async fn connect_and_send(addr: SocketAddr, frames: &[Vec<u8>]) -> (TcpStream, Session) {
        let mut c = TcpStream::connect(addr).await.expect("connect");
        let mut session =
            handshake_client(&mut c, &SECRET, NodeId(1), NodeId(2)).await.expect("handshake");
        for f in frames {
            c.write_all(&session.seal(f)).await.expect("write");
        }
        (c, session)
    }

    /// The peer closes `c` within 5 s.
    async fn assert_closed(c: &mut TcpStream, what: &str) {
        let mut buf = [0u8; 1];
        let closed = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await;
        assert!(matches!(closed, Ok(Ok(0) | Err(_))), "{what} must be closed: {closed:?}");
    }

    /// Node 2 played by hand: accept one connection and authenticate it.
    async fn accept_one(listener: &TcpListener) -> (TcpStream, Session) {
        let (mut s, _) = listener.accept().await.expect("accept");
        let (peer, session) =
            handshake_server(&mut s, &SECRET, NodeId(2)).await.expect("handshake");
        assert_eq!(peer, NodeId(1));
        (s, session)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_piece_has_its_own_deadline() {
        let mut nodes = two_nodes().await;
        let (_, listener) = nodes.pop().expect("node 2");
        let mut n1 = nodes.pop().expect("node 1");
        n1.0.write_timeout = Duration::from_millis(500);
        n1.0.message_deadline = Duration::from_millis(300);
        let (t1, rec1) = start(n1);
        let m = test_checkpoint(3, 500, 16 * MIB);
        t1.send(raft_to_2(m.clone())).expect("queue");
        // A slow link: 1 MiB every 150 ms, so the whole takes longer than
        // one write deadline and than the queued-message deadline.
        let started = Instant::now();
        let (mut s, mut session) = accept_one(&listener).await;
        let mut pieces = Reassembler::new(64 * MIB);
        let got = loop {
            let body = session.read(&mut s, 4 * MIB, None, Duration::from_secs(5)).await;
            let body = body.expect("frame");
            tokio::time::sleep(Duration::from_millis(150)).await;
            let frame = Frame::decode(&body).expect("decode");
            if let Some(m) = pieces.push(frame).expect("a good stream") {
                break m;
            }
        };
        assert!(started.elapsed() > Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(got, PeerMessage::Raft(m));
        until("the report", || !rec1.sent.lock().is_empty()).await;
        assert_eq!(*rec1.sent.lock(), vec![(NodeId(2), true)]);
        t1.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_receiver_fails_the_checkpoint_once() {
        let mut nodes = two_nodes().await;
        let (_, listener) = nodes.pop().expect("node 2");
        let mut n1 = nodes.pop().expect("node 1");
        n1.0.write_timeout = Duration::from_millis(200);
        let (t1, rec1) = start(n1);
        // More than the socket buffers hold, and never read.
        t1.send(raft_to_2(test_checkpoint(3, 500, 32 * MIB))).expect("queue");
        let _held = accept_one(&listener).await;
        until("the report", || !rec1.sent.lock().is_empty()).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(*rec1.sent.lock(), vec![(NodeId(2), false)]);
        t1.shutdown();
    }

    /// The default frame limit holds the largest append the default node
    /// configuration lets raft send: entries up to `append_size_bytes_max`
    /// (tiny ones: the most encoding per byte), or one entry of the largest
    /// proposal (raft sends at least one); and a checkpoint piece.
    #[test]
    fn the_default_frame_limit_holds_the_largest_append() {
        use protobuf::Message as _;
        use raft::eraftpb::Entry;

        let node = crate::Config::new(NodeId(1));
        let t = TransportConfig::new(NodeId(1), SECRET, BTreeMap::new());
        assert_eq!(t.checkpoint_size_bytes_max, node.checkpoint_size_bytes_max);
        assert!(
            1 + PIECE_HEADER_BYTES + t.checkpoint_piece_bytes + MAC_BYTES <= t.frame_size_bytes_max
        );
        let fits = |entries: Vec<Entry>| {
            let mut m = heartbeat();
            m.set_msg_type(MessageType::MsgAppend);
            (m.term, m.index, m.log_term, m.commit) = (u64::MAX, u64::MAX, u64::MAX, u64::MAX);
            m.set_entries(entries.into());
            1 + PeerMessage::Raft(m).encode().len() + MAC_BYTES <= t.frame_size_bytes_max
        };
        let entry = |data: Vec<u8>| {
            let mut e = Entry::default();
            (e.term, e.index) = (u64::MAX, u64::MAX);
            e.set_data(data.into());
            e
        };
        let request_id = crate::RequestId { node: NodeId(u64::MAX), seq: u64::MAX };
        let payload = vec![7; node.proposal_size_bytes_max];
        assert!(fits(vec![entry(crate::Proposal { request_id, payload }.encode())]));
        let mut tiny = Vec::new();
        let mut size = 0;
        loop {
            let e = entry(vec![1]);
            size += u64::from(e.compute_size());
            if size > node.append_size_bytes_max {
                break;
            }
            tiny.push(e);
        }
        assert!(fits(tiny));
    }

    #[tokio::test]
    async fn a_piece_must_fit_in_a_frame() {
        let (mut cfg, l) = two_nodes().await.remove(0);
        cfg.checkpoint_piece_bytes = cfg.frame_size_bytes_max;
        let r = Transport::start(cfg, l, Arc::new(Recorder::default()));
        assert_eq!(r.map(|_| ()).map_err(|e| e.kind()), Err(io::ErrorKind::InvalidInput));
    }

    #[tokio::test]
    async fn handshake_needs_the_secret() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            handshake_server(&mut s, &[7; 32], NodeId(2)).await.map(|(p, _)| p)
        });
        let mut c = TcpStream::connect(addr).await.expect("connect");
        let r = handshake_client(&mut c, &[8; 32], NodeId(1), NodeId(2)).await;
        assert!(r.is_err(), "a wrong secret must not pass");
        drop(c);
        assert!(server.await.expect("join").is_err());
    }

    #[tokio::test]
    async fn frames_are_authenticated() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let (peer, mut session) =
                handshake_server(&mut s, &[7; 32], NodeId(2)).await.expect("handshake");
            let first = session
                .read(&mut s, 1 << 20, None, Duration::from_secs(5))
                .await
                .expect("first frame");
            let second = session.read(&mut s, 1 << 20, None, Duration::from_secs(5)).await;
            (peer, first, second.is_err())
        });
        let mut c = TcpStream::connect(addr).await.expect("connect");
        let mut session =
            handshake_client(&mut c, &[7; 32], NodeId(1), NodeId(2)).await.expect("handshake");
        c.write_all(&session.seal(b"hello")).await.expect("write");
        let mut tampered = session.seal(b"world");
        tampered[5] ^= 1; // the first body byte, after length and version
        c.write_all(&tampered).await.expect("write");
        let (peer, first, second_failed) = server.await.expect("join");
        assert_eq!(peer, NodeId(1));
        assert_eq!(first, b"hello");
        assert!(second_failed, "a tampered frame must be refused");
    }
}
