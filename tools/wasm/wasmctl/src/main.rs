// SPDX-License-Identifier: GPL-2.0

//! `wasmctl`: load, run and manage WebAssembly modules in the kernel.
//!
//! It speaks the wasm connector protocol (`drivers/wasm/protocol.rs`,
//! `Documentation/userspace-api/wasm.rst`) to the kernel's driver over a
//! `NETLINK_CONNECTOR` socket, or, with `--local`, to the same engine built
//! for the host and run in-process.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value as Json};
use wasm_protocol::{
    AttachSource, AttachStats, ExportKind, NfHook, Tracepoint, TrapCode, Value, PROTOCOL_VERSION,
};

use wasmctl::{
    client::Client,
    error::{exit, Detail, Error, EXIT_STATUS_HELP},
    local, module,
    module::Export,
    transport,
    values::{format_value, json_value, parse_args, ARGUMENT_HELP},
    DRIVER_VERSION,
};

/// Load, run and manage WebAssembly modules in the Linux kernel.
///
/// Talks to the kernel's WebAssembly runtime (CONFIG_WASM) over the netlink
/// connector. Loading and running code needs CAP_SYS_ADMIN. With --local, the
/// same commands run on the host build of the engine instead, without a
/// kernel (handles then last for one command).
#[derive(Debug, Parser)]
#[command(
    name = "wasmctl",
    version = DRIVER_VERSION,
    after_help = EXIT_STATUS_HELP,
    after_long_help = format!("{ARGUMENT_HELP}\n\n{EXIT_STATUS_HELP}"),
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Args)]
struct Global {
    /// Run on the host build of the engine, not in the kernel.
    #[arg(long, global = true)]
    local: bool,
    /// Print results and errors as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Trace every request and reply on stderr.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// How long to wait for each reply from the kernel.
    #[arg(long, global = true, value_name = "MS", default_value_t = 5000)]
    timeout: u64,
}

/// Instance limits.
#[derive(Debug, Args)]
struct Limits {
    /// Fuel of each invocation (calls and loop iterations); 0 for the driver's default.
    #[arg(long, default_value_t = 0)]
    fuel: u64,
    /// Most 64 KiB pages the memory may grow to; 0 for the driver's limit.
    #[arg(long, value_name = "PAGES", default_value_t = 0)]
    max_memory_pages: u32,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Load, instantiate and invoke a module, print the results, and unload it.
    #[command(after_long_help = ARGUMENT_HELP)]
    Run {
        /// The module: binary (.wasm) or text (.wat).
        #[arg(short, long, value_name = "FILE")]
        file: PathBuf,
        /// The function to call [default: _start, else main].
        #[arg(long, value_name = "NAME")]
        invoke: Option<String>,
        /// The module's name in listings [default: the file name].
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        limits: Limits,
        /// An environment variable for a WASI program (repeatable).
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// The function's arguments, typed by its signature; for a WASI program (one that
        /// exports `_start`, run by default), its command-line arguments.
        #[arg(value_name = "ARGS", allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Load and validate a module; print its handle.
    Load {
        /// The module: binary (.wasm) or text (.wat).
        #[arg(short, long, value_name = "FILE")]
        file: PathBuf,
        /// The module's name in listings [default: the file name].
        #[arg(long)]
        name: Option<String>,
    },
    /// Instantiate a loaded module; print the instance's handle.
    Instantiate {
        /// The module's handle.
        module: u64,
        #[command(flatten)]
        limits: Limits,
        /// Join the link group of this instance (and take its limits), so as to import what
        /// its group registered; by default the instance gets a group of its own.
        #[arg(long, value_name = "INSTANCE", default_value_t = 0)]
        link: u64,
    },
    /// Make an instance's exports importable, as module NAME, in its link group.
    Register {
        /// The instance's handle.
        handle: u64,
        /// The module name that imports will use.
        name: String,
    },
    /// Print the value of an exported global of an instance.
    Get {
        /// The instance's handle.
        handle: u64,
        /// The exported global.
        name: String,
    },
    /// Call an exported function of an instance; print the results.
    #[command(after_long_help = ARGUMENT_HELP)]
    Invoke {
        /// The instance's handle.
        handle: u64,
        /// The exported function.
        name: String,
        /// The function's arguments, typed by its signature.
        #[arg(value_name = "ARGS", allow_hyphen_values = true)]
        args: Vec<String>,
        /// Invoke it this many times and report the mean round-trip time (a latency
        /// measurement: the results shown are the last invocation's)
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        repeat: u32,
    },
    /// Show the exports of a module or an instance, with the functions' signatures.
    Exports {
        /// The module's or instance's handle.
        handle: u64,
    },
    /// Unload an upload, a module or an instance.
    Unload {
        /// The handle.
        handle: u64,
        /// Also unload a module's instances.
        #[arg(long)]
        cascade: bool,
    },
    /// List uploads, modules and instances.
    List,
    /// Show the driver's counters.
    Stats,
    /// Attach a module's handler to a kernel event source; print the attachment's handle.
    ///
    /// The handler, an exported function `(len: i32) -> i32`, runs where the event happens
    /// (atomic context), with the event's length; its record is read with the kernel import
    /// `event_read`. For netfilter it returns the verdict: 0 drops the packet, anything else
    /// accepts it. See Documentation/wasm/attach.rst.
    Attach {
        /// The module: binary (.wasm) or text (.wat).
        #[arg(short, long, value_name = "FILE")]
        file: PathBuf,
        /// A netfilter hook: ipv4|ipv6 : pre_routing|local_in|forward|local_out|post_routing
        /// [: priority] (default priority 0, the filter table's).
        #[arg(
            long,
            value_name = "FAMILY:HOOK[:PRIORITY]",
            conflicts_with = "tracepoint"
        )]
        netfilter: Option<String>,
        /// A tracepoint: sched_process_exec, sched_process_fork or sched_process_exit.
        #[arg(long, value_name = "NAME", required_unless_present = "netfilter")]
        tracepoint: Option<String>,
        /// The exported handler.
        #[arg(long, value_name = "NAME")]
        handler: String,
        /// The verdict when the handler traps, runs out of fuel or is busy (netfilter).
        #[arg(long = "default", value_name = "VERDICT", default_value = "accept",
              value_parser = ["accept", "drop"])]
        default_verdict: String,
        /// Fuel of each event; 0 for the driver's default (100000).
        #[arg(long, default_value_t = 0)]
        fuel: u64,
        /// The module's name in listings [default: the file name].
        #[arg(long)]
        name: Option<String>,
    },
    /// Detach an attachment (the same as unloading its handle).
    Detach {
        /// The attachment's handle.
        handle: u64,
    },
    /// Print the records attached programs emit, as they come (needs CAP_NET_ADMIN).
    Events {
        /// Only the records of this attachment.
        handle: Option<u64>,
        /// Stop after this many records.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this many milliseconds without a record.
        #[arg(long, value_name = "MS")]
        idle: Option<u64>,
    },
    /// Show the versions and limits of wasmctl and the driver.
    Version,
}

/// What a command prints: lines of text, or JSON.
struct Output {
    text: Vec<String>,
    json: Json,
    /// The exit status: 0, or what a WASI program gave `proc_exit`.
    status: u8,
    /// The command printed as it went: nothing to print at the end.
    quiet: bool,
}

impl Output {
    fn new(text: Vec<String>, json: Json) -> Self {
        Self {
            text,
            json,
            status: exit::OK,
            quiet: false,
        }
    }
}

fn results_output(fuel_used: u64, results: &[Value], extra: Json) -> Output {
    let mut json = json!({
        "results": results.iter().copied().map(json_value).collect::<Vec<_>>(),
        "fuel_used": fuel_used,
    });
    if let (Some(map), Json::Object(extra)) = (json.as_object_mut(), extra) {
        map.extend(extra);
    }
    Output::new(results.iter().copied().map(format_value).collect(), json)
}

fn module_name(name: Option<String>, file: &std::path::Path) -> String {
    match name {
        Some(name) => module::sanitize_name(&name),
        None => module::default_name(file),
    }
}

/// What `run` calls: a function with typed arguments, or a WASI program's `_start` with
/// command-line arguments.
#[derive(Debug, PartialEq)]
enum Call {
    Function(String, Vec<Value>),
    Wasi,
}

/// Picks the export to run and types the arguments, from the module's own exports.
fn prepare_call(exports: &[Export], invoke: Option<&str>, args: &[String]) -> Result<Call, Error> {
    let name = match invoke {
        Some(name) => name.to_string(),
        None => module::default_export(exports)?,
    };
    let export = module::find_function(exports, &name)?;
    // A WASI command: `_start` takes no parameters, the words after it are its argv.
    if name == "_start" && export.params.is_empty() && export.results.is_empty() {
        return Ok(Call::Wasi);
    }
    let values = parse_args(&name, &export.params, args).map_err(Error::Usage)?;
    Ok(Call::Function(name, values))
}

/// NUL-terminated entries, as ARGS carries them.
fn nul_list<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Vec<u8>, Error> {
    let mut list = Vec::new();
    for entry in entries {
        if entry.contains('\0') {
            return Err(Error::Usage(format!(
                "{entry:?}: no NUL bytes in arguments"
            )));
        }
        list.extend_from_slice(entry.as_bytes());
        list.push(0);
    }
    Ok(list)
}

/// Runs a WASI program's `_start`, streaming its output here; the exit status is what it
/// gave `proc_exit` (0 when `_start` returns).
fn run_wasi(
    client: &mut Client,
    instance: u64,
    file: &std::path::Path,
    env: &[String],
    args: &[String],
) -> Result<Output, Error> {
    if let Some(bad) = env.iter().find(|e| !e.contains('=')) {
        return Err(Error::Usage(format!("--env {bad:?}: expected NAME=VALUE")));
    }
    let program = file.to_string_lossy();
    let argv = nul_list(std::iter::once(program.as_ref()).chain(args.iter().map(String::as_str)))?;
    let envp = nul_list(env.iter().map(String::as_str))?;
    client.set_args(instance, &argv, &envp)?;
    let mut write = |fd: u32, data: &[u8]| {
        use std::io::Write;
        // A reader that went away is no reason to stop the program.
        let _ = if fd == 2 {
            std::io::stderr().lock().write_all(data)
        } else {
            let mut out = std::io::stdout().lock();
            out.write_all(data).and_then(|()| out.flush())
        };
    };
    let status = match client.invoke_with_output(instance, "_start", &[], &mut write) {
        Ok(_) => exit::OK,
        Err(Error::Reply {
            detail: Detail::Trap(trap),
            ..
        }) if trap.code == TrapCode::Exit => trap.host_code.clamp(0, 255) as u8,
        Err(e) => return Err(e),
    };
    let mut output = Output::new(
        vec![],
        json!({ "instance": instance, "exit_status": status }),
    );
    output.status = status;
    Ok(output)
}

#[allow(clippy::too_many_arguments)]
fn run(
    client: &mut Client,
    file: &std::path::Path,
    invoke: Option<&str>,
    name: Option<String>,
    limits: &Limits,
    env: &[String],
    args: &[String],
) -> Result<Output, Error> {
    let bytes = module::read_module(file)?;
    // Type the call before loading anything. An invalid module is loaded anyway, so that the
    // driver says what is wrong with it.
    let local = if module::is_valid(&bytes) {
        module::exports(&bytes)
            .ok()
            .map(|exports| prepare_call(&exports, invoke, args))
            .transpose()?
    } else {
        None
    };
    let module = client.load(&bytes, &module_name(name, file))?;
    let outcome = (|| {
        // If this process dies before it unloads them (Ctrl-C), the driver does.
        client.transient(module.handle)?;
        let call = match local {
            Some(call) => call,
            None => prepare_call(&client.exports(module.handle)?, invoke, args)?,
        };
        let instance =
            client.instantiate(module.handle, limits.fuel, limits.max_memory_pages, 0)?;
        match call {
            Call::Wasi => run_wasi(client, instance.handle, file, env, args),
            Call::Function(export, values) => {
                if !env.is_empty() {
                    return Err(Error::Usage(
                        "--env is for WASI programs (which export _start)".to_string(),
                    ));
                }
                // The call alone, as benchmarks time it: loading, validating, translating and
                // instantiating are not part of it.
                let start = std::time::Instant::now();
                let (fuel_used, results) = client.invoke(instance.handle, &export, &values)?;
                let invoke_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                Ok(results_output(
                    fuel_used,
                    &results,
                    json!({ "module": module.handle, "instance": instance.handle, "export": export,
                            "invoke_ns": invoke_ns }),
                ))
            }
        }
    })();
    // Unload even when the call failed; a failure to unload matters only after a success.
    let unloaded = client.unload(module.handle, true);
    let output = outcome?;
    unloaded?;
    Ok(output)
}

fn describe_exports(exports: &[Export]) -> Output {
    Output::new(
        exports.iter().map(Export::describe).collect(),
        Json::Array(
            exports
                .iter()
                .map(|e| {
                    let mut j = json!({ "name": e.name, "kind": e.kind.name() });
                    if e.kind == ExportKind::Func {
                        j["params"] = json!(e.params.iter().map(|t| t.name()).collect::<Vec<_>>());
                        j["results"] =
                            json!(e.results.iter().map(|t| t.name()).collect::<Vec<_>>());
                    }
                    j
                })
                .collect(),
        ),
    )
}

/// Parses `--netfilter FAMILY:HOOK[:PRIORITY]`.
fn netfilter_source(spec: &str, default_accept: bool) -> Result<AttachSource, Error> {
    let usage = || {
        Error::Usage(format!(
            "--netfilter {spec:?}: expected ipv4|ipv6:HOOK[:PRIORITY], HOOK one of {}",
            NfHook::ALL.map(NfHook::name).join(", ")
        ))
    };
    let mut parts = spec.split(':');
    let ipv6 = match parts.next() {
        Some("ipv4") => false,
        Some("ipv6") => true,
        _ => return Err(usage()),
    };
    let hook = parts
        .next()
        .and_then(|h| NfHook::ALL.into_iter().find(|k| k.name() == h))
        .ok_or_else(usage)?;
    let priority = match parts.next() {
        Some(p) => p.parse().map_err(|_| usage())?,
        None => 0,
    };
    if parts.next().is_some() {
        return Err(usage());
    }
    Ok(AttachSource::Netfilter {
        ipv6,
        hook,
        priority,
        default_accept,
    })
}

/// A record for humans: printable ASCII as is, the rest escaped.
fn printable(record: &[u8]) -> String {
    record.escape_ascii().to_string()
}

fn describe_source(source: &AttachSource) -> String {
    match source {
        AttachSource::Netfilter {
            ipv6,
            hook,
            priority,
            default_accept,
        } => format!(
            "netfilter {}:{}:{priority}, default {}",
            if *ipv6 { "ipv6" } else { "ipv4" },
            hook.name(),
            if *default_accept { "accept" } else { "drop" }
        ),
        AttachSource::Tracepoint(t) => format!("tracepoint {}", t.name()),
    }
}

fn attach_json(a: &AttachStats) -> Json {
    json!({
        "source": describe_source(&a.source),
        "events": a.events, "busy": a.busy, "traps": a.traps, "out_of_fuel": a.out_of_fuel,
        "emitted": a.emitted, "emit_dropped": a.emit_dropped,
        "avg_ns": a.total_ns.checked_div(a.events).unwrap_or(0), "max_ns": a.max_ns,
        "fuel": a.fuel,
    })
}

/// `wasmctl events`: prints records until `count` of them or `idle` ms without one.
fn events(
    handle: Option<u64>,
    count: Option<u64>,
    idle: Option<u64>,
    json: bool,
) -> Result<Output, Error> {
    use std::io::Write;
    let stream = transport::EventStream::open()?;
    let mut seen = 0u64;
    let idle = idle.map(Duration::from_millis);
    while count.is_none_or(|c| seen < c) {
        let payloads = stream.next(idle)?;
        if payloads.is_empty() && idle.is_some() {
            break;
        }
        for payload in payloads {
            let Ok(reply) = wasm_protocol::Reply::decode(&payload) else {
                continue;
            };
            let wasm_protocol::ReplyBody::Event {
                handle: from,
                seq,
                record,
            } = reply.body
            else {
                continue;
            };
            if handle.is_some_and(|h| h != from) {
                continue;
            }
            let line = if json {
                json!({ "handle": from, "seq": seq, "record": printable(record) }).to_string()
            } else {
                format!("{from} #{seq}: {}", printable(record))
            };
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return Ok(Output::new(vec![], Json::Null));
            }
            seen += 1;
            if count.is_some_and(|c| seen >= c) {
                break;
            }
        }
    }
    let mut output = Output::new(vec![], json!({ "events": seen }));
    output.quiet = true;
    Ok(output)
}

fn execute(cli: Cli) -> Result<Output, Error> {
    if let Cmd::Events {
        handle,
        count,
        idle,
    } = cli.command
    {
        if cli.global.local {
            return Err(Error::Usage(
                "kernel events exist in the kernel only: events without --local".to_string(),
            ));
        }
        return events(handle, count, idle, cli.global.json);
    }
    let transport: Box<dyn transport::Transport> = if cli.global.local {
        Box::new(local::Local::new())
    } else {
        Box::new(transport::Kernel::open(Duration::from_millis(
            cli.global.timeout,
        ))?)
    };
    let mut client = Client::new(transport, cli.global.verbose);
    match cli.command {
        Cmd::Run {
            file,
            invoke,
            name,
            limits,
            env,
            args,
        } => run(
            &mut client,
            &file,
            invoke.as_deref(),
            name,
            &limits,
            &env,
            &args,
        ),
        Cmd::Load { file, name } => {
            let bytes = module::read_module(&file)?;
            let m = client.load(&bytes, &module_name(name, &file))?;
            Ok(Output::new(
                vec![m.handle.to_string()],
                json!({ "handle": m.handle, "size": m.size, "imports": m.imports,
                        "exports": m.exports }),
            ))
        }
        Cmd::Instantiate {
            module,
            limits,
            link,
        } => {
            if link != 0 && (limits.fuel != 0 || limits.max_memory_pages != 0) {
                return Err(Error::Usage(
                    "--link takes the link group's limits: drop --fuel and --max-memory-pages"
                        .to_string(),
                ));
            }
            let i = client.instantiate(module, limits.fuel, limits.max_memory_pages, link)?;
            Ok(Output::new(
                vec![i.handle.to_string()],
                json!({ "handle": i.handle, "module": i.module, "memory_pages": i.memory_pages }),
            ))
        }
        Cmd::Invoke {
            handle,
            name,
            args,
            repeat,
        } => {
            let exports = client.exports(handle)?;
            let export = module::find_function(&exports, &name)?;
            let values = parse_args(&name, &export.params, &args).map_err(Error::Usage)?;
            let start = std::time::Instant::now();
            let (mut fuel_used, mut results) = client.invoke(handle, &name, &values)?;
            for _ in 1..repeat {
                (fuel_used, results) = client.invoke(handle, &name, &values)?;
            }
            let mean_ns = start.elapsed().as_nanos() / u128::from(repeat);
            if repeat > 1 && !cli.global.json {
                eprintln!("{repeat} invocations, {mean_ns} ns each on average");
            }
            Ok(results_output(
                fuel_used,
                &results,
                json!({ "export": name, "repeat": repeat, "mean_ns": mean_ns as u64 }),
            ))
        }
        Cmd::Register { handle, name } => {
            client.register(handle, &name)?;
            Ok(Output::new(
                vec![],
                json!({ "registered": handle, "name": name }),
            ))
        }
        Cmd::Get { handle, name } => {
            let value = client.get(handle, &name)?;
            Ok(Output::new(
                vec![format_value(value)],
                json!({ "value": json_value(value), "export": name }),
            ))
        }
        Cmd::Exports { handle } => Ok(describe_exports(&client.exports(handle)?)),
        Cmd::Unload { handle, cascade } => {
            client.unload(handle, cascade)?;
            Ok(Output::new(vec![], json!({ "unloaded": handle })))
        }
        Cmd::Attach {
            file,
            netfilter,
            tracepoint,
            handler,
            default_verdict,
            fuel,
            name,
        } => {
            let source = match (netfilter, tracepoint) {
                (Some(spec), _) => netfilter_source(&spec, default_verdict == "accept")?,
                (None, Some(t)) => AttachSource::Tracepoint(
                    Tracepoint::ALL
                        .into_iter()
                        .find(|k| k.name() == t)
                        .ok_or_else(|| {
                            Error::Usage(format!(
                                "--tracepoint {t:?}: one of {}",
                                Tracepoint::ALL.map(Tracepoint::name).join(", ")
                            ))
                        })?,
                ),
                (None, None) => {
                    return Err(Error::Usage("give --netfilter or --tracepoint".to_string()))
                }
            };
            let bytes = module::read_module(&file)?;
            let m = client.load(&bytes, &module_name(name, &file))?;
            let attached = client.attach(m.handle, source, fuel, &handler);
            // The attachment keeps the module's code: its handle is not needed any more.
            let unloaded = client.unload(m.handle, false);
            let a = attached?;
            unloaded?;
            Ok(Output::new(
                vec![a.handle.to_string()],
                json!({ "handle": a.handle, "source": describe_source(&source) }),
            ))
        }
        Cmd::Detach { handle } => {
            client.unload(handle, false)?;
            Ok(Output::new(vec![], json!({ "detached": handle })))
        }
        Cmd::Events { .. } => Err(Error::Internal("events handled above".to_string())),
        Cmd::List => {
            let entries = client.list()?;
            let mut text = vec![format!(
                "{:>6} {:<8} {:>6} {:>9} {:>7} {:>6} {:>8} {:>10}  NAME",
                "HANDLE", "KIND", "PARENT", "SIZE", "EXPORTS", "PAGES", "CALLS", "FUEL"
            )];
            let mut json = Vec::new();
            for e in &entries {
                text.push(format!(
                    "{:>6} {:<8} {:>6} {:>9} {:>7} {:>6} {:>8} {:>10}  {}",
                    e.handle,
                    e.kind,
                    if e.parent == 0 {
                        "-".to_string()
                    } else {
                        e.parent.to_string()
                    },
                    e.size,
                    e.exports,
                    e.memory_pages,
                    e.calls,
                    e.fuel_used,
                    e.name
                ));
                let mut j = json!({
                    "handle": e.handle, "kind": e.kind, "parent": e.parent, "name": e.name,
                    "size": e.size, "exports": e.exports, "memory_pages": e.memory_pages,
                    "calls": e.calls, "fuel_used": e.fuel_used,
                });
                if e.kind == "attachment" {
                    if let Ok(a) = client.attach_info(e.handle) {
                        text.push(format!(
                            "{:>6} {}: {} events, {} busy, {} traps, {} out of fuel, \
                             {} emitted ({} dropped), {} ns average, {} ns max",
                            "",
                            describe_source(&a.source),
                            a.events,
                            a.busy,
                            a.traps,
                            a.out_of_fuel,
                            a.emitted,
                            a.emit_dropped,
                            a.total_ns.checked_div(a.events).unwrap_or(0),
                            a.max_ns
                        ));
                        j["attachment"] = attach_json(&a);
                    }
                }
                json.push(j);
            }
            Ok(Output::new(text, Json::Array(json)))
        }
        Cmd::Stats => {
            let s = client.stats()?;
            let fields = [
                ("modules", s.modules),
                ("instances", s.instances),
                ("uploads", s.uploads),
                ("module_bytes", s.module_bytes),
                ("memory_pages", s.memory_pages),
                ("loads", s.loads),
                ("load_failures", s.load_failures),
                ("instantiations", s.instantiations),
                ("invocations", s.invocations),
                ("traps", s.traps),
                ("fuel_used", s.fuel_used),
                ("denied", s.denied),
                ("kernel_bytes", s.kernel_bytes),
            ];
            Ok(Output::new(
                fields.iter().map(|(k, v)| format!("{k}: {v}")).collect(),
                Json::Object(
                    fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), json!(v)))
                        .collect(),
                ),
            ))
        }
        Cmd::Version => {
            let v = client.version()?;
            let driver = format!("{}.{}.{}", v.driver[0], v.driver[1], v.driver[2]);
            let fuel = |f: u64| {
                if f == 0 {
                    "unlimited".to_string()
                } else {
                    f.to_string()
                }
            };
            Ok(Output::new(
                vec![
                    format!("wasmctl {DRIVER_VERSION}, protocol {PROTOCOL_VERSION}"),
                    format!(
                        "driver {driver}{}",
                        if cli.global.local { " (--local)" } else { "" }
                    ),
                    format!("privileged: {}", if v.privileged() { "yes" } else { "no" }),
                    format!("max module: {} bytes", v.max_module_len),
                    format!("max chunk: {} bytes", v.max_chunk_len),
                    format!("max memory: {} pages", v.max_memory_pages),
                    format!("default fuel: {}", fuel(v.default_fuel)),
                    format!("max fuel: {}", fuel(v.max_fuel)),
                ],
                json!({
                    "wasmctl": DRIVER_VERSION, "protocol": PROTOCOL_VERSION, "driver": driver,
                    "local": cli.global.local, "privileged": v.privileged(),
                    "max_module_len": v.max_module_len, "max_chunk_len": v.max_chunk_len,
                    "max_memory_pages": v.max_memory_pages, "default_fuel": v.default_fuel,
                    "max_fuel": v.max_fuel,
                }),
            ))
        }
    }
}

fn error_json(e: &Error) -> Json {
    let mut j = json!({
        "error": {
            "kind": e.kind(),
            "message": e.to_string(),
            "exit_code": e.exit_code(),
        }
    });
    if let Error::Reply { detail, status, .. } = e {
        j["error"]["status"] = json!(status.code());
        match detail {
            Detail::None => {}
            Detail::Offset(offset) => j["error"]["offset"] = json!(offset),
            Detail::Trap(trap) => {
                j["error"]["trap"] = json!({
                    "code": trap.code.code(),
                    "message": trap.code.message(),
                    "func": trap.func,
                    "offset": trap.offset,
                });
            }
        }
    }
    j
}

/// Writes `lines` to standard output. A reader that went away (`wasmctl list | head -1`)
/// is not an error: the rest is not wanted.
fn print_lines<'a>(lines: impl IntoIterator<Item = &'a str>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
    let _ = out.flush();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.global.json;
    match execute(cli) {
        Ok(output) if output.quiet => ExitCode::from(output.status),
        Ok(output) => {
            if json {
                print_lines([output.json.to_string().as_str()]);
            } else {
                print_lines(output.text.iter().map(String::as_str));
            }
            ExitCode::from(output.status)
        }
        Err(e) => {
            if json {
                print_lines([error_json(&e).to_string().as_str()]);
            } else {
                eprintln!("wasmctl: {e}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn driver_version_is_semver() {
        let parts: Vec<&str> = DRIVER_VERSION.split('.').collect();
        assert_eq!(parts.len(), 3, "{DRIVER_VERSION:?}");
        assert!(
            parts.iter().all(|p| p.parse::<u32>().is_ok()),
            "{DRIVER_VERSION:?}"
        );
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn arguments_parse() {
        let cli = Cli::try_parse_from([
            "wasmctl", "--local", "run", "-f", "x.wat", "--invoke", "f", "-1", "-inf", "2",
        ])
        .unwrap();
        assert!(cli.global.local);
        let Cmd::Run { args, invoke, .. } = cli.command else {
            panic!()
        };
        assert_eq!(args, ["-1", "-inf", "2"]);
        assert_eq!(invoke.as_deref(), Some("f"));

        let cli = Cli::try_parse_from(["wasmctl", "invoke", "3", "add", "1", "2", "--json"]);
        // After the function's arguments, everything is an argument.
        let Cmd::Invoke { handle, args, .. } = cli.unwrap().command else {
            panic!()
        };
        assert_eq!((handle, args.len()), (3, 3));

        let cli = Cli::try_parse_from(["wasmctl", "unload", "7", "--cascade", "--json"]).unwrap();
        assert!(cli.global.json);
        assert!(matches!(
            cli.command,
            Cmd::Unload {
                handle: 7,
                cascade: true
            }
        ));
        let cli = Cli::try_parse_from(["wasmctl", "instantiate", "3", "--link", "4"]).unwrap();
        assert!(matches!(
            cli.command,
            Cmd::Instantiate {
                module: 3,
                link: 4,
                ..
            }
        ));
        let cli = Cli::try_parse_from(["wasmctl", "get", "4", "g"]).unwrap();
        assert!(matches!(cli.command, Cmd::Get { handle: 4, ref name } if name == "g"));
        assert!(Cli::try_parse_from(["wasmctl", "register", "4"]).is_err());
        assert!(Cli::try_parse_from(["wasmctl", "unload", "x"]).is_err());
        assert!(Cli::try_parse_from(["wasmctl", "run"]).is_err());
        assert!(Cli::try_parse_from(["wasmctl"]).is_err());
    }

    #[test]
    fn help_documents_exit_statuses() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit status"));
        assert!(help.contains("4  trap"));
        assert!(help.contains("nan:0xPAYLOAD"));
    }

    #[test]
    fn prepared_calls() {
        let exports = module::exports(
            &wat::parse_str(
                r#"(module (func (export "add") (param i32 i64) (result i32) i32.const 0)
                           (func (export "main")))"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            prepare_call(&exports, Some("add"), &["1".into(), "-2".into()]).unwrap(),
            Call::Function("add".to_string(), vec![Value::I32(1), Value::I64(-2)])
        );
        assert_eq!(
            prepare_call(&exports, None, &[]).unwrap(),
            Call::Function("main".to_string(), vec![])
        );
        // A WASI command: `_start`, whose words are its arguments, untyped.
        let wasi =
            module::exports(&wat::parse_str(r#"(module (func (export "_start")))"#).unwrap())
                .unwrap();
        assert_eq!(
            prepare_call(&wasi, None, &["-x".into(), "y z".into()]).unwrap(),
            Call::Wasi
        );
        let err = prepare_call(&exports, Some("add"), &["1".into()]).unwrap_err();
        assert_eq!(err.exit_code(), exit::USAGE);
        let err = prepare_call(&exports, Some("nope"), &[]).unwrap_err();
        assert_eq!(err.exit_code(), exit::USAGE);
    }
}
