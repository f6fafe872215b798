//! `cargo xtask <command>`: Cairn's project tasks.
//!
//! - `test [--no-vm]`: the project's one test command (setup, check-deps, fmt, clippy, cargo test,
//!   the kernel-client suites in a guest against one server and a 3-node cluster, pynfs when
//!   present).
//! - `check-deps`: the crate layering rules of DESIGN.md §1.
//! - `setup`: install the test tools when missing (root) and build the guest image.
//! - `bench [ARGS]`: run `nfsd/bench/run`.

mod deps;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask <command>
  test [--no-vm]   setup, check-deps, fmt, clippy, cargo test, kernel suites (one
                   server, then a 3-node cluster), pynfs when PYNFS_DIR is set
                   --no-vm: skip the guest image and the kernel suite (quick local run)
  check-deps       enforce the crate layering of DESIGN.md §1
  setup            install missing test tools (needs root) and build the guest image
  bench [ARGS]     run nfsd/bench/run";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let r = match args.first().map(String::as_str) {
        Some("check-deps") => check_deps(&root),
        Some("setup") => setup(&root, true),
        Some("test") => test(&root, &args[1..]),
        Some("bench") => bench(&root, &args[1..]),
        Some("-h") | Some("--help") | Some("help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    // xtask/ lives directly under the workspace root
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Runs a command in the workspace root, inheriting stdio; Err names it on failure.
fn run(root: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("xtask: $ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

// ---- check-deps ------------------------------------------------------------------------

fn check_deps(root: &Path) -> Result<(), String> {
    let out = Command::new(cargo())
        .args(["metadata", "--format-version", "1"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cargo metadata: bad JSON: {e}"))?;
    let graph = deps::Graph::from_metadata(&meta)?;
    let errors = deps::check(&graph);
    if errors.is_empty() {
        println!(
            "check-deps: ok ({} workspace crates: {})",
            graph.members.len(),
            graph.members.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        Ok(())
    } else {
        for e in &errors {
            eprintln!("check-deps: {e}");
        }
        Err(format!("check-deps: {} violation(s) of the crate layering", errors.len()))
    }
}

// ---- setup -----------------------------------------------------------------------------

/// Tools the tests need: (command, Debian package, needed only for the guest).
const TOOLS: &[(&str, &str, bool)] = &[
    ("qemu-system-x86_64", "qemu-system-x86", true),
    ("debootstrap", "debootstrap", true),
    ("socat", "socat", true),
    ("mkfs.ext4", "e2fsprogs", true),
    ("cpio", "cpio", true),
    ("nfs-ls", "libnfs-utils", false),
    ("python3", "python3", false),
];

fn have(cmd: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    // mkfs.ext4 lives in /sbin, which a non-root PATH may lack
    dirs.extend(["/usr/sbin", "/sbin"].map(PathBuf::from));
    dirs.iter().any(|d| d.join(cmd).is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn vm_cache() -> PathBuf {
    if let Some(c) = std::env::var_os("CAIRN_VM_CACHE") {
        return PathBuf::from(c);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache/cairn/vm")
}

fn setup(root: &Path, with_image: bool) -> Result<(), String> {
    let install = root.join("nfsd/tests/vm/install-deps");
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(c, _, vm)| (with_image || !vm) && !have(c))
        .map(|(_, p, _)| *p)
        .collect();
    if missing.is_empty() {
        println!("setup: test tools present");
    } else if is_root() {
        println!("setup: installing {}", missing.join(" "));
        run(root, &install.to_string_lossy(), &[])?;
    } else {
        return Err(format!(
            "setup: missing {}; install them as root with:\n    sudo {}",
            missing.join(" "),
            install.display()
        ));
    }
    if !with_image {
        return Ok(());
    }
    let build = root.join("nfsd/tests/vm/build-image");
    let cache = vm_cache();
    let present = ["vmlinux", "initrd.cpio", "rootfs.img"].iter().all(|f| cache.join(f).is_file());
    if is_root() {
        // a no-op when the image is up to date (build-image compares a hash of its inputs)
        run(root, &build.to_string_lossy(), &[])
    } else if present {
        println!("setup: guest image in {} (not root: not checked for updates)", cache.display());
        Ok(())
    } else {
        Err(format!(
            "setup: no guest image in {}; build it as root with:\n    sudo {}",
            cache.display(),
            build.display()
        ))
    }
}

// ---- test ------------------------------------------------------------------------------

#[derive(PartialEq)]
enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

fn test(root: &Path, args: &[String]) -> Result<(), String> {
    let mut vm = true;
    for a in args {
        match a.as_str() {
            "--no-vm" => vm = false,
            other => return Err(format!("test: unknown option {other}\n{USAGE}")),
        }
    }
    let mut results: Vec<(&str, Outcome, f64)> = Vec::new();
    let mut stage = |name: &'static str, f: &mut dyn FnMut() -> Outcome| {
        eprintln!("\n===== xtask test: {name} =====");
        let t = Instant::now();
        let o = f();
        results.push((name, o, t.elapsed().as_secs_f64()));
    };
    let c = cargo();
    let to = |r: Result<(), String>| match r {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e),
    };

    let mut setup_ok = true;
    stage("setup", &mut || {
        let r = setup(root, vm);
        setup_ok = r.is_ok();
        to(r)
    });
    stage("check-deps", &mut || to(check_deps(root)));
    stage("fmt", &mut || to(run(root, &c, &["fmt", "--all", "--check"])));
    stage("clippy", &mut || {
        to(run(root, &c, &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
    });
    stage("cargo test", &mut || to(run(root, &c, &["test", "--workspace"])));
    let kernel_run = root.join("nfsd/tests/kernel/run");
    let kernel = |args: &[&str]| {
        if !vm {
            Outcome::Skip("--no-vm".into())
        } else if !setup_ok {
            Outcome::Fail("setup failed: no guest".into())
        } else {
            to(run(root, &kernel_run.to_string_lossy(), args))
        }
    };
    // NFSv3 with every check; NFSv4.0 and 4.1 with every check but a smaller tree to copy
    // and a smaller big directory; a bare mount (the client negotiates 4.2) with a subset:
    // the whole suite takes minutes per version under the emulator
    stage("kernel clients", &mut || {
        kernel(&[
            "--vers",
            "3 4.0 4.1 bare",
            "-e",
            "4.0:BIGDIR_N=5000",
            "-e",
            "4.0:TREE_SRC=/usr/share/zoneinfo",
            "-e",
            "4.1:BIGDIR_N=5000",
            "-e",
            "4.1:TREE_SRC=/usr/share/zoneinfo",
            "-e",
            "bare:ONLY=mount tree_copy attrs perm squash open_unlink flock fcntl_locks lock_killed dots cleanup",
        ])
    });
    // three nodes, suite.sh through a follower (a subset without the big copies: every
    // namespace change is forwarded to the leader; cluster.sh copies trees across nodes),
    // then cluster.sh with one mount per node and a kill -9 of the leader; with the
    // binary the previous stage built
    stage("kernel cluster", &mut || {
        kernel(&[
            "--no-build",
            "--cluster",
            "--vers",
            "3 4.1",
            "-e",
            "ONLY=mount hardlinks symlinks rename attrs perm squash open_unlink flock fcntl_locks cleanup",
        ])
    });

    stage("pynfs", &mut || {
        let dir = std::env::var("PYNFS_DIR").unwrap_or_default();
        if dir.is_empty() || !Path::new(&dir).join("nfs4.0/testserver.py").is_file() {
            println!(
                "NOTICE: PYNFS_DIR is not set to a built pynfs: the NFSv4 conformance suites are \
                 NOT run (see pynfs-tests/README.md)"
            );
            Outcome::Skip("pynfs not present (PYNFS_DIR)".into())
        } else {
            to(run(root, &root.join("pynfs-tests/run").to_string_lossy(), &[]))
        }
    });

    println!("\n===== xtask test: summary =====");
    let mut failed = 0;
    for (name, o, secs) in &results {
        let (tag, note) = match o {
            Outcome::Pass => ("PASS", String::new()),
            Outcome::Skip(s) => ("SKIP", format!(": {s}")),
            Outcome::Fail(e) => {
                failed += 1;
                ("FAIL", format!(": {e}"))
            }
        };
        println!("{tag:4}  {name:<13} {secs:7.1}s{note}");
    }
    if failed > 0 {
        Err(format!("test: {failed} stage(s) failed"))
    } else {
        println!("all stages passed");
        Ok(())
    }
}

// ---- bench -----------------------------------------------------------------------------

fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let script = root.join("nfsd/bench/run");
    if !script.is_file() {
        return Err(format!("bench: {} does not exist (yet)", script.display()));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    run(root, &script.to_string_lossy(), &a)
}
