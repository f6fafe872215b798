//! Three drivers over the real TCP transport on 127.0.0.1: they elect a
//! leader, replicate proposals made at every node (followers forward to the
//! leader), answer linearizable reads, and a peer without the cluster
//! secret is refused; a node started late catches up through a checkpoint
//! larger than a frame, sent in pieces.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use consensus::{
    Config, DriverConfig, DriverHandle, LogIndex, Node, NodeId, ProposalOutcome, RaftDriver, Role,
    StateMachine, Transport, TransportConfig,
};
use store::{KvStore, MemStore};
use tokio::net::TcpListener;

/// Sums the payload bytes it is given; its checkpoint carries `pad` more
/// bytes (a pattern checked on restore), to make it large.
#[derive(Default)]
struct Sum {
    total: u64,
    count: u64,
    pad: usize,
}

fn pad_byte(i: usize) -> u8 {
    (i % 251) as u8
}

impl StateMachine for Sum {
    fn apply(&mut self, _index: LogIndex, data: &[u8]) -> Vec<u8> {
        self.total += data.iter().map(|b| u64::from(*b)).sum::<u64>();
        self.count += 1;
        self.count.to_le_bytes().to_vec()
    }
    fn checkpoint(&self) -> Vec<u8> {
        let mut v = self.total.to_le_bytes().to_vec();
        v.extend_from_slice(&self.count.to_le_bytes());
        v.extend((0..self.pad).map(pad_byte));
        v
    }
    fn restore(&mut self, b: &[u8]) -> Result<(), String> {
        if b.len() != 16 + self.pad {
            return Err("length".into());
        }
        let (b, pad) = b.split_at(16);
        if pad.iter().enumerate().any(|(i, p)| *p != pad_byte(i)) {
            return Err("padding".into());
        }
        let (t, c) = b.split_at(8);
        self.total = u64::from_le_bytes(t.try_into().map_err(|_| "total")?);
        self.count = u64::from_le_bytes(c.try_into().map_err(|_| "count")?);
        Ok(())
    }
}

const SECRET: [u8; 32] = [42; 32];

/// A bootstrapped member of `ids` running on its own driver thread and
/// transport.
struct Member {
    handle: DriverHandle<Sum>,
    transport: Transport,
    thread: JoinHandle<()>,
}

async fn listeners(ids: &[NodeId]) -> (Vec<TcpListener>, BTreeMap<NodeId, SocketAddr>) {
    let mut listeners = Vec::new();
    let mut addrs = BTreeMap::new();
    for id in ids {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        addrs.insert(*id, l.local_addr().expect("addr"));
        listeners.push(l);
    }
    (listeners, addrs)
}

fn start_member(
    id: NodeId,
    ids: &[NodeId],
    listener: TcpListener,
    addrs: &BTreeMap<NodeId, SocketAddr>,
    pad: usize,
) -> Member {
    let dcfg = DriverConfig { tick_interval: Duration::from_millis(10), input_queue_len: 1024 };
    let store: Arc<dyn KvStore> = Arc::new(MemStore::new());
    let sum = || Sum { pad, ..Sum::default() };
    Node::bootstrap(store.clone(), b"raft/", ids, sum()).expect("bootstrap");
    let mut cfg = Config::new(id);
    cfg.checkpoint_interval_entries = 16;
    let node = Node::open(cfg, store, sum()).expect("open");
    let (handle, inbox) = RaftDriver::channel::<Sum>(&dcfg);
    let tcfg = TransportConfig::new(id, SECRET, addrs.clone());
    let transport = Transport::start(tcfg, listener, Arc::new(handle.clone())).expect("transport");
    let t = transport.clone();
    let sink = Box::new(move |ob| {
        let _ = t.send(ob);
    });
    let thread = inbox.spawn(node, sink).expect("spawn");
    Member { handle, transport, thread }
}

async fn wait_for_one_leader(handles: &[DriverHandle<Sum>]) -> NodeId {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut leaders = Vec::new();
        for h in handles {
            let st = h.status().await.expect("status");
            if st.role == Role::Leader {
                leaders.push(st.id);
            }
        }
        if leaders.len() == 1 {
            return leaders[0];
        }
        assert!(tokio::time::Instant::now() < deadline, "no leader elected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `rounds` proposals at every handle, each applied (retried with the same
/// id while the outcome is unknown); returns the sum they add.
async fn propose_rounds(handles: &[DriverHandle<Sum>], rounds: u8) -> u64 {
    let mut expected = 0u64;
    for round in 0..rounds {
        for h in handles {
            let id = h.next_request_id().await.expect("request id");
            let payload = vec![round, 1];
            expected += u64::from(round) + 1;
            let mut outcome = h.propose(id, payload.clone()).await.expect("propose");
            // A leader change makes the outcome unknown: retry, same id.
            while matches!(outcome, ProposalOutcome::OutcomeUnknown(_)) {
                tokio::time::sleep(Duration::from_millis(50)).await;
                outcome = h.propose(id, payload.clone()).await.expect("propose again");
            }
            assert!(matches!(outcome, ProposalOutcome::Applied { .. }), "{outcome:?}");
        }
    }
    expected
}

fn stop(members: Vec<Member>) {
    for m in &members {
        m.handle.stop();
        m.transport.shutdown();
    }
    for m in members {
        m.thread.join().expect("driver thread");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_drivers_elect_replicate_and_read() {
    let ids: Vec<NodeId> = (1..=3).map(NodeId).collect();
    let (listeners, addrs) = listeners(&ids).await;
    let members: Vec<Member> =
        ids.iter().zip(listeners).map(|(id, l)| start_member(*id, &ids, l, &addrs, 0)).collect();
    let handles: Vec<DriverHandle<Sum>> = members.iter().map(|m| m.handle.clone()).collect();

    // A leader is elected.
    let leader = wait_for_one_leader(&handles).await;

    // Every node proposes; followers forward to the leader.
    let expected = propose_rounds(&handles, 20).await;

    // Linearizable reads see every acknowledged proposal, on every node.
    for h in &handles {
        let (total, count) = h.read(|s: &Sum| (s.total, s.count)).await.expect("read");
        assert_eq!((total, count), (expected, 60), "leader was {leader}");
    }
    let st = handles[0].status().await.expect("status");
    assert!(st.checkpoint_index > LogIndex(0), "the log was never compacted: {st:?}");

    // A peer without the secret gets nowhere.
    let intruder_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mut tcfg = TransportConfig::new(NodeId(9), [0; 32], addrs.clone());
    tcfg.peers.insert(NodeId(9), intruder_listener.local_addr().expect("addr"));
    struct Nothing;
    impl consensus::TransportEvents for Nothing {
        fn received(&self, _: NodeId, _: consensus::PeerMessage) {}
        fn unreachable(&self, _: NodeId) {}
        fn checkpoint_sent(&self, _: NodeId, _: bool) {}
    }
    let intruder = Transport::start(tcfg, intruder_listener, Arc::new(Nothing)).expect("start");
    let forged = consensus::Outbound {
        to: NodeId(1),
        message: consensus::PeerMessage::Forward {
            request_id: consensus::RequestId { node: NodeId(9), seq: 1 },
            payload: vec![200],
        },
    };
    let _ = intruder.send(forged);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (total, _) = handles[1].read(|s: &Sum| (s.total, s.count)).await.expect("read");
    assert_eq!(total, expected, "an unauthenticated peer's proposal was applied");
    intruder.shutdown();
    stop(members);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_node_catches_up_through_a_checkpoint_in_pieces() {
    // 6 MiB of checkpoint: more than a frame (4 MiB), so it must go in
    // pieces (1 MiB).
    let pad = 6 << 20;
    let ids: Vec<NodeId> = (1..=3).map(NodeId).collect();
    let (mut listeners, addrs) = listeners(&ids).await;
    let late_listener = listeners.pop().expect("node 3");
    let mut members: Vec<Member> = ids[..2]
        .iter()
        .zip(listeners)
        .map(|(id, l)| start_member(*id, &ids, l, &addrs, pad))
        .collect();
    let handles: Vec<DriverHandle<Sum>> = members.iter().map(|m| m.handle.clone()).collect();
    wait_for_one_leader(&handles).await;
    let expected = propose_rounds(&handles, 20).await;
    for h in &handles {
        let st = h.status().await.expect("status");
        assert!(st.checkpoint_index > LogIndex(2), "not compacted: {st:?}");
    }

    // Node 3 only has the bootstrap checkpoint; the log it needs is gone.
    members.push(start_member(ids[2], &ids, late_listener, &addrs, pad));
    let late = members[2].handle.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(read) = late.read(|s: &Sum| (s.total, s.count)).await {
            if read == (expected, 40) {
                break;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "node 3 never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let st = late.status().await.expect("status");
    assert!(st.checkpoint_index > LogIndex(2), "caught up without a checkpoint: {st:?}");
    stop(members);
}
