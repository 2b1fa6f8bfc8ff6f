// SPDX-License-Identifier: GPL-2.0

//! `wasm-vmfuzz`: several concurrent clients send random and mutated modules and protocol
//! messages to the kernel's WebAssembly runtime, then one more checks that it still answers.
//! See the library's documentation for what a client does.
//!
//! Exit status: 0 when the driver answered everything as a correct driver may and still
//! answers VERSION afterwards; 1 otherwise; 2 on a usage error.

use std::{
    path::PathBuf,
    process::ExitCode,
    sync::{atomic::AtomicU64, Mutex},
    time::{Duration, Instant},
};

use wasm_vmfuzz::{
    corpus,
    worker::{Options, Stats, Worker},
};
use wasmctl::{
    client::Client,
    error::Error,
    local::Local,
    transport::{Kernel, Transport},
};

const USAGE: &str = "\
usage: wasm-vmfuzz [--seed N] [--rounds N] [--clients N] [--corpus DIR]...
                   [--max-fuel N] [--max-pages N] [--timeout-ms N] [--name PREFIX]
                   [--faults] [--local]

  --seed N        the run's seed (default 1); client i uses seed N * 1000 + i
  --rounds N      rounds in all, shared among the clients (default 1000)
  --clients N     concurrent clients, each on its own sockets (default 4)
  --corpus DIR    also start from the .wat and .wasm files in DIR
  --max-fuel N    most fuel per invocation (default 100000)
  --max-pages N   most memory pages per instance (default 16)
  --timeout-ms N  how long to wait for a reply (default 10000)
  --name PREFIX   the prefix of the module names (default fuzz)
  --faults        allocations fail on purpose (fault injection): lost replies and
                  OUT_OF_MEMORY or INTERNAL statuses are not bugs
  --local         against wasmctl --local's in-process handler, not the kernel";

struct Args {
    seed: u64,
    rounds: u64,
    clients: u64,
    corpus: Vec<PathBuf>,
    options: Options,
    timeout: Duration,
    local: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        seed: 1,
        rounds: 1000,
        clients: 4,
        corpus: Vec::new(),
        options: Options::default(),
        timeout: Duration::from_secs(10),
        local: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--seed" => args.seed = number("--seed")?,
            "--rounds" => args.rounds = number("--rounds")?,
            "--clients" => args.clients = number("--clients")?.max(1),
            "--max-fuel" => args.options.max_fuel = number("--max-fuel")?.max(1),
            "--max-pages" => {
                args.options.max_pages = u32::try_from(number("--max-pages")?.max(1))
                    .map_err(|_| "--max-pages is too large".to_string())?
            }
            "--timeout-ms" => args.timeout = Duration::from_millis(number("--timeout-ms")?),
            "--corpus" => args
                .corpus
                .push(it.next().ok_or("--corpus needs a directory")?.into()),
            "--faults" => args.options.faults = true,
            "--name" => args.options.name = it.next().ok_or("--name needs a prefix")?,
            "--local" => args.local = true,
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown argument '{arg}'")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("wasm-vmfuzz: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut seeds = corpus::builtin();
    for dir in &args.corpus {
        match corpus::from_dir(dir) {
            Ok(more) => seeds.extend(more),
            Err(e) => {
                eprintln!("wasm-vmfuzz: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let timeout = args.timeout;
    let local = args.local;
    let connect = move || -> Result<Box<dyn Transport>, Error> {
        if local {
            Ok(Box::new(Local::new()))
        } else {
            Ok(Box::new(Kernel::open(timeout)?))
        }
    };
    let recent = AtomicU64::new(0);
    let total = Mutex::new(Stats::default());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for i in 0..args.clients {
            let rounds = args.rounds / args.clients + u64::from(i < args.rounds % args.clients);
            let (seeds, connect, recent, total) = (&seeds, &connect, &recent, &total);
            let seed = args.seed.wrapping_mul(1000).wrapping_add(i);
            let options = args.options.clone();
            scope.spawn(move || {
                let stats = match Worker::new(seed, seeds, connect, recent, options) {
                    Ok(mut worker) => {
                        worker.run(rounds);
                        worker.stats
                    }
                    Err(e) => Stats {
                        problem_count: 1,
                        problems: vec![format!("client {i}: cannot connect: {e:?}")],
                        ..Stats::default()
                    },
                };
                if let Ok(mut total) = total.lock() {
                    total.merge(&stats);
                }
            });
        }
    });
    let stats = total.into_inner().unwrap_or_default();
    println!(
        "wasm-vmfuzz: seed {}, {} clients, {:.1} s: {}",
        args.seed,
        args.clients,
        started.elapsed().as_secs_f64(),
        stats.summary()
    );
    for p in &stats.problems {
        println!("wasm-vmfuzz: problem: {p}");
    }
    // Still serving: a fresh client gets VERSION (under fault injection, within a few tries:
    // a reply may be lost).
    let tries = if args.options.faults { 20 } else { 1 };
    let mut version = connect().and_then(|t| Client::new(t, false).version());
    for _ in 1..tries {
        if version.is_ok() {
            break;
        }
        version = connect().and_then(|t| Client::new(t, false).version());
    }
    match version {
        Ok(v) => println!(
            "wasm-vmfuzz: the driver still answers (version {}.{}.{})",
            v.driver[0], v.driver[1], v.driver[2]
        ),
        Err(e) => {
            println!("wasm-vmfuzz: the driver does not answer VERSION any more: {e:?}");
            return ExitCode::FAILURE;
        }
    }
    if stats.problem_count > 0 {
        println!(
            "wasm-vmfuzz: {} answers that show a bug (the first ones above)",
            stats.problem_count
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
