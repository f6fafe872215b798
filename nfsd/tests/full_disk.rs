//! A full disk is an error the client can act on, not a crash or lost data:
//! writes and creates answer NFS3ERR_NOSPC, data already written reads back
//! unchanged, and once space is freed the server works again.
//!
//! The data directory is put on a small tmpfs, which needs root (CI runs as
//! root); without it the test says so and does nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use nfs_proto::nfs3::*;

/// Unmounts the tmpfs when the test ends, however it ends.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "cairn-test",
                &at.display().to_string(),
            ])
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn full_disk_answers_nospc_and_loses_nothing() {
    let mut s = Server::start();
    assert!(s.stop(), "clean stop");
    let data = s.data_dir();
    std::fs::remove_dir_all(&data).expect("clear data dir");
    std::fs::create_dir_all(&data).expect("data dir");
    let Some(_fs) = Tmpfs::mount(&data, "24m") else {
        eprintln!("NOTICE: full_disk test skipped: cannot mount a tmpfs (needs root)");
        return;
    };
    // The flush failures of a full disk are logged at ERROR on purpose.
    s.allow_errors = true;
    s.start_again();
    let mut c = s.client();
    let root = c.mount("/");

    let keep = c.create_file(&root, b"keep", 0o644);
    let kept: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    c.write_ok(&keep, 0, &kept);

    let big = c.create_file(&root, b"big", 0o644);
    let block = vec![0x5au8; 1 << 20];
    let mut status = None;
    for i in 0..64u64 {
        match c.write(&big, i << 20, &block, StableHow::FileSync) {
            NfsRes::Ok(r) => assert_eq!(r.count as usize, block.len()),
            NfsRes::Err(st, _) => {
                status = Some(st);
                break;
            }
        }
    }
    let du = String::from_utf8_lossy(
        &Command::new("du").arg("-ak").arg(&data).output().expect("du").stdout,
    )
    .to_string();
    assert_eq!(status, Some(Nfsstat3::Nospc), "a full disk answers NOSPC; du:\n{du}");
    // Creating files on a full disk fails cleanly too, or succeeds while
    // metadata still fits; it never breaks the connection.
    for i in 0..50 {
        match c.create(
            &root,
            format!("small{i}").as_bytes(),
            CreateHow3::Guarded(Sattr3::default()),
        ) {
            NfsRes::Ok(_) => {}
            NfsRes::Err(st, _) => {
                assert!(
                    matches!(st, Nfsstat3::Nospc | Nfsstat3::Io),
                    "create on a full disk: {st:?}"
                );
                break;
            }
        }
    }
    assert_eq!(c.read_all(&keep), kept, "data written before the disk filled is intact");

    // Free space: the server works again, without a restart.
    let r = c.remove(&root, b"big");
    let du = String::from_utf8_lossy(
        &Command::new("du").arg("-ak").arg(&data).output().expect("du").stdout,
    )
    .to_string();
    assert!(matches!(r, NfsRes::Ok(_)), "remove on a full disk: {:?}\n{du}", r.status());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let again = c.create_file(&root, b"again", 0o644);
    c.write_ok(&again, 0, &block);
    assert_eq!(c.read_all(&again), block);
    assert_eq!(c.read_all(&keep), kept);
    let problems: Vec<String> =
        s.log_text().lines().filter(|l| l.contains("panicked")).map(str::to_string).collect();
    assert!(problems.is_empty(), "no panic: {problems:?}");
    assert!(s.stop(), "clean stop after a full disk; log:\n{}", s.log_text());
}
