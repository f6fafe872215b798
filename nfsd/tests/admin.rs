//! The admin API and `/metrics` of a real `cairn serve`, and the CLI that
//! reads them.
//!
//! Goal: the routes answer with the documented JSON; every route but
//! `/healthz` and `/metrics` needs the bearer token (RFC 6750 §2.1) and a
//! wrong or missing one gets 401 with a JSON error; the OpenAPI document
//! names every route; NFS calls made on the wire show up in the RPC
//! counters; `cairn cluster status` and `cairn metrics` work as processes.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use nfsd::admin::auth::Token;
use nfsd::admin::client::{self, Endpoint, Response};
use serde_json::Value;

fn endpoint(s: &Server) -> Endpoint {
    Endpoint::of_listen(s.admin_addr())
}

fn get(s: &Server, path: &str, token: Option<&Token>) -> Response {
    client::get(&endpoint(s), path, token).unwrap_or_else(|e| panic!("GET {path}: {e:#}"))
}

fn json(r: &Response) -> Value {
    assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.text());
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.text()))
}

/// A raw request with any method; returns (status, body).
fn request(addr: SocketAddr, method: &str, path: &str, token: &Token) -> (u16, Value) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        token.expose()
    )
    .expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw);
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status line");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The value of one sample line of the Prometheus text; 0 when absent
/// (a counter not yet created).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

fn cairn(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.args(args)
        .env_remove("CAIRN_ADMIN_TOKEN")
        .env_remove("CAIRN_ADMIN_URL")
        .env_remove("CAIRN_CONFIG")
        .env_remove("CAIRN_DATA_DIR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run cairn")
}

fn token(s: &Server) -> Token {
    Token::read(&s.data_dir().join("admin-token")).expect("the server created its token")
}

#[test]
fn admin_routes_need_the_token_and_answer_json() {
    let s = Server::start();
    let t = token(&s);
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(s.data_dir().join("admin-token")).expect("token file");
        assert_eq!(m.permissions().mode() & 0o777, 0o600, "token file is private");
    }
    assert!(!s.log_text().contains(t.expose()), "the token is never logged or printed");

    let r = get(&s, "/healthz", None);
    assert_eq!(r.status, 200);
    assert_eq!(json(&r)["status"], "ok");

    // RFC 6750 §3: 401 with a Bearer challenge, without a token and with a wrong one.
    let r = get(&s, "/v1/cluster", None);
    assert_eq!(r.status, 401);
    assert_eq!(json(&r)["code"], "unauthorized");
    assert!(r.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")));
    let wrong = Token::parse(&"0".repeat(64)).expect("token");
    let r = get(&s, "/v1/cluster", Some(&wrong));
    assert_eq!(r.status, 401);
    assert_eq!(json(&r)["code"], "invalid_token");
    // Unknown routes do not reveal themselves without the token.
    assert_eq!(get(&s, "/v1/nothing-here", None).status, 401);

    let r = get(&s, "/v1/cluster", Some(&t));
    assert_eq!(r.status, 200, "{}", r.text());
    let c = json(&r);
    let (_, cluster_id) = identity(&s.data_dir());
    assert_eq!(c["cluster_id"], format!("{cluster_id:016x}"));
    assert_eq!(c["role"], "standalone");
    assert_eq!(c["health"], "ok");
    assert_eq!(c["version"], env!("CARGO_PKG_VERSION"));
    for raft_field in ["node_id", "leader", "term", "commit_index", "applied_index", "map_version"]
    {
        assert!(c[raft_field].is_null(), "{raft_field} is null on a standalone node");
        assert!(c.as_object().expect("object").contains_key(raft_field), "{raft_field} present");
    }
    let members = c["members"].as_array().expect("members");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["this_node"], true);
    assert_eq!(members[0]["role"], "standalone");
    assert_eq!(members[0]["nfs_address"], s.addr().to_string());
    assert_eq!(members[0]["admin_address"], s.admin_addr().to_string());

    let r = get(&s, "/v1/exports", Some(&t));
    assert_eq!(r.status, 200);
    let e = json(&r);
    let exports = e["exports"].as_array().expect("exports");
    let paths: Vec<&str> = exports.iter().map(|x| x["path"].as_str().expect("path")).collect();
    assert_eq!(paths, ["/", "/squash", "/ro", "/secure", "/only10"], "in handle order");
    assert_eq!(exports[0]["clients"], serde_json::json!(["127.0.0.0/8"]));
    assert_eq!(exports[0]["squash"], "none");
    assert_eq!(exports[2]["access"], "ro");
    assert_eq!(exports[1]["squash"], "root");
    assert!(exports[0]["replicas"].is_null(), "a standalone node replicates nothing");

    let r = get(&s, "/v1/openapi.json", Some(&t));
    assert_eq!(r.status, 200);
    let doc = json(&r);
    for route in nfsd::admin::ROUTES {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(op.is_object(), "{} {} is documented", route.method, route.path);
        if route.method == "GET" {
            let r = get(&s, route.path, Some(&t));
            assert_eq!(r.status, 200, "GET {} with the token: {}", route.path, r.text());
        } else {
            // Membership changes: a standalone node has none (400), and
            // they need the token like every other route.
            let path = route.path.replace("{id}", "2");
            let (status, body) = request(s.admin_addr(), route.method, &path, &t);
            assert_eq!(status, 400, "{} {path} on a standalone node: {body}", route.method);
            assert_eq!(body["code"], "bad_request");
            let wrong = Token::parse(&"0".repeat(64)).expect("token");
            let (status, _) = request(s.admin_addr(), route.method, &path, &wrong);
            assert_eq!(status, 401, "{} {path} without the token", route.method);
        }
    }

    let r = get(&s, "/v1/nothing-here", Some(&t));
    assert_eq!(r.status, 404);
    assert_eq!(json(&r)["code"], "not_found");
    let (status, body) = request(s.admin_addr(), "POST", "/v1/cluster", &t);
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method_not_allowed");
}

#[test]
fn metrics_count_nfs_calls_by_procedure() {
    let s = Server::start();
    let scrape = || {
        let r = get(&s, "/metrics", None);
        assert_eq!(r.status, 200, "/metrics needs no token by default");
        assert!(r
            .header("content-type")
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
        r.text()
    };
    let series = |p: &str| {
        format!("cairn_rpc_requests_total{{program=\"nfs\",version=\"3\",procedure=\"{p}\"}}")
    };
    let before = scrape();
    assert!(before
        .contains(&format!("cairn_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))));
    assert!(before.contains("\ncairn_cluster_nodes 1\n"), "{before}");
    assert!(!before.contains("cairn_raft_"), "a standalone node exports no Raft series");
    assert!(sample(&before, "cairn_storage_capacity_bytes") > 0.0);

    let mut c = s.client();
    let root = c.mount("/");
    for _ in 0..3 {
        c.null().expect("NULL");
    }
    c.attr(&root);
    c.attr(&root);
    let f = c.create_file(&root, b"counted", 0o644);
    c.write_ok(&f, 0, &[7u8; 1000]);
    assert_eq!(c.read_all(&f).len(), 1000);
    match c.lookup(&root, b"absent") {
        nfs_proto::nfs3::NfsRes::Err(..) => {}
        nfs_proto::nfs3::NfsRes::Ok(_) => panic!("LOOKUP of a missing name succeeded"),
    }
    // Arguments that do not decode: GARBAGE_ARGS (RFC 5531 §9).
    let r = c
        .call_raw(nfs_proto::nfs3::PROGRAM, nfs_proto::nfs3::VERSION, 1, &[0, 0, 0, 99])
        .expect("call");
    assert!(!matches!(r.header, nfs_proto::rpc::ReplyHeader::Success { .. }));

    let after = scrape();
    let delta = |name: &str| sample(&after, name) - sample(&before, name);
    assert_eq!(delta(&series("NULL")), 3.0, "{after}");
    assert_eq!(delta(&series("GETATTR")), 3.0, "two GETATTRs and one that did not decode");
    assert_eq!(
        delta("cairn_rpc_requests_total{program=\"mount\",version=\"3\",procedure=\"MNT\"}"),
        1.0
    );
    assert_eq!(
        delta("cairn_rpc_request_duration_seconds_count{program=\"nfs\",version=\"3\",procedure=\"NULL\"}"),
        3.0
    );
    assert_eq!(
        delta("cairn_rpc_rejected_total{program=\"nfs\",version=\"3\",procedure=\"GETATTR\",reason=\"garbage_args\"}"),
        1.0
    );
    assert_eq!(
        delta("cairn_nfs_errors_total{program=\"nfs\",version=\"3\",procedure=\"LOOKUP\",status=\"NFS3ERR_NOENT\"}"),
        1.0
    );
    assert_eq!(delta("cairn_nfs_write_bytes_total"), 1000.0);
    assert_eq!(delta("cairn_nfs_read_bytes_total"), 1000.0);
    assert!(delta("cairn_rpc_received_bytes_total") > 1000.0);
    assert!(sample(&after, "cairn_connections_open") >= 1.0, "this client's connection");
}

#[test]
fn cli_prints_cluster_status_and_metrics() {
    let s = Server::start();
    let (_, cluster_id) = identity(&s.data_dir());
    let id = format!("{cluster_id:016x}");
    let config = s.config_path().to_str().expect("utf-8 path").to_string();

    // Address and token file both from the server's configuration.
    let out = cairn(&["cluster", "status", "--config", &config], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&id), "{stdout}");
    assert!(stdout.contains("standalone") && stdout.contains(&s.addr().to_string()), "{stdout}");

    // Explicit URL and token file; --json prints the document.
    let url = endpoint(&s).url();
    let token_file = s.data_dir().join("admin-token");
    let out = cairn(
        &[
            "cluster",
            "status",
            "--admin",
            &url,
            "--token-file",
            token_file.to_str().expect("path"),
            "--json",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(v["cluster_id"], id);

    // The token from the environment; a wrong one is refused with a reason.
    let t = token(&s);
    let out = cairn(&["cluster", "status", "--admin", &url], &[("CAIRN_ADMIN_TOKEN", t.expose())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        cairn(&["cluster", "status", "--admin", &url], &[("CAIRN_ADMIN_TOKEN", &"f".repeat(64))]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused the admin token from $CAIRN_ADMIN_TOKEN"), "{stderr}");

    let out = cairn(&["metrics", "--config", &config], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("# TYPE cairn_rpc_requests_total counter"), "{stdout}");
}
