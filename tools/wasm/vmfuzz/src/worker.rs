// SPDX-License-Identifier: GPL-2.0

//! One fuzzing client: rounds of module uploads (random, mutated or intact seeds), each
//! module made transient, instantiated with small fuel and memory limits, its functions
//! invoked with random arguments, at times linked with another module in its link group, then
//! unloaded or abandoned to the driver's cleanup; bursts of garbage messages on a second
//! socket; reconnections that close the socket with transient handles still open.

use std::sync::atomic::{AtomicU64, Ordering};

use wasm_protocol::{ExportKind, Reply, ReplyBody, Status, Value};
use wasmctl::{client::Client, error::Error, transport::Transport};

use crate::{
    corpus::{self, Seed},
    garbage, mutate,
    rng::Rng,
};

/// Opens a new connection to the driver.
pub type Connect<'a> = dyn Fn() -> Result<Box<dyn Transport>, Error> + Sync + 'a;

/// The largest module the fuzzer sends: enough for every seed, small enough that thousands
/// of uploads stay quick.
pub const MAX_MODULE_LEN: usize = 64 * 1024;

/// What a worker does, and how strict it is about the answers.
#[derive(Clone, Debug)]
pub struct Options {
    /// The prefix of the names of the modules it loads.
    pub name: String,
    /// The most fuel an instance gets per invocation (at least 1).
    pub max_fuel: u64,
    /// The most memory pages an instance may have (at least 1).
    pub max_pages: u32,
    /// Allocations may fail (fault injection): replies may be lost and the driver may fail
    /// with INTERNAL or OUT_OF_MEMORY without it being a bug.
    pub faults: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            name: "fuzz".to_string(),
            max_fuel: 100_000,
            max_pages: 16,
            faults: false,
        }
    }
}

/// What a worker saw.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Rounds run.
    pub rounds: u64,
    /// Modules sent.
    pub loads: u64,
    /// Modules the driver accepted.
    pub valid: u64,
    /// Instances made.
    pub instances: u64,
    /// Instances made in another instance's link group.
    pub linked: u64,
    /// Invocations sent.
    pub invokes: u64,
    /// Invocations that returned.
    pub returned: u64,
    /// Invocations that trapped (out of fuel included).
    pub traps: u64,
    /// Garbage messages sent.
    pub garbage: u64,
    /// Reconnections (sockets closed with transient handles open).
    pub reconnects: u64,
    /// Modules left to the driver's cleanup of transient handles.
    pub abandoned: u64,
    /// Requests without a reply.
    pub timeouts: u64,
    /// INTERNAL statuses from the driver.
    pub internal: u64,
    /// OUT_OF_MEMORY statuses from the driver.
    pub out_of_memory: u64,
    /// BUSY statuses from the driver.
    pub busy: u64,
    /// Descriptions of the answers that show a bug (at most a few are kept).
    pub problems: Vec<String>,
    /// How many answers showed a bug.
    pub problem_count: u64,
}

impl Stats {
    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &Stats) {
        self.rounds += other.rounds;
        self.loads += other.loads;
        self.valid += other.valid;
        self.instances += other.instances;
        self.linked += other.linked;
        self.invokes += other.invokes;
        self.returned += other.returned;
        self.traps += other.traps;
        self.garbage += other.garbage;
        self.reconnects += other.reconnects;
        self.abandoned += other.abandoned;
        self.timeouts += other.timeouts;
        self.internal += other.internal;
        self.out_of_memory += other.out_of_memory;
        self.busy += other.busy;
        self.problem_count += other.problem_count;
        for p in &other.problems {
            if self.problems.len() < 20 {
                self.problems.push(p.clone());
            }
        }
    }

    /// One line of counts.
    pub fn summary(&self) -> String {
        format!(
            "{} rounds: {} modules ({} valid), {} instances ({} linked), {} invocations ({} \
             returned, {} trapped), {} garbage messages, {} reconnects, {} abandoned; {} busy, \
             {} out of memory, {} internal, {} without reply",
            self.rounds,
            self.loads,
            self.valid,
            self.instances,
            self.linked,
            self.invokes,
            self.returned,
            self.traps,
            self.garbage,
            self.reconnects,
            self.abandoned,
            self.busy,
            self.out_of_memory,
            self.internal,
            self.timeouts
        )
    }
}

/// One client.
pub struct Worker<'a> {
    rng: Rng,
    seeds: &'a [Seed],
    connect: &'a Connect<'a>,
    client: Client,
    garbage: Box<dyn Transport>,
    recent: &'a AtomicU64,
    options: Options,
    /// What it saw.
    pub stats: Stats,
}

impl<'a> Worker<'a> {
    /// A worker with its own random stream `seed`, over two connections from `connect`.
    /// `recent` is shared by the workers: the newest handle any of them saw.
    pub fn new(
        seed: u64,
        seeds: &'a [Seed],
        connect: &'a Connect<'a>,
        recent: &'a AtomicU64,
        options: Options,
    ) -> Result<Self, Error> {
        Ok(Self {
            rng: Rng::new(seed),
            seeds,
            connect,
            client: Client::new(connect()?, false),
            garbage: connect()?,
            recent,
            options,
            stats: Stats::default(),
        })
    }

    /// Runs `rounds` rounds.
    pub fn run(&mut self, rounds: u64) {
        for _ in 0..rounds {
            self.round();
        }
    }

    /// One round: a module (most of the time), garbage, a reconnection or a query.
    pub fn round(&mut self) {
        self.stats.rounds += 1;
        match self.rng.below(20) {
            0..=10 => self.module_round(),
            11..=12 => self.pair_round(),
            13..=16 => self.garbage_burst(),
            17 => self.reconnect(),
            _ => self.query(),
        }
    }

    fn saw(&self, handle: u64) {
        self.recent.fetch_max(handle, Ordering::Relaxed);
    }

    /// Records a failed request; `what` names it.
    fn failed(&mut self, what: &str, err: &Error) {
        let bug = match err {
            Error::Reply { status, .. } => match status {
                Status::Busy => {
                    self.stats.busy += 1;
                    false
                }
                Status::OutOfMemory => {
                    self.stats.out_of_memory += 1;
                    !self.options.faults
                }
                Status::Internal => {
                    self.stats.internal += 1;
                    !self.options.faults
                }
                Status::Trap => {
                    self.stats.traps += 1;
                    false
                }
                _ => false,
            },
            Error::Unreachable(_) => {
                self.stats.timeouts += 1;
                !self.options.faults
            }
            // A reply that breaks the protocol is a bug, allocation failures or not.
            Error::Internal(_) => true,
            Error::Usage(_) | Error::InvalidModule(_) => false,
        };
        if bug {
            self.stats.problem_count += 1;
            if self.stats.problems.len() < 5 {
                self.stats.problems.push(format!("{what}: {err:?}"));
            }
        }
    }

    /// A module to send: intact seeds, mutated seeds, wasm-smith's or random bytes.
    fn module(&mut self) -> Vec<u8> {
        let pick = |rng: &mut Rng| {
            rng.pick(self.seeds)
                .map(|s| s.bytes.clone())
                .unwrap_or_default()
        };
        match self.rng.below(20) {
            0..=4 => pick(&mut self.rng),
            5..=12 => {
                let mut m = pick(&mut self.rng);
                let other = pick(&mut self.rng);
                let count = if self.rng.chance(1, 5) {
                    self.rng.range(5, 32)
                } else {
                    self.rng.range(1, 3)
                } as usize;
                mutate::mutate(&mut self.rng, &mut m, &other, count, MAX_MODULE_LEN);
                m
            }
            13..=17 => {
                let mut m = corpus::random_module(&mut self.rng);
                if self.rng.chance(1, 3) {
                    let count = self.rng.range(1, 3) as usize;
                    mutate::mutate(&mut self.rng, &mut m, &[], count, MAX_MODULE_LEN);
                }
                m
            }
            _ => mutate::random_bytes(&mut self.rng, 2048),
        }
    }

    /// Uploads `bytes` and makes the module transient; its handle if both worked.
    fn load(&mut self, bytes: &[u8]) -> Option<u64> {
        self.stats.loads += 1;
        let name = format!("{}{}", self.options.name, self.rng.below(1000));
        let module = match self.client.load(bytes, &name) {
            Ok(info) => info.handle,
            Err(e) => {
                self.failed("load", &e);
                return None;
            }
        };
        self.stats.valid += 1;
        self.saw(module);
        if let Err(e) = self.client.transient(module) {
            self.failed("transient", &e);
            self.unload(module);
            return None;
        }
        Some(module)
    }

    fn unload(&mut self, handle: u64) {
        if let Err(e) = self.client.unload(handle, true) {
            self.failed("unload", &e);
        }
    }

    fn instantiate(&mut self, module: u64, link: u64) -> Option<u64> {
        let (fuel, pages) = if link == 0 {
            let fuel = if self.rng.chance(1, 10) {
                1
            } else {
                self.rng.range(1, self.options.max_fuel)
            };
            (
                fuel,
                self.rng.range(1, self.options.max_pages.into()) as u32,
            )
        } else {
            (0, 0)
        };
        match self.client.instantiate(module, fuel, pages, link) {
            Ok(info) => {
                self.stats.instances += 1;
                self.saw(info.handle);
                Some(info.handle)
            }
            Err(e) => {
                self.failed("instantiate", &e);
                None
            }
        }
    }

    fn module_round(&mut self) {
        let bytes = self.module();
        let Some(module) = self.load(&bytes) else {
            return;
        };
        if let Some(instance) = self.instantiate(module, 0) {
            self.exercise(instance);
            if self.rng.chance(1, 4) {
                self.link_round(instance);
            }
        }
        if self.rng.chance(1, 10) {
            // Left for the driver to unload when the socket closes.
            self.stats.abandoned += 1;
        } else {
            self.unload(module);
        }
    }

    /// A link group of two: the provider seed (mutated at times) registered as `m`, and a
    /// consumer in its group.
    fn pair_round(&mut self) {
        let mut bytes = wat::parse_str(corpus::PROVIDER).unwrap_or_default();
        if self.rng.chance(1, 4) {
            let count = self.rng.range(1, 3) as usize;
            mutate::mutate(&mut self.rng, &mut bytes, &[], count, MAX_MODULE_LEN);
        }
        let Some(module) = self.load(&bytes) else {
            return;
        };
        if let Some(provider) = self.instantiate(module, 0) {
            self.link_round(provider);
            self.exercise(provider);
        }
        if self.rng.chance(1, 10) {
            self.stats.abandoned += 1;
        } else {
            self.unload(module);
        }
    }

    /// Invokes the instance's functions with random arguments and reads its globals.
    fn exercise(&mut self, instance: u64) {
        let exports = match self.client.exports(instance) {
            Ok(exports) => exports,
            Err(e) => {
                self.failed("exports", &e);
                return;
            }
        };
        let funcs: Vec<_> = exports
            .iter()
            .filter(|e| e.kind == ExportKind::Func)
            .collect();
        for _ in 0..self.rng.range(1, 6) {
            let Some(func) = self.rng.pick(&funcs) else {
                break;
            };
            let mut args: Vec<Value> = func
                .params
                .iter()
                .map(|&t| garbage::value(&mut self.rng, t))
                .collect();
            if self.rng.chance(1, 10) {
                // The wrong signature: one more, one fewer or another type.
                match self.rng.below(3) {
                    0 => args.push(garbage::any_value(&mut self.rng)),
                    1 => {
                        args.pop();
                    }
                    _ => {
                        if let Some(a) = args.first_mut() {
                            *a = garbage::any_value(&mut self.rng);
                        }
                    }
                }
            }
            self.stats.invokes += 1;
            match self.client.invoke(instance, &func.name, &args) {
                Ok(_) => self.stats.returned += 1,
                Err(e) => self.failed("invoke", &e),
            }
        }
        for global in exports.iter().filter(|e| e.kind == ExportKind::Global) {
            if let Err(e) = self.client.get(instance, &global.name) {
                self.failed("get", &e);
            }
        }
    }

    /// Registers `provider`'s exports as `m` and instantiates a consumer in its link group: the
    /// consumer seed, a trapping start function or a mutation of either.
    fn link_round(&mut self, provider: u64) {
        if let Err(e) = self.client.register(provider, corpus::LINK_NAME) {
            self.failed("register", &e);
            return;
        }
        let mut bytes = match self.rng.below(3) {
            0 => wasm_hostile::trapping_start(1),
            _ => wat::parse_str(corpus::CONSUMER).unwrap_or_default(),
        };
        if self.rng.chance(1, 3) {
            let count = self.rng.range(1, 3) as usize;
            mutate::mutate(&mut self.rng, &mut bytes, &[], count, MAX_MODULE_LEN);
        }
        let Some(module) = self.load(&bytes) else {
            return;
        };
        if let Some(instance) = self.instantiate(module, provider) {
            self.stats.linked += 1;
            self.exercise(instance);
        }
        self.unload(module);
    }

    /// A few garbage messages on the second socket. Any reply, or none, will do; the driver
    /// must just survive them.
    fn garbage_burst(&mut self) {
        let recent = self.recent.load(Ordering::Relaxed);
        for _ in 0..self.rng.range(1, 5) {
            let message = garbage::message(&mut self.rng, recent);
            self.stats.garbage += 1;
            match self.garbage.call(&message) {
                Ok(reply) => self.after_garbage(&reply),
                Err(e) => self.failed("garbage", &e),
            }
        }
        if self.rng.chance(1, 10) {
            // Closes the socket, with whatever garbage made transient on it.
            match (self.connect)() {
                Ok(t) => self.garbage = t,
                Err(e) => self.failed("connect", &e),
            }
        }
    }

    /// Checks a reply to garbage, and unloads what garbage made: an upload that garbage
    /// started (uploads are not tied to a socket, and the driver keeps them until they have
    /// been idle for a while), a module that a garbage LOAD_END made of another client's
    /// complete upload (that client's LOAD_END then fails, and nobody owns it), an instance
    /// that garbage made of another client's module.
    fn after_garbage(&mut self, reply: &[u8]) {
        let handle = match Reply::decode(reply) {
            Ok(Reply { body, .. }) => match body {
                ReplyBody::Upload { handle } => handle,
                ReplyBody::Module(m) => m.handle,
                ReplyBody::Instance(i) => i.handle,
                _ => return,
            },
            Err(e) => {
                self.stats.problem_count += 1;
                if self.stats.problems.len() < 5 {
                    self.stats
                        .problems
                        .push(format!("undecodable reply to garbage: {e}"));
                }
                return;
            }
        };
        self.saw(handle);
        if let Err(e) = self.client.unload(handle, true) {
            self.failed("unload after garbage", &e);
        }
    }

    /// Closes the client's socket with its abandoned modules, and opens another.
    fn reconnect(&mut self) {
        match (self.connect)() {
            Ok(t) => {
                self.client = Client::new(t, false);
                self.stats.reconnects += 1;
            }
            Err(e) => self.failed("connect", &e),
        }
    }

    /// VERSION, LIST, STATS or EXPORTS of a random handle.
    fn query(&mut self) {
        let result = match self.rng.below(4) {
            0 => self.client.version().map(drop),
            1 => self.client.list().map(drop),
            2 => self.client.stats().map(drop),
            _ => {
                let h = garbage::handle(&mut self.rng, self.recent.load(Ordering::Relaxed));
                self.client.exports(h).map(drop)
            }
        };
        if let Err(e) = result {
            self.failed("query", &e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmctl::local::Local;

    /// The whole loop against `wasmctl --local`'s handler: every kind of round happens, the
    /// modules are accepted, instantiated and run often enough to matter, and nothing looks
    /// like a bug.
    #[test]
    fn rounds_against_the_local_driver() {
        let seeds = corpus::builtin();
        let connect = || -> Result<Box<dyn Transport>, Error> { Ok(Box::new(Local::new())) };
        let recent = AtomicU64::new(0);
        let mut worker = Worker::new(11, &seeds, &connect, &recent, Options::default()).unwrap();
        worker.run(400);
        let s = &worker.stats;
        assert_eq!(s.rounds, 400);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert!(s.loads > 200 && s.valid > 50, "{}", s.summary());
        assert!(s.instances > 30 && s.linked > 0, "{}", s.summary());
        assert!(s.returned > 30 && s.traps > 0, "{}", s.summary());
        assert!(s.garbage > 50 && s.reconnects > 0, "{}", s.summary());
        assert!(recent.load(Ordering::Relaxed) > 0);
    }
}
