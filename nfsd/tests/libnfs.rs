//! A foreign client: Debian's libnfs-utils (`nfs-cp`, `nfs-cat`, `nfs-ls`)
//! against the real binary. Skipped with a notice when `nfs-ls` is missing.
//!
//! libnfs 4.0 splits a file URL into export = directory part, so a file
//! directly under an export named "/" cannot be addressed: this test
//! exports `/data`. libnfs 4.0 takes the NFS port as `nfsport=` (not
//! `port=`); without it, it asks the portmapper on port 111.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use rand::RngCore;

const EXPORTS: &str = r#"
[[export]]
path = "/"
clients = ["127.0.0.0/8"]
squash = "none"
insecure = true

[[export]]
path = "/data"
clients = ["127.0.0.0/8"]
squash = "none"
insecure = true
"#;

fn have_libnfs() -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("nfs-ls").is_file()))
        .unwrap_or(false);
    if !found {
        eprintln!(
            "NOTICE: nfs-ls not on PATH (apt-get install libnfs-utils); libnfs tests SKIPPED"
        );
    }
    found
}

fn run(cmd: &str, args: &[&str]) -> Output {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn url(s: &Server, path: &str) -> String {
    let p = s.addr().port();
    format!("nfs://127.0.0.1{path}?version=3&nfsport={p}&mountport={p}")
}

fn files_equal(a: &Path, b: &Path) -> bool {
    std::fs::read(a).expect("read a") == std::fs::read(b).expect("read b")
}

#[test]
fn libnfs_copy_list_cat() {
    if !have_libnfs() {
        return;
    }
    let s = Server::start_with(EXPORTS);
    let work = s.dir().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    let src = work.join("random.bin");
    let mut data = vec![0u8; 20 << 20];
    rand::thread_rng().fill_bytes(&mut data);
    std::fs::write(&src, &data).expect("write source");

    // Copy in, list, copy back, compare.
    run("nfs-cp", &[src.to_str().expect("utf8"), &url(&s, "/data/random.bin")]);
    let ls = run("nfs-ls", &[&url(&s, "/data/")]);
    let listing = String::from_utf8_lossy(&ls.stdout).into_owned();
    let line = listing
        .lines()
        .find(|l| l.ends_with("random.bin"))
        .unwrap_or_else(|| panic!("random.bin not listed:\n{listing}"));
    assert!(
        line.split_whitespace().any(|w| w == (20u64 << 20).to_string()),
        "size 20971520 not in listing line: {line}"
    );
    assert!(line.starts_with('-'), "a regular file: {line}");

    let back = work.join("back.bin");
    run("nfs-cp", &[&url(&s, "/data/random.bin"), back.to_str().expect("utf8")]);
    assert!(files_equal(&src, &back), "copied back file differs");

    // The wire client sees the same bytes.
    let mut c = s.client();
    let d = c.mount("/data");
    let (fh, attr) = c.lookup_ok(&d, b"random.bin");
    assert_eq!(attr.size, 20 << 20);
    let got = c.read_all(&fh);
    assert!(got == data, "wire read differs from what nfs-cp wrote");

    // nfs-cat of a small file written through the wire client.
    let small = c.create_file(&d, b"hello.txt", 0o644);
    c.write_ok(&small, 0, b"hello from cairn\n");
    let cat = run("nfs-cat", &[&url(&s, "/data/hello.txt")]);
    assert_eq!(cat.stdout, b"hello from cairn\n");

    // A directory made by the wire client shows up in nfs-ls as a directory.
    c.mkdir_ok(&d, b"subdir", 0o755);
    let ls = run("nfs-ls", &[&url(&s, "/data/")]);
    let listing = String::from_utf8_lossy(&ls.stdout).into_owned();
    assert!(
        listing.lines().any(|l| l.starts_with('d') && l.ends_with("subdir")),
        "subdir not listed as a directory:\n{listing}"
    );
}
