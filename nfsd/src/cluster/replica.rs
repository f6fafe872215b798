//! The replica service: chunk bytes node to node (DESIGN.md §4), on its own
//! TCP port (`[cluster] replica_listen`), apart from the Raft transport so
//! that bulk data never queues behind heartbeats.
//!
//! Wire format, little-endian:
//! - handshake (client → server): `"CAIRNREP" | version u8 | client id u64 |
//!   nonce [16]`; (server → client): `version u8 | server id u64 | nonce [16]
//!   | MAC [32]`; (client → server): `MAC [32]`. MACs are BLAKE3 keyed by the
//!   replica key (derived from the cluster secret) over a role label, both
//!   nonces and both ids: each side proves the secret; fresh nonces make a
//!   recorded handshake useless.
//! - then frames, each way: `length u32 | version u8 | body | MAC [32]`, the
//!   MAC keyed per connection and direction over the frame's sequence
//!   number, version and body (no tampering, injection or replay; not
//!   encrypted).
//! - one request, one response, in turn, per connection; a client keeps a
//!   small pool of connections per peer.
//!
//! Limits: `FRAME_SIZE_BYTES_MAX` per frame, `REQUESTS_IN_FLIGHT_PER_PEER_MAX`
//! per peer on the client side, `CONNECTIONS_MAX` on the server side, a
//! deadline on connecting, on the handshake and on every request.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Version of the handshake and of the frame and message formats.
pub const REPLICA_PROTOCOL_VERSION: u8 = 1;
const MAGIC: &[u8; 8] = b"CAIRNREP";
const NONCE_BYTES: usize = 16;
const MAC_BYTES: usize = 32;
/// Largest frame: a 1 MiB write plus its header, with room.
pub const FRAME_SIZE_BYTES_MAX: usize = 4 << 20;
/// Requests to one peer at once (more wait for a slot, within their deadline).
pub const REQUESTS_IN_FLIGHT_PER_PEER_MAX: usize = 64;
/// Idle connections kept per peer.
const POOLED_CONNECTIONS_PER_PEER_MAX: usize = 16;
/// Inbound connections at once.
pub const CONNECTIONS_MAX: usize = 512;
/// Limit on connecting and on the handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Limit on one request, from sending it to the whole response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A request to a replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Liveness, boot id and sync state.
    Ping,
    /// Write `data` at `offset` of chunk `chunk` of `ino`; `sync` makes it
    /// durable first. `forward`: the other replicas, when this node is the
    /// primary (it writes, then forwards with an empty list).
    Write { ino: u64, chunk: u64, offset: u32, sync: bool, forward: Vec<u64>, data: Vec<u8> },
    /// Read from this node's own copy.
    Read { ino: u64, chunk: u64, offset: u32, len: u32 },
    /// Make every write of `ino` on this node durable.
    SyncInode { ino: u64 },
    /// Cut `ino` to `size` (chunks of `chunk_size`).
    Truncate { ino: u64, size: u64, chunk_size: u64 },
    /// Drop all data of `ino`.
    RemoveInode { ino: u64 },
}

/// Outcome of a request at the replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    /// A block failed its checksum: read elsewhere.
    Checksum = 1,
    Io = 2,
    NoSpace = 3,
    Invalid = 4,
    /// A replica the primary forwarded to failed: retry with a new placement.
    ReplicaFailed = 5,
    /// The answering node has no file for the chunk (a read): read it
    /// elsewhere; when every node answers this, the chunk is a hole.
    Absent = 6,
}

/// A replica's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    /// The answering node's boot id (changes at every start).
    pub boot: u64,
    /// The answering node is re-syncing its copies after a start: do not
    /// read from it.
    pub syncing: bool,
    /// `Write`: (node, boot id) of every replica that holds the write.
    pub acks: Vec<(u64, u64)>,
    /// `Read`: the bytes; an error: its text.
    pub data: Vec<u8>,
}

impl Response {
    pub fn error(status: Status, boot: u64, syncing: bool, text: String) -> Self {
        Response { status, boot, syncing, acks: Vec::new(), data: text.into_bytes() }
    }
}

// ------------------------------------------------------------- encoding

struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(invalid("short message"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| invalid("u32"))?))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| invalid("u64"))?))
    }
    fn flag(&mut self) -> io::Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(invalid("bad flag")),
        }
    }
    fn bytes(&mut self) -> io::Result<Vec<u8>> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn end(&self) -> io::Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(invalid("trailing bytes"))
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Vec::with_capacity(64);
        match self {
            Request::Ping => o.push(1),
            Request::Write { ino, chunk, offset, sync, forward, data } => {
                o.reserve(data.len());
                o.push(2);
                o.extend_from_slice(&ino.to_le_bytes());
                o.extend_from_slice(&chunk.to_le_bytes());
                o.extend_from_slice(&offset.to_le_bytes());
                o.push(u8::from(*sync));
                o.push(forward.len() as u8);
                for n in forward {
                    o.extend_from_slice(&n.to_le_bytes());
                }
                put_bytes(&mut o, data);
            }
            Request::Read { ino, chunk, offset, len } => {
                o.push(3);
                o.extend_from_slice(&ino.to_le_bytes());
                o.extend_from_slice(&chunk.to_le_bytes());
                o.extend_from_slice(&offset.to_le_bytes());
                o.extend_from_slice(&len.to_le_bytes());
            }
            Request::SyncInode { ino } => {
                o.push(4);
                o.extend_from_slice(&ino.to_le_bytes());
            }
            Request::Truncate { ino, size, chunk_size } => {
                o.push(5);
                o.extend_from_slice(&ino.to_le_bytes());
                o.extend_from_slice(&size.to_le_bytes());
                o.extend_from_slice(&chunk_size.to_le_bytes());
            }
            Request::RemoveInode { ino } => {
                o.push(6);
                o.extend_from_slice(&ino.to_le_bytes());
            }
        }
        o
    }

    pub fn decode(b: &[u8]) -> io::Result<Request> {
        let mut r = R(b);
        let req = match r.u8()? {
            1 => Request::Ping,
            2 => {
                let (ino, chunk, offset, sync) = (r.u64()?, r.u64()?, r.u32()?, r.flag()?);
                let n = r.u8()?;
                let mut forward = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    forward.push(r.u64()?);
                }
                Request::Write { ino, chunk, offset, sync, forward, data: r.bytes()? }
            }
            3 => Request::Read { ino: r.u64()?, chunk: r.u64()?, offset: r.u32()?, len: r.u32()? },
            4 => Request::SyncInode { ino: r.u64()? },
            5 => Request::Truncate { ino: r.u64()?, size: r.u64()?, chunk_size: r.u64()? },
            6 => Request::RemoveInode { ino: r.u64()? },
            _ => return Err(invalid("unknown request")),
        };
        r.end()?;
        Ok(req)
    }
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Vec::with_capacity(32 + self.data.len());
        o.push(self.status as u8);
        o.extend_from_slice(&self.boot.to_le_bytes());
        o.push(u8::from(self.syncing));
        o.push(self.acks.len() as u8);
        for (n, b) in &self.acks {
            o.extend_from_slice(&n.to_le_bytes());
            o.extend_from_slice(&b.to_le_bytes());
        }
        put_bytes(&mut o, &self.data);
        o
    }

    pub fn decode(b: &[u8]) -> io::Result<Response> {
        let mut r = R(b);
        let status = match r.u8()? {
            0 => Status::Ok,
            1 => Status::Checksum,
            2 => Status::Io,
            3 => Status::NoSpace,
            4 => Status::Invalid,
            5 => Status::ReplicaFailed,
            6 => Status::Absent,
            _ => return Err(invalid("unknown status")),
        };
        let (boot, syncing) = (r.u64()?, r.flag()?);
        let n = r.u8()?;
        let mut acks = Vec::with_capacity(n as usize);
        for _ in 0..n {
            acks.push((r.u64()?, r.u64()?));
        }
        let data = r.bytes()?;
        r.end()?;
        Ok(Response { status, boot, syncing, acks, data })
    }
}

// ------------------------------------------------------- authentication

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn mac(key: &[u8; 32], parts: &[&[u8]]) -> blake3::Hash {
    let mut h = blake3::Hasher::new_keyed(key);
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

async fn timed<T>(
    d: Duration,
    f: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(d, f)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "replica request timed out"))?
}

/// One authenticated connection: a key and a counter per direction.
pub struct Conn {
    stream: TcpStream,
    send_key: [u8; 32],
    recv_key: [u8; 32],
    send_seq: u64,
    recv_seq: u64,
}

struct Ids<'a> {
    nc: &'a [u8],
    ns: &'a [u8],
    client: u64,
    server: u64,
}

impl Ids<'_> {
    fn mac(&self, key: &[u8; 32], label: &[u8]) -> blake3::Hash {
        mac(key, &[label, self.nc, self.ns, &self.client.to_le_bytes(), &self.server.to_le_bytes()])
    }
    fn key(&self, key: &[u8; 32], label: &[u8]) -> [u8; 32] {
        *self.mac(key, label).as_bytes()
    }
}

impl Conn {
    async fn send(&mut self, body: &[u8]) -> io::Result<()> {
        let tag =
            mac(&self.send_key, &[&self.send_seq.to_le_bytes(), &[REPLICA_PROTOCOL_VERSION], body]);
        self.send_seq += 1;
        let len = (1 + body.len() + MAC_BYTES) as u32;
        let mut f = Vec::with_capacity(4 + len as usize);
        f.extend_from_slice(&len.to_le_bytes());
        f.push(REPLICA_PROTOCOL_VERSION);
        f.extend_from_slice(body);
        f.extend_from_slice(tag.as_bytes());
        self.stream.write_all(&f).await
    }

    /// One frame. Waiting for it to start has no limit here (the caller
    /// puts a deadline around requests); once started it must complete
    /// within `REQUEST_TIMEOUT`.
    async fn recv(&mut self) -> io::Result<Vec<u8>> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len).await?;
        let len = u32::from_le_bytes(len) as usize;
        if !(1 + MAC_BYTES..=FRAME_SIZE_BYTES_MAX).contains(&len) {
            return Err(invalid("frame length out of bounds"));
        }
        let mut f = vec![0u8; len];
        timed(REQUEST_TIMEOUT, async { self.stream.read_exact(&mut f).await.map(|_| ()) }).await?;
        if f[0] != REPLICA_PROTOCOL_VERSION {
            return Err(invalid("unknown replica protocol version"));
        }
        let (body, tag) = f[1..].split_at(len - 1 - MAC_BYTES);
        let want =
            mac(&self.recv_key, &[&self.recv_seq.to_le_bytes(), &[REPLICA_PROTOCOL_VERSION], body]);
        let tag: [u8; MAC_BYTES] = tag.try_into().map_err(|_| invalid("tag"))?;
        if want != blake3::Hash::from(tag) {
            return Err(invalid("frame MAC mismatch"));
        }
        self.recv_seq += 1;
        Ok(body.to_vec())
    }

    async fn connect(addr: SocketAddr, key: &[u8; 32], me: u64, expect: u64) -> io::Result<Conn> {
        timed(CONNECT_TIMEOUT, async {
            let mut s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let nc: [u8; NONCE_BYTES] = rand::random();
            let mut hello = Vec::with_capacity(8 + 1 + 8 + NONCE_BYTES);
            hello.extend_from_slice(MAGIC);
            hello.push(REPLICA_PROTOCOL_VERSION);
            hello.extend_from_slice(&me.to_le_bytes());
            hello.extend_from_slice(&nc);
            s.write_all(&hello).await?;
            let mut reply = [0u8; 1 + 8 + NONCE_BYTES + MAC_BYTES];
            s.read_exact(&mut reply).await?;
            if reply[0] != REPLICA_PROTOCOL_VERSION {
                return Err(invalid("peer speaks another replica protocol version"));
            }
            let server = u64::from_le_bytes(reply[1..9].try_into().map_err(|_| invalid("id"))?);
            if server != expect {
                return Err(invalid("peer is not the node configured at this address"));
            }
            let ns = &reply[9..9 + NONCE_BYTES];
            let ids = Ids { nc: &nc, ns, client: me, server };
            let tag: [u8; MAC_BYTES] =
                reply[9 + NONCE_BYTES..].try_into().map_err(|_| invalid("mac"))?;
            if ids.mac(key, b"server") != blake3::Hash::from(tag) {
                return Err(invalid("peer does not know the cluster secret"));
            }
            s.write_all(ids.mac(key, b"client").as_bytes()).await?;
            Ok(Conn {
                send_key: ids.key(key, b"client to server"),
                recv_key: ids.key(key, b"server to client"),
                stream: s,
                send_seq: 0,
                recv_seq: 0,
            })
        })
        .await
    }

    async fn accept(mut s: TcpStream, key: &[u8; 32], me: u64) -> io::Result<(u64, Conn)> {
        timed(CONNECT_TIMEOUT, async {
            s.set_nodelay(true)?;
            let mut hello = [0u8; 8 + 1 + 8 + NONCE_BYTES];
            s.read_exact(&mut hello).await?;
            if &hello[..8] != MAGIC || hello[8] != REPLICA_PROTOCOL_VERSION {
                return Err(invalid("not a Cairn replica peer of this version"));
            }
            let client = u64::from_le_bytes(hello[9..17].try_into().map_err(|_| invalid("id"))?);
            let nc = &hello[17..];
            let ns: [u8; NONCE_BYTES] = rand::random();
            let ids = Ids { nc, ns: &ns, client, server: me };
            let mut reply = Vec::with_capacity(1 + 8 + NONCE_BYTES + MAC_BYTES);
            reply.push(REPLICA_PROTOCOL_VERSION);
            reply.extend_from_slice(&me.to_le_bytes());
            reply.extend_from_slice(&ns);
            reply.extend_from_slice(ids.mac(key, b"server").as_bytes());
            s.write_all(&reply).await?;
            let mut tag = [0u8; MAC_BYTES];
            s.read_exact(&mut tag).await?;
            if ids.mac(key, b"client") != blake3::Hash::from(tag) {
                return Err(invalid("peer does not know the cluster secret"));
            }
            let conn = Conn {
                send_key: ids.key(key, b"server to client"),
                recv_key: ids.key(key, b"client to server"),
                stream: s,
                send_seq: 0,
                recv_seq: 0,
            };
            Ok((client, conn))
        })
        .await
    }
}

// --------------------------------------------------------------- server

/// What serves requests on this node (the cluster backend).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, from: u64, req: Request)
        -> impl std::future::Future<Output = Response> + Send;
}

/// Accept authenticated peers on `listener` and answer their requests
/// until `stop` turns true.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    key: [u8; 32],
    me: u64,
    handler: Arc<H>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    loop {
        let (s, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "replica service: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "replica service: too many connections, refusing one");
            continue;
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let (from, mut conn) = match Conn::accept(s, &key, me).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "replica service: handshake refused");
                    return;
                }
            };
            loop {
                let Ok(body) = conn.recv().await else { return };
                let resp = match Request::decode(&body) {
                    Ok(req) => handler.handle(from, req).await,
                    Err(e) => Response::error(Status::Invalid, 0, false, e.to_string()),
                };
                if timed(REQUEST_TIMEOUT, conn.send(&resp.encode())).await.is_err() {
                    return;
                }
            }
        });
    }
}

// --------------------------------------------------------------- client

struct Peer {
    addr: SocketAddr,
    idle: parking_lot::Mutex<Vec<Conn>>,
    slots: Semaphore,
}

/// What this node knows of a peer's liveness.
#[derive(Debug, Clone, Copy, Default)]
pub struct PeerState {
    pub last_ok: Option<Instant>,
    pub boot: u64,
    pub syncing: bool,
}

/// Connections to the other replicas, and what their answers told of them.
pub struct Peers {
    me: u64,
    key: [u8; 32],
    peers: parking_lot::RwLock<BTreeMap<u64, Arc<Peer>>>,
    state: parking_lot::Mutex<HashMap<u64, PeerState>>,
}

/// A peer not heard from for this long is taken as down.
pub const PEER_DOWN_AFTER: Duration = Duration::from_millis(1500);

impl Peers {
    pub fn new(me: u64, key: [u8; 32], addrs: &BTreeMap<u64, SocketAddr>) -> Self {
        let peers = addrs
            .iter()
            .filter(|(id, _)| **id != me)
            .map(|(id, addr)| {
                let p = Peer {
                    addr: *addr,
                    idle: parking_lot::Mutex::new(Vec::new()),
                    slots: Semaphore::new(REQUESTS_IN_FLIGHT_PER_PEER_MAX),
                };
                (*id, Arc::new(p))
            })
            .collect();
        Peers {
            me,
            key,
            peers: parking_lot::RwLock::new(peers),
            state: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// Make the peers exactly `addrs` (this node aside): a changed cluster
    /// map added, removed or moved members.
    pub fn set_members(&self, addrs: &BTreeMap<u64, SocketAddr>) {
        let mut peers = self.peers.write();
        peers.retain(|id, p| addrs.get(id) == Some(&p.addr));
        for (id, addr) in addrs {
            if *id != self.me && !peers.contains_key(id) {
                let p = Peer {
                    addr: *addr,
                    idle: parking_lot::Mutex::new(Vec::new()),
                    slots: Semaphore::new(REQUESTS_IN_FLIGHT_PER_PEER_MAX),
                };
                peers.insert(*id, Arc::new(p));
            }
        }
        self.state.lock().retain(|id, _| peers.contains_key(id));
    }

    /// The other members.
    pub fn ids(&self) -> Vec<u64> {
        self.peers.read().keys().copied().collect()
    }

    pub fn state(&self, id: u64) -> PeerState {
        self.state.lock().get(&id).copied().unwrap_or_default()
    }

    /// Heard from within [`PEER_DOWN_AFTER`].
    pub fn is_live(&self, id: u64) -> bool {
        id == self.me || self.state(id).last_ok.is_some_and(|t| t.elapsed() < PEER_DOWN_AFTER)
    }

    /// Last known boot id of every peer (0 when never heard from).
    pub fn boots(&self) -> Vec<(u64, u64)> {
        let st = self.state.lock();
        let peers = self.peers.read();
        peers.keys().map(|id| (*id, st.get(id).map(|s| s.boot).unwrap_or(0))).collect()
    }

    fn note(&self, id: u64, r: &io::Result<Response>) {
        let mut st = self.state.lock();
        let s = st.entry(id).or_default();
        match r {
            Ok(resp) => {
                s.last_ok = Some(Instant::now());
                if s.boot != resp.boot && s.boot != 0 {
                    tracing::info!(
                        node = id,
                        "replica restarted: unstable writes may be lost there"
                    );
                }
                s.boot = resp.boot;
                s.syncing = resp.syncing;
            }
            Err(_) => s.last_ok = None,
        }
    }

    /// Send `req` to `id` and wait for the answer, within `REQUEST_TIMEOUT`.
    pub async fn call(&self, id: u64, req: &Request) -> io::Result<Response> {
        let r = self.call_inner(id, req).await;
        self.note(id, &r);
        r
    }

    async fn call_inner(&self, id: u64, req: &Request) -> io::Result<Response> {
        let peer = self
            .peers
            .read()
            .get(&id)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown replica"))?;
        let body = req.encode();
        timed(REQUEST_TIMEOUT, async {
            let _slot = peer.slots.acquire().await.map_err(|_| invalid("closed"))?;
            let pooled = peer.idle.lock().pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => Conn::connect(peer.addr, &self.key, self.me, id).await?,
            };
            conn.send(&body).await?;
            let resp = Response::decode(&conn.recv().await?)?;
            let mut idle = peer.idle.lock();
            if idle.len() < POOLED_CONNECTIONS_PER_PEER_MAX {
                idle.push(conn);
            }
            Ok(resp)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_garbage_fails() {
        let reqs = [
            Request::Ping,
            Request::Write {
                ino: 7,
                chunk: 2,
                offset: 9,
                sync: true,
                forward: vec![2, 3],
                data: vec![1; 10],
            },
            Request::Read { ino: 7, chunk: 1, offset: 4096, len: 10 },
            Request::SyncInode { ino: 5 },
            Request::Truncate { ino: 5, size: 100, chunk_size: 4 << 20 },
            Request::RemoveInode { ino: 5 },
        ];
        for r in reqs {
            let b = r.encode();
            assert_eq!(Request::decode(&b).expect("decodes"), r);
            for cut in 0..b.len() {
                assert!(Request::decode(&b[..cut]).is_err(), "prefix {cut} of {r:?}");
            }
        }
        let resp = Response {
            status: Status::Ok,
            boot: 9,
            syncing: true,
            acks: vec![(1, 2)],
            data: vec![3],
        };
        assert_eq!(Response::decode(&resp.encode()).expect("decodes"), resp);
        assert!(Request::decode(&[99]).is_err());
    }

    struct Echo;
    impl Handler for Echo {
        async fn handle(&self, from: u64, req: Request) -> Response {
            Response {
                status: Status::Ok,
                boot: from,
                syncing: false,
                acks: vec![],
                data: req.encode(),
            }
        }
    }

    #[tokio::test]
    async fn authenticated_calls_and_a_wrong_secret_is_refused() {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("addr");
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        tokio::spawn(serve(l, [7; 32], 1, Arc::new(Echo), stop));
        let addrs: BTreeMap<u64, SocketAddr> = [(1, addr)].into_iter().collect();
        let good = Peers::new(2, [7; 32], &addrs);
        for _ in 0..3 {
            let r = good.call(1, &Request::SyncInode { ino: 3 }).await.expect("call");
            assert_eq!((r.boot, r.data), (2, Request::SyncInode { ino: 3 }.encode()));
        }
        assert!(good.is_live(1));
        let bad = Peers::new(2, [8; 32], &addrs);
        assert!(bad.call(1, &Request::Ping).await.is_err(), "a wrong secret must be refused");
        assert!(!bad.is_live(1));
    }
}
