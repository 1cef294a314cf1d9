//! How many password hashes per second this machine computes with the
//! configured parameters, on N threads: the ceiling for logins per second.
//!
//! `cargo run --release -p contrib-auth --example hash_rate -- [threads] [seconds]`

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let settings = auth::Settings::from_env().expect("settings");
    let hasher = auth::password::Hasher::from_settings(&settings).expect("valid argon2 parameters");
    let hash = hasher.make("benchmark password");
    let done = AtomicU64::new(0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while Instant::now() < deadline {
                    assert!(hasher.check("benchmark password", &hash).is_match());
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    let (m, t, p) = hasher.params();
    println!("hashes_per_second={rate:.1} threads={threads} m={m} t={t} p={p}");
}
