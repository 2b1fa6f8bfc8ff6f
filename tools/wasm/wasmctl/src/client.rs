// SPDX-License-Identifier: GPL-2.0

//! The client side of the protocol: one method per command, over any transport.

use wasm_protocol::{
    AttachSource, AttachStats, Command, InstanceInfo, ListEntry, ModuleInfo, ProtoError, Reply,
    ReplyBody, Request, Stats, Status, Value, ValueList, Values, VersionInfo, MAX_CHUNK_LEN,
    MAX_PAYLOAD_LEN, PROTOCOL_VERSION,
};

use crate::{
    error::{Detail, Error},
    module::Export,
    transport::Transport,
    values::format_value,
};

/// An owned LIST entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The handle.
    pub handle: u64,
    /// What it names: upload, module or instance.
    pub kind: &'static str,
    /// An instance's module.
    pub parent: u64,
    /// An instance's invocations.
    pub calls: u64,
    /// An instance's fuel consumed.
    pub fuel_used: u64,
    /// The module's size.
    pub size: u32,
    /// Bytes received (uploads) or exports.
    pub exports: u32,
    /// An instance's memory in pages.
    pub memory_pages: u32,
    /// The module's name.
    pub name: String,
}

impl From<ListEntry<'_>> for Entry {
    fn from(e: ListEntry<'_>) -> Self {
        Self {
            handle: e.handle,
            kind: e.kind.name(),
            parent: e.parent,
            calls: e.calls,
            fuel_used: e.fuel_used,
            size: e.size,
            exports: e.exports,
            memory_pages: e.memory_pages,
            name: e.name.to_string(),
        }
    }
}

/// Where a running program's output goes: the file descriptor (1 or 2) and the bytes.
pub type OutputSink<'a> = dyn FnMut(u32, &[u8]) + 'a;

/// A protocol client.
pub struct Client {
    transport: Box<dyn Transport>,
    verbose: bool,
    buf: Vec<u8>,
}

fn values(list: ValueList<'_>) -> String {
    list.iter()
        .map(|v| format!("{} {}", v.ty().name(), format_value(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A one-line description of a request, for `--verbose`.
fn describe_request(request: &Request<'_>) -> String {
    let name = request.command().name();
    match request {
        Request::Version | Request::Stats => name.to_string(),
        Request::LoadBegin {
            total_size,
            name: n,
        } => {
            format!("{name} total_size={total_size} name={n:?}")
        }
        Request::LoadChunk {
            handle,
            offset,
            data,
        } => format!("{name} handle={handle} offset={offset} len={}", data.len()),
        Request::LoadEnd { handle } => format!("{name} handle={handle}"),
        Request::Instantiate {
            module,
            fuel,
            max_memory_pages,
            link,
        } => {
            let mut line =
                format!("{name} module={module} fuel={fuel} max_memory_pages={max_memory_pages}");
            if *link != 0 {
                line.push_str(&format!(" link={link}"));
            }
            line
        }
        Request::Invoke {
            instance,
            name: n,
            args,
        } => format!("{name} instance={instance} {n:?} ({})", values(*args)),
        Request::Unload { handle, cascade } => format!(
            "{name} handle={handle}{}",
            if *cascade { " cascade" } else { "" }
        ),
        Request::List {
            cursor,
            max_entries,
        } => format!("{name} cursor={cursor} max_entries={max_entries}"),
        Request::Exports { handle, cursor } => format!("{name} handle={handle} cursor={cursor}"),
        Request::Register { instance, name: n } | Request::Get { instance, name: n } => {
            format!("{name} instance={instance} {n:?}")
        }
        Request::Transient { handle } => format!("{name} handle={handle}"),
        Request::Attach {
            module,
            source,
            fuel,
            handler,
        } => format!("{name} module={module} {source:?} fuel={fuel} handler={handler:?}"),
        Request::AttachInfo { handle } => format!("{name} handle={handle}"),
        Request::Args {
            instance,
            args,
            env,
        } => {
            let count = |list: &[u8]| list.iter().filter(|&&b| b == 0).count();
            format!(
                "{name} instance={instance} args={} env={}",
                count(args),
                count(env)
            )
        }
    }
}

/// A one-line description of a reply, for `--verbose`.
fn describe_reply(reply: &Reply<'_>) -> String {
    let body = match reply.body {
        ReplyBody::Empty => String::new(),
        ReplyBody::Version(v) => format!(
            "driver {}.{}.{}{}, max module {}",
            v.driver[0],
            v.driver[1],
            v.driver[2],
            if v.privileged() { ", privileged" } else { "" },
            v.max_module_len
        ),
        ReplyBody::Upload { handle } => format!("handle {handle}"),
        ReplyBody::Received { bytes } => format!("received {bytes}"),
        ReplyBody::Module(m) => format!(
            "module {}: {} bytes, {} imports, {} exports",
            m.handle, m.size, m.imports, m.exports
        ),
        ReplyBody::Instance(i) => format!("instance {}", i.handle),
        ReplyBody::Results {
            fuel_used,
            values: v,
        } => format!("fuel {fuel_used}, results ({})", values(v)),
        ReplyBody::List(page) => format!("{} entries{}", page.len(), more(page.more)),
        ReplyBody::Exports(page) => format!("{} exports{}", page.len(), more(page.more)),
        ReplyBody::Stats(_) => "counters".to_string(),
        ReplyBody::Global(v) => format!("{} {}", v.ty().name(), format_value(v)),
        ReplyBody::InvalidModule { offset } => format!("offset {offset:#x}"),
        ReplyBody::Trap(t) => format!("{:?}", t.code),
        ReplyBody::Output { fd, data } => format!("fd {fd}, {} bytes", data.len()),
        ReplyBody::AttachInfo(a) => format!("{} events", a.events),
        ReplyBody::Event {
            handle,
            seq,
            record,
        } => {
            format!("attachment {handle} #{seq}, {} bytes", record.len())
        }
    };
    let status = if reply.status.is_ok() {
        "OK".to_string()
    } else {
        reply.status.description().to_uppercase().replace(' ', "_")
    };
    let mut line = status;
    for part in [body, reply.message.to_string()] {
        if !part.is_empty() {
            line.push_str("  ");
            line.push_str(&part);
        }
    }
    line
}

fn more(more: bool) -> &'static str {
    if more {
        ", more"
    } else {
        ""
    }
}

fn unexpected(command: Command) -> Error {
    Error::Internal(format!("unexpected reply body for {}", command.name()))
}

impl Client {
    /// A client over `transport`; `verbose` traces every exchange on stderr.
    pub fn new(transport: Box<dyn Transport>, verbose: bool) -> Self {
        Self {
            transport,
            verbose,
            buf: vec![0; MAX_PAYLOAD_LEN],
        }
    }

    /// Sends `request` and returns the reply's bytes if its status is OK; a failure status is
    /// an [`Error::Reply`].
    fn call(&mut self, request: &Request<'_>) -> Result<Vec<u8>, Error> {
        self.call_with_output(request, None)
    }

    /// As [`Client::call`], handing a running program's output to `output` as it arrives.
    fn call_with_output(
        &mut self,
        request: &Request<'_>,
        output: Option<&mut OutputSink<'_>>,
    ) -> Result<Vec<u8>, Error> {
        let command = request.command();
        let len = request.encode(&mut self.buf).map_err(|e| match e {
            ProtoError::TooLarge(_) | ProtoError::InvalidField(_) => {
                Error::Usage(format!("{}: {e}", command.name()))
            }
            e => Error::Internal(format!("encoding {}: {e}", command.name())),
        })?;
        if self.verbose {
            eprintln!("-> {}", describe_request(request));
        }
        let bytes = match output {
            None => self.transport.call(&self.buf[..len])?,
            Some(output) => {
                let verbose = self.verbose;
                self.transport
                    .call_with_output(&self.buf[..len], &mut |payload| {
                        if let Ok(Reply {
                            body: ReplyBody::Output { fd, data },
                            ..
                        }) = Reply::decode(payload)
                        {
                            if verbose {
                                eprintln!("<- OUTPUT fd {fd}, {} bytes", data.len());
                            }
                            output(fd, data);
                        }
                    })?
            }
        };
        let reply = Reply::decode(&bytes).map_err(|e| match e {
            ProtoError::UnsupportedVersion(v) => Error::Unreachable(format!(
                "the kernel speaks version {v} of the wasm protocol and wasmctl version \
                 {PROTOCOL_VERSION}: use the wasmctl built with the kernel"
            )),
            e => Error::Internal(format!("undecodable reply to {}: {e}", command.name())),
        })?;
        if self.verbose {
            eprintln!("<- {}", describe_reply(&reply));
        }
        if reply.command != command.code() {
            return Err(Error::Internal(format!(
                "reply to command {} for a {} request",
                reply.command,
                command.name()
            )));
        }
        if !reply.status.is_ok() {
            return Err(Error::Reply {
                command: Some(command),
                status: reply.status,
                message: reply.message.to_string(),
                detail: match reply.body {
                    ReplyBody::InvalidModule { offset } => Detail::Offset(offset),
                    ReplyBody::Trap(trap) => Detail::Trap(trap),
                    _ => Detail::None,
                },
            });
        }
        Ok(bytes)
    }

    /// Calls `request` and hands the decoded body to `f`.
    fn call_with<T>(
        &mut self,
        request: &Request<'_>,
        f: impl FnOnce(ReplyBody<'_>) -> Option<T>,
    ) -> Result<T, Error> {
        let bytes = self.call(request)?;
        let body = Reply::decode(&bytes)
            .map_err(|e| Error::Internal(e.to_string()))?
            .body;
        f(body).ok_or_else(|| unexpected(request.command()))
    }

    /// VERSION.
    pub fn version(&mut self) -> Result<VersionInfo, Error> {
        self.call_with(&Request::Version, |body| match body {
            ReplyBody::Version(v) => Some(v),
            _ => None,
        })
    }

    /// Uploads and validates a module (VERSION, LOAD_BEGIN, LOAD_CHUNK…, LOAD_END). An upload
    /// that fails half-way is unloaded.
    pub fn load(&mut self, bytes: &[u8], name: &str) -> Result<ModuleInfo, Error> {
        let version = self.version()?;
        if !version.privileged() {
            return Err(Error::Reply {
                command: Some(Command::LoadBegin),
                status: Status::PermissionDenied,
                message: String::new(),
                detail: Detail::None,
            });
        }
        if bytes.len() > version.max_module_len as usize {
            return Err(Error::Reply {
                command: Some(Command::LoadBegin),
                status: Status::LimitExceeded,
                message: format!(
                    "the module has {} bytes, the driver accepts at most {}",
                    bytes.len(),
                    version.max_module_len
                ),
                detail: Detail::None,
            });
        }
        let total_size =
            u32::try_from(bytes.len()).map_err(|_| Error::Usage("module too large".to_string()))?;
        let handle = self.call_with(
            &Request::LoadBegin { total_size, name },
            |body| match body {
                ReplyBody::Upload { handle } => Some(handle),
                _ => None,
            },
        )?;
        let chunk_len = match version.max_chunk_len as usize {
            0 => MAX_CHUNK_LEN,
            n => n.min(MAX_CHUNK_LEN),
        };
        let uploaded = (|| {
            for (i, chunk) in bytes.chunks(chunk_len).enumerate() {
                let offset = u32::try_from(i * chunk_len)
                    .map_err(|_| Error::Usage("module too large".to_string()))?;
                self.call(&Request::LoadChunk {
                    handle,
                    offset,
                    data: chunk,
                })?;
            }
            self.call_with(&Request::LoadEnd { handle }, |body| match body {
                ReplyBody::Module(m) => Some(m),
                _ => None,
            })
        })();
        if let Err(Error::Reply {
            command: Some(Command::LoadChunk),
            ..
        }) = uploaded
        {
            // LOAD_END drops a failed upload itself; a failed chunk leaves it behind.
            let _ = self.unload(handle, false);
        }
        uploaded
    }

    /// INSTANTIATE: in a new link group when `link` is 0, else in the link group of the
    /// instance `link` (whose limits apply: `fuel` and `max_memory_pages` must then be 0).
    pub fn instantiate(
        &mut self,
        module: u64,
        fuel: u64,
        max_memory_pages: u32,
        link: u64,
    ) -> Result<InstanceInfo, Error> {
        self.call_with(
            &Request::Instantiate {
                module,
                fuel,
                max_memory_pages,
                link,
            },
            |body| match body {
                ReplyBody::Instance(i) => Some(i),
                _ => None,
            },
        )
    }

    /// INVOKE: the fuel used and the results.
    pub fn invoke(
        &mut self,
        instance: u64,
        name: &str,
        args: &[Value],
    ) -> Result<(u64, Vec<Value>), Error> {
        let args = Values::new(args);
        self.call_with(
            &Request::Invoke {
                instance,
                name,
                args: args.list(),
            },
            |body| match body {
                ReplyBody::Results { fuel_used, values } => {
                    Some((fuel_used, values.iter().collect()))
                }
                _ => None,
            },
        )
    }

    /// INVOKE of a program that writes output: `output` gets each piece (descriptor 1 or 2,
    /// bytes) as the program writes it, before this returns.
    pub fn invoke_with_output(
        &mut self,
        instance: u64,
        name: &str,
        args: &[Value],
        output: &mut OutputSink<'_>,
    ) -> Result<(u64, Vec<Value>), Error> {
        let args = Values::new(args);
        let request = Request::Invoke {
            instance,
            name,
            args: args.list(),
        };
        let bytes = self.call_with_output(&request, Some(output))?;
        match Reply::decode(&bytes)
            .map_err(|e| Error::Internal(e.to_string()))?
            .body
        {
            ReplyBody::Results { fuel_used, values } => Ok((fuel_used, values.iter().collect())),
            _ => Err(unexpected(Command::Invoke)),
        }
    }

    /// ATTACH: instantiates `module` and attaches its `handler` to `source`; the returned
    /// handle names the attachment.
    pub fn attach(
        &mut self,
        module: u64,
        source: AttachSource,
        fuel: u64,
        handler: &str,
    ) -> Result<InstanceInfo, Error> {
        self.call_with(
            &Request::Attach {
                module,
                source,
                fuel,
                handler,
            },
            |body| match body {
                ReplyBody::Instance(i) => Some(i),
                _ => None,
            },
        )
    }

    /// ATTACH_INFO: what an attachment is and what it did.
    pub fn attach_info(&mut self, handle: u64) -> Result<AttachStats, Error> {
        self.call_with(&Request::AttachInfo { handle }, |body| match body {
            ReplyBody::AttachInfo(a) => Some(a),
            _ => None,
        })
    }

    /// ARGS: the arguments and environment WASI programs of `instance` see, each entry
    /// NUL-terminated.
    pub fn set_args(&mut self, instance: u64, args: &[u8], env: &[u8]) -> Result<(), Error> {
        self.call(&Request::Args {
            instance,
            args,
            env,
        })
        .map(drop)
    }

    /// REGISTER: makes the exports of `instance` importable as module `name` in its link
    /// group.
    pub fn register(&mut self, instance: u64, name: &str) -> Result<(), Error> {
        self.call(&Request::Register { instance, name }).map(drop)
    }

    /// GET: the value of the exported global `name` of `instance`.
    pub fn get(&mut self, instance: u64, name: &str) -> Result<Value, Error> {
        self.call_with(&Request::Get { instance, name }, |body| match body {
            ReplyBody::Global(value) => Some(value),
            _ => None,
        })
    }

    /// TRANSIENT: the driver unloads `handle` when this client's socket closes.
    pub fn transient(&mut self, handle: u64) -> Result<(), Error> {
        self.call(&Request::Transient { handle }).map(drop)
    }

    /// UNLOAD.
    pub fn unload(&mut self, handle: u64, cascade: bool) -> Result<(), Error> {
        self.call(&Request::Unload { handle, cascade }).map(drop)
    }

    /// LIST, all pages.
    pub fn list(&mut self) -> Result<Vec<Entry>, Error> {
        let mut entries = Vec::new();
        let mut cursor = 0;
        loop {
            let (page, more, next) = self.call_with(
                &Request::List {
                    cursor,
                    max_entries: 0,
                },
                |body| match body {
                    ReplyBody::List(page) => Some((
                        page.entries().map(Entry::from).collect::<Vec<_>>(),
                        page.more,
                        page.next_cursor,
                    )),
                    _ => None,
                },
            )?;
            entries.extend(page);
            if !more || next <= cursor {
                return Ok(entries);
            }
            cursor = next;
        }
    }

    /// EXPORTS, all pages.
    pub fn exports(&mut self, handle: u64) -> Result<Vec<Export>, Error> {
        let mut exports = Vec::new();
        let mut cursor = 0;
        loop {
            let (page, more, next) =
                self.call_with(&Request::Exports { handle, cursor }, |body| match body {
                    ReplyBody::Exports(page) => Some((
                        page.entries()
                            .map(|e| Export {
                                name: e.name.to_string(),
                                kind: e.kind,
                                params: e.params.iter().collect(),
                                results: e.results.iter().collect(),
                            })
                            .collect::<Vec<_>>(),
                        page.more,
                        page.next_cursor,
                    )),
                    _ => None,
                })?;
            exports.extend(page);
            if !more || next <= cursor {
                return Ok(exports);
            }
            cursor = next;
        }
    }

    /// STATS.
    pub fn stats(&mut self) -> Result<Stats, Error> {
        self.call_with(&Request::Stats, |body| match body {
            ReplyBody::Stats(s) => Some(s),
            _ => None,
        })
    }
}
