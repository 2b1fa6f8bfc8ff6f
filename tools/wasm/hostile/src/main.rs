// SPDX-License-Identifier: GPL-2.0

//! `wasm-hostile DIR`: writes the hostile modules of [`wasm_hostile::all`] to `DIR`.
//!
//! `wasm-hostile udp-flood COUNT THREADS PORT`: sends COUNT UDP datagrams to
//! 127.0.0.1:PORT from THREADS threads, and prints how long that took: events for programs
//! attached to netfilter hooks, from every CPU at once.

use std::{env, fs, net::UdpSocket, path::PathBuf, process::ExitCode, time::Instant};

fn write_modules(dir: PathBuf) -> ExitCode {
    if let Err(e) = fs::create_dir_all(&dir) {
        eprintln!("wasm-hostile: {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    for (name, bytes) in wasm_hostile::all() {
        let path = dir.join(name);
        if let Err(e) = fs::write(&path, bytes) {
            eprintln!("wasm-hostile: {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

/// Sends `count` datagrams to 127.0.0.1:`port` from `threads` threads. A datagram a hook
/// drops is an error (`EPERM`) for the sender, which counts it and goes on.
fn udp_flood(count: u64, threads: u64, port: u16) -> ExitCode {
    let start = Instant::now();
    let per_thread = count / threads.max(1);
    let refused: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(move || {
                    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
                        return per_thread;
                    };
                    let mut refused = 0;
                    for i in 0..per_thread {
                        if socket
                            .send_to(&i.to_le_bytes(), ("127.0.0.1", port))
                            .is_err()
                        {
                            refused += 1;
                        }
                    }
                    refused
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let elapsed = start.elapsed();
    println!(
        "{} datagrams, {refused} refused, {} us, {} ns each",
        per_thread * threads.max(1),
        elapsed.as_micros(),
        elapsed.as_nanos() / u128::from((per_thread * threads.max(1)).max(1))
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, count, threads, port] if cmd == "udp-flood" => {
            match (count.parse(), threads.parse(), port.parse()) {
                (Ok(count), Ok(threads), Ok(port)) => udp_flood(count, threads, port),
                _ => {
                    eprintln!("usage: wasm-hostile udp-flood COUNT THREADS PORT");
                    ExitCode::from(2)
                }
            }
        }
        [dir] => write_modules(PathBuf::from(dir)),
        _ => {
            eprintln!("usage: wasm-hostile DIR | wasm-hostile udp-flood COUNT THREADS PORT");
            ExitCode::from(2)
        }
    }
}
