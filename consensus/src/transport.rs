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
//!
//! Limits: `queue_len` messages per peer (a full queue drops the message:
//! raft retransmits), `frame_size_bytes_max` per frame, a deadline per
//! queued message (`message_deadline`), timeouts on connect, handshake and
//! every write. A checkpoint (raft snapshot) is one message, so the frame
//! limit must exceed `Config::checkpoint_size_bytes_max`.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::ids::NodeId;
use crate::message::{Outbound, PeerMessage};

const MAGIC: &[u8; 8] = b"CAIRNRFT";
/// Version of the handshake and frame format.
pub const TRANSPORT_VERSION: u8 = 1;
const NONCE_BYTES: usize = 16;
const MAC_BYTES: usize = 32;

/// Where a transport's events go (the driver implements it).
pub trait TransportEvents: Send + Sync + 'static {
    /// A message arrived from an authenticated peer.
    fn received(&self, from: NodeId, msg: PeerMessage);
    /// A peer could not be reached.
    fn unreachable(&self, peer: NodeId);
    /// A checkpoint message was written to the peer's socket, or dropped.
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
    /// Largest frame accepted or sent.
    pub frame_size_bytes_max: usize,
    /// A queued message older than this is dropped instead of sent.
    pub message_deadline: Duration,
    /// Limit on connecting to a peer.
    pub connect_timeout: Duration,
    /// Limit on the whole handshake.
    pub handshake_timeout: Duration,
    /// Limit on writing one frame, and on receiving the rest of a frame
    /// once its length arrived.
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
            frame_size_bytes_max: 80 << 20,
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
    bytes: Vec<u8>,
}

/// A running transport. Cheap to clone.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    queues: BTreeMap<NodeId, mpsc::Sender<Queued>>,
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

    /// Read one frame. Waiting for a frame to start has no limit (a quiet
    /// peer is fine); once it started it must be complete within
    /// `body_timeout`, so a stalled sender cannot hold the buffer.
    async fn read(
        &mut self,
        s: &mut TcpStream,
        max: usize,
        body_timeout: Duration,
    ) -> io::Result<Vec<u8>> {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).await?;
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
    /// the current tokio runtime.
    pub fn start(
        cfg: TransportConfig,
        listener: TcpListener,
        events: Arc<dyn TransportEvents>,
    ) -> io::Result<Transport> {
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
        tokio::spawn(accept_task(cfg, listener, events, shutdown_rx));
        Ok(Transport { inner: Arc::new(Inner { queues, local_addr, shutdown }) })
    }

    /// The address the transport listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// Queue `ob` for its peer without blocking.
    pub fn send(&self, ob: Outbound) -> Result<(), SendError> {
        let q = self.inner.queues.get(&ob.to).ok_or(SendError::UnknownPeer(ob.to))?;
        let item = Queued {
            at: Instant::now(),
            checkpoint: ob.message.is_checkpoint(),
            bytes: ob.message.encode(),
        };
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
            if q.at.elapsed() > cfg.message_deadline {
                if q.checkpoint {
                    events.checkpoint_sent(peer, false);
                }
                continue;
            }
            if 1 + q.bytes.len() + MAC_BYTES > cfg.frame_size_bytes_max {
                tracing::error!(%peer, size_bytes = q.bytes.len(), "message over the frame limit dropped");
                if q.checkpoint {
                    events.checkpoint_sent(peer, false);
                }
                continue;
            }
            let frame = session.seal(&q.bytes);
            let wrote = with_timeout(cfg.write_timeout, stream.write_all(&frame)).await;
            if q.checkpoint {
                events.checkpoint_sent(peer, wrote.is_ok());
            }
            if let Err(e) = wrote {
                tracing::debug!(%peer, error = %e, "write to peer failed; reconnecting");
                events.unreachable(peer);
                break;
            }
        }
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
            loop {
                let body = tokio::select! {
                    b = session.read(&mut stream, cfg.frame_size_bytes_max, cfg.write_timeout) => b,
                    _ = shutdown.changed() => return,
                };
                let body = match body {
                    Ok(b) => b,
                    Err(e) => {
                        if e.kind() != io::ErrorKind::UnexpectedEof {
                            tracing::warn!(%peer, error = %e, "closing a peer connection");
                        }
                        return;
                    }
                };
                match PeerMessage::decode(&body) {
                    Ok(msg) => events.received(peer, msg),
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "undecodable peer message; closing");
                        return;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let first =
                session.read(&mut s, 1 << 20, Duration::from_secs(5)).await.expect("first frame");
            let second = session.read(&mut s, 1 << 20, Duration::from_secs(5)).await;
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
