//! Measures what a durable single-key write costs: `apply` + `flush`.
//! `cargo run --release -p store --example flush_cost -- DIR [N]`
use std::time::Instant;
use store::{KvStore, SledStore, WriteBatch};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: flush_cost DIR [N]")?;
    let n: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let s = SledStore::open(&dir)?;
    let t = Instant::now();
    for i in 0..n {
        let mut b = WriteBatch::new();
        b.put(format!("key{i}").into_bytes(), vec![7u8; 150]);
        s.apply(b)?;
        s.flush()?;
    }
    let per = t.elapsed().as_secs_f64() / n as f64;
    println!("{n} durable writes: {:.0} µs each ({:.0}/s)", per * 1e6, 1.0 / per);
    Ok(())
}
