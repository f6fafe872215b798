//! ONC RPC over TCP: record marking (RFC 5531 §11), many calls in flight per
//! connection, replies sent as each call finishes.
//!
//! Each connection has a reader (reassembles fragments into records, one
//! task per call) and a writer (frames replies). Limits: record size,
//! connections, calls in flight per connection and overall. A record over
//! the size limit cannot be answered meaningfully (its xid may not even be
//! readable yet), so the connection is closed; the client reconnects and
//! retransmits, as it does after any connection loss.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fsapi::ClusterFs;
use nfs_proto::rpc;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};
use tracing::Instrument;

use crate::Server;

/// Transport limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest RPC record accepted (a 1 MiB WRITE plus headers fits).
    pub record_size_max_bytes: u32,
    /// Most client connections at once; further ones are closed at accept.
    pub connections_max: usize,
    /// Most calls executing at once on one connection; the reader stops
    /// reading (TCP back-pressure) until one finishes.
    pub calls_in_flight_per_connection_max: usize,
    /// Most calls executing at once on the whole server.
    pub calls_in_flight_max: usize,
    /// How long shutdown waits for calls in flight.
    pub shutdown_grace: Duration,
    /// A connection idle this long is closed.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            record_size_max_bytes: (1 << 20) + 64 * 1024,
            connections_max: 1024,
            calls_in_flight_per_connection_max: 128,
            calls_in_flight_max: 4096,
            shutdown_grace: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// Accepts connections on `listeners` until `shutdown` turns true, then
/// waits for calls in flight (up to `shutdown_grace`) and returns.
pub async fn serve<F: ClusterFs>(
    server: Arc<Server<F>>,
    listeners: Vec<TcpListener>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limits = server.limits.clone();
    let calls = Arc::new(Semaphore::new(limits.calls_in_flight_max));
    let connections = Arc::new(AtomicUsize::new(0));
    let (accepted_tx, mut accepted_rx) = mpsc::channel::<(TcpStream, SocketAddr)>(64);
    let mut acceptors = Vec::new();
    for l in listeners {
        let tx = accepted_tx.clone();
        acceptors.push(tokio::spawn(async move {
            loop {
                match l.accept().await {
                    Ok(c) => {
                        if tx.send(c).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }));
    }
    drop(accepted_tx);
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            c = accepted_rx.recv() => {
                let Some((stream, peer)) = c else { break };
                if connections.load(Ordering::Relaxed) >= limits.connections_max {
                    tracing::warn!(%peer, limit = limits.connections_max, "too many connections; closing new one");
                    continue;
                }
                let _ = stream.set_nodelay(true);
                connections.fetch_add(1, Ordering::Relaxed);
                let (server, calls, connections, shutdown) =
                    (server.clone(), calls.clone(), connections.clone(), shutdown.clone());
                tokio::spawn(async move {
                    tracing::debug!(%peer, "connection opened");
                    if let Err(e) = connection(server, stream, peer, calls, shutdown).await {
                        tracing::debug!(%peer, error = %e, "connection ended");
                    }
                    connections.fetch_sub(1, Ordering::Relaxed);
                });
            }
        }
    }
    for a in acceptors {
        a.abort();
    }
    // Every call holds a permit of `calls`: taking them all means none runs.
    let all = limits.calls_in_flight_max as u32;
    let drained =
        tokio::time::timeout(limits.shutdown_grace, calls.acquire_many(all)).await.is_ok();
    if drained {
        tracing::info!("all calls in flight finished");
    } else {
        tracing::warn!("calls still in flight after the shutdown grace period");
    }
}

async fn connection<F: ClusterFs>(
    server: Arc<Server<F>>,
    stream: TcpStream,
    peer: SocketAddr,
    calls: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let limits = server.limits.clone();
    let _open = server.metrics().connection_opened();
    let (rd, wr) = stream.into_split();
    // Buffered: one receive usually brings several small records.
    let mut rd = BufReader::with_capacity(READ_BUFFER_BYTES, rd);
    // Each call writes its own reply under this lock: no hop through a
    // writer task, so a request costs one wake-up less.
    let wr = Arc::new(tokio::sync::Mutex::new(wr));
    let slots = limits.calls_in_flight_per_connection_max;
    let per_conn = Arc::new(Semaphore::new(slots));
    let result = loop {
        let record = tokio::select! {
            _ = shutdown.changed() => break Ok(()),
            r = tokio::time::timeout(limits.idle_timeout, read_record(&mut rd, limits.record_size_max_bytes)) => match r {
                Ok(Ok(Some(rec))) => rec,
                Ok(Ok(None)) => break Ok(()),
                Ok(Err(e)) => break Err(e),
                Err(_) => {
                    tracing::debug!(%peer, "idle connection closed");
                    break Ok(());
                }
            },
        };
        let Ok(conn_permit) = per_conn.clone().acquire_owned().await else { break Ok(()) };
        let Ok(call_permit) = calls.clone().acquire_owned().await else { break Ok(()) };
        let (server, wr) = (server.clone(), wr.clone());
        let span = tracing::info_span!("rpc", client = %peer, xid = tracing::field::Empty, proc = tracing::field::Empty);
        tokio::spawn(
            async move {
                if let Some(reply) = server.dispatch(peer, record).await {
                    if let Err(e) = send_reply(&wr, reply).await {
                        tracing::debug!(error = %e, "reply not sent");
                    }
                }
                drop(conn_permit);
                drop(call_permit);
            }
            .instrument(span),
        );
    };
    // Every call of this connection holds a permit: taking them all waits
    // until each has sent its reply.
    let _ = per_conn.acquire_many(slots as u32).await;
    result
}

/// Buffer of a connection's reader.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Replies up to this size are sent with their record mark in one write.
const SMALL_REPLY_BYTES: usize = 64 * 1024;

/// Send one reply as a single-fragment record.
async fn send_reply(
    wr: &tokio::sync::Mutex<OwnedWriteHalf>,
    reply: Vec<u8>,
) -> std::io::Result<()> {
    let mark = rpc::fragment_header(true, reply.len() as u32).to_be_bytes();
    if reply.len() <= SMALL_REPLY_BYTES {
        let mut record = Vec::with_capacity(4 + reply.len());
        record.extend_from_slice(&mark);
        record.extend_from_slice(&reply);
        wr.lock().await.write_all(&record).await
    } else {
        let mut w = wr.lock().await;
        w.write_all(&mark).await?;
        w.write_all(&reply).await
    }
}

/// Reads one record (all its fragments). `Ok(None)` at a clean end of stream.
async fn read_record<R: AsyncReadExt + Unpin>(
    rd: &mut R,
    max: u32,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut record = Vec::new();
    loop {
        let mut h = [0u8; 4];
        match rd.read_exact(&mut h).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && record.is_empty() => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        }
        let (last, len) = rpc::parse_fragment_header(u32::from_be_bytes(h));
        let total = record.len() as u64 + len as u64;
        if total > max as u64 {
            tracing::warn!(
                record_bytes = total,
                limit = max,
                "RPC record over the size limit; closing connection"
            );
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "record too large"));
        }
        let start = record.len();
        record.resize(start + len as usize, 0);
        rd.read_exact(&mut record[start..]).await?;
        if last {
            return Ok(Some(record));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(last: bool, data: &[u8]) -> Vec<u8> {
        let mut v = rpc::fragment_header(last, data.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(data);
        v
    }

    #[tokio::test]
    async fn multi_fragment_records_are_reassembled() {
        let mut input = frag(false, b"abc");
        input.extend(frag(false, b""));
        input.extend(frag(true, b"defg"));
        input.extend(frag(true, b"x"));
        let mut rd = &input[..];
        assert_eq!(read_record(&mut rd, 100).await.expect("read"), Some(b"abcdefg".to_vec()));
        assert_eq!(read_record(&mut rd, 100).await.expect("read"), Some(b"x".to_vec()));
        assert_eq!(read_record(&mut rd, 100).await.expect("read"), None);
    }

    #[tokio::test]
    async fn oversize_and_truncated_records_are_errors() {
        let input = frag(true, &[0u8; 64]);
        assert!(read_record(&mut &input[..], 63).await.is_err());
        let mut input = frag(false, b"abc");
        input.extend(frag(true, b"defg"));
        assert!(
            read_record(&mut &input[..], 6).await.is_err(),
            "limit applies to the whole record"
        );
        assert!(read_record(&mut &input[..9], 100).await.is_err(), "cut inside a fragment");
    }
}
