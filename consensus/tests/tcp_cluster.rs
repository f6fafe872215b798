//! Three drivers over the real TCP transport on 127.0.0.1: they elect a
//! leader, replicate proposals made at every node (followers forward to the
//! leader), answer linearizable reads, and a peer without the cluster
//! secret is refused.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use consensus::{
    Config, DriverConfig, LogIndex, Node, NodeId, ProposalOutcome, RaftDriver, Role, StateMachine,
    Transport, TransportConfig,
};
use store::{KvStore, MemStore};
use tokio::net::TcpListener;

/// Sums the payload bytes it is given.
#[derive(Default)]
struct Sum {
    total: u64,
    count: u64,
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
        v
    }
    fn restore(&mut self, b: &[u8]) -> Result<(), String> {
        if b.len() != 16 {
            return Err("length".into());
        }
        let (t, c) = b.split_at(8);
        self.total = u64::from_le_bytes(t.try_into().map_err(|_| "total")?);
        self.count = u64::from_le_bytes(c.try_into().map_err(|_| "count")?);
        Ok(())
    }
}

const SECRET: [u8; 32] = [42; 32];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_drivers_elect_replicate_and_read() {
    let ids: Vec<NodeId> = (1..=3).map(NodeId).collect();
    let mut listeners = Vec::new();
    let mut addrs = BTreeMap::new();
    for id in &ids {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        addrs.insert(*id, l.local_addr().expect("addr"));
        listeners.push(l);
    }
    let dcfg = DriverConfig { tick_interval: Duration::from_millis(10), input_queue_len: 1024 };
    let mut handles = Vec::new();
    let mut transports = Vec::new();
    let mut threads = Vec::new();
    for (id, listener) in ids.iter().zip(listeners) {
        let store: Arc<dyn KvStore> = Arc::new(MemStore::new());
        Node::bootstrap(store.clone(), b"raft/", &ids, Sum::default()).expect("bootstrap");
        let mut cfg = Config::new(*id);
        cfg.checkpoint_interval_entries = 16;
        let node = Node::open(cfg, store, Sum::default()).expect("open");
        let (handle, inbox) = RaftDriver::channel::<Sum>(&dcfg);
        let tcfg = TransportConfig::new(*id, SECRET, addrs.clone());
        let transport =
            Transport::start(tcfg, listener, Arc::new(handle.clone())).expect("transport");
        let t = transport.clone();
        let sink = Box::new(move |ob| {
            let _ = t.send(ob);
        });
        threads.push(inbox.spawn(node, sink).expect("spawn"));
        handles.push(handle);
        transports.push(transport);
    }

    // A leader is elected.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let leader = loop {
        let mut leaders = Vec::new();
        for h in &handles {
            let st = h.status().await.expect("status");
            if st.role == Role::Leader {
                leaders.push(st.id);
            }
        }
        if leaders.len() == 1 {
            break leaders[0];
        }
        assert!(tokio::time::Instant::now() < deadline, "no leader elected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // Every node proposes; followers forward to the leader.
    let mut expected = 0u64;
    for round in 0..20u8 {
        for h in &handles {
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

    for (h, t) in handles.iter().zip(&transports) {
        h.stop();
        t.shutdown();
    }
    for th in threads {
        th.join().expect("driver thread");
    }
}
