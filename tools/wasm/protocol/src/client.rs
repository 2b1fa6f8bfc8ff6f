// SPDX-License-Identifier: GPL-2.0

//! The client's half of the protocol: request encoding and reply decoding, which the driver
//! never does, and the helpers clients print with.

use crate::protocol::*;

/// Values encoded for a request: what the [`ValueList`] of an INVOKE borrows when a client
/// builds one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values {
    bytes: Vec<u8>,
}

impl Values {
    /// Encodes `values`.
    pub fn new(values: &[Value]) -> Self {
        Self {
            bytes: values.iter().flat_map(|v| v.to_bytes()).collect(),
        }
    }

    /// The values as a list to put in a [`Request::Invoke`].
    pub fn list(&self) -> ValueList<'_> {
        ValueList { bytes: &self.bytes }
    }
}

impl TrapCode {
    /// The trap code with code `code`, if any.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The trap's message, as the WebAssembly testsuite spells it.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::MemoryOutOfBounds => "out of bounds memory access",
            Self::TableOutOfBounds => "out of bounds table access",
            Self::UninitializedElement => "uninitialized element",
            Self::IndirectCallTypeMismatch => "indirect call type mismatch",
            Self::UndefinedElement => "undefined element",
            Self::IntegerDivideByZero => "integer divide by zero",
            Self::IntegerOverflow => "integer overflow",
            Self::InvalidConversionToInteger => "invalid conversion to integer",
            Self::CallStackExhausted | Self::ValueStackExhausted => "call stack exhausted",
            Self::OutOfFuel => "out of fuel",
            Self::Interrupted => "interrupted",
            Self::Host => "host function failed",
            Self::Internal => "internal engine error",
            Self::Exit => "exit",
        }
    }
}

impl NfHook {
    /// The hook's name, as `wasmctl attach --netfilter` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::PreRouting => "pre_routing",
            Self::LocalIn => "local_in",
            Self::Forward => "forward",
            Self::LocalOut => "local_out",
            Self::PostRouting => "post_routing",
        }
    }
}

impl Tracepoint {
    /// The tracepoint's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::SchedProcessExec => "sched_process_exec",
            Self::SchedProcessFork => "sched_process_fork",
            Self::SchedProcessExit => "sched_process_exit",
        }
    }
}

impl AttachStats {
    fn decode(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        let source = AttachSource::decode(r)?;
        Ok(Self {
            source,
            events: r.u64()?,
            busy: r.u64()?,
            traps: r.u64()?,
            out_of_fuel: r.u64()?,
            emitted: r.u64()?,
            emit_dropped: r.u64()?,
            total_ns: r.u64()?,
            max_ns: r.u64()?,
            fuel: r.u64()?,
        })
    }
}

impl Request<'_> {
    /// The request's command.
    pub fn command(&self) -> Command {
        match self {
            Self::Version => Command::Version,
            Self::LoadBegin { .. } => Command::LoadBegin,
            Self::LoadChunk { .. } => Command::LoadChunk,
            Self::LoadEnd { .. } => Command::LoadEnd,
            Self::Instantiate { .. } => Command::Instantiate,
            Self::Invoke { .. } => Command::Invoke,
            Self::Unload { .. } => Command::Unload,
            Self::List { .. } => Command::List,
            Self::Stats => Command::Stats,
            Self::Exports { .. } => Command::Exports,
            Self::Register { .. } => Command::Register,
            Self::Get { .. } => Command::Get,
            Self::Transient { .. } => Command::Transient,
            Self::Args { .. } => Command::Args,
            Self::Attach { .. } => Command::Attach,
            Self::AttachInfo { .. } => Command::AttachInfo,
        }
    }

    /// Encodes the request into `buf`, returning the payload's length.
    ///
    /// Fails with [`ProtoError::BufferTooSmall`] if it does not fit, and on values the
    /// decoder would refuse (names too long, too many values, empty or oversized chunks).
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, ProtoError> {
        let mut w = Writer::new(buf);
        w.u32(MAGIC)?;
        w.u16(PROTOCOL_VERSION)?;
        w.u16(self.command().code())?;
        match *self {
            Self::Version | Self::Stats => {}
            Self::LoadBegin { total_size, name } => {
                if name.chars().any(char::is_control) {
                    return Err(ProtoError::InvalidField("module"));
                }
                if total_size > MAX_MODULE_LEN {
                    return Err(ProtoError::TooLarge("module"));
                }
                w.u32(total_size)?;
                w.u16(name_len(name)?)?;
                w.put(name.as_bytes())?;
            }
            Self::LoadChunk {
                handle,
                offset,
                data,
            } => {
                if data.is_empty() {
                    return Err(ProtoError::InvalidField("chunk length"));
                }
                if data.len() > MAX_CHUNK_LEN {
                    return Err(ProtoError::TooLarge("chunk"));
                }
                w.u64(handle)?;
                w.u32(offset)?;
                w.u32(u32::try_from(data.len()).map_err(|_| ProtoError::TooLarge("chunk"))?)?;
                w.put(data)?;
            }
            Self::LoadEnd { handle } => w.u64(handle)?,
            Self::Instantiate {
                module,
                fuel,
                max_memory_pages,
                link,
            } => {
                check_link_limits(fuel, max_memory_pages, link)?;
                w.u64(module)?;
                w.u64(fuel)?;
                w.u32(max_memory_pages)?;
                w.u64(link)?;
            }
            Self::Invoke {
                instance,
                name,
                args,
            } => {
                w.u64(instance)?;
                w.u16(name_len(name)?)?;
                w.u16(value_count(args.len())?)?;
                w.put(name.as_bytes())?;
                for value in args.iter() {
                    w.put(&value.to_bytes())?;
                }
            }
            Self::Unload { handle, cascade } => {
                w.u64(handle)?;
                w.u32(if cascade { UNLOAD_CASCADE } else { 0 })?;
            }
            Self::List {
                cursor,
                max_entries,
            } => {
                w.u64(cursor)?;
                w.u16(max_entries)?;
            }
            Self::Exports { handle, cursor } => {
                w.u64(handle)?;
                w.u64(cursor)?;
            }
            Self::Register { instance, name } | Self::Get { instance, name } => {
                w.u64(instance)?;
                w.u16(name_len(name)?)?;
                w.put(name.as_bytes())?;
            }
            Self::Transient { handle } => w.u64(handle)?,
            Self::Args {
                instance,
                args,
                env,
            } => {
                check_list(args, "arguments")?;
                check_list(env, "environment")?;
                w.u64(instance)?;
                w.u32(list_len(args)?)?;
                w.u32(list_len(env)?)?;
                w.put(args)?;
                w.put(env)?;
            }
            Self::Attach {
                module,
                source,
                fuel,
                handler,
            } => {
                w.u64(module)?;
                w.u64(fuel)?;
                w.put(&source.encode())?;
                w.u16(name_len(handler)?)?;
                w.u16(0)?;
                w.put(handler.as_bytes())?;
            }
            Self::AttachInfo { handle } => w.u64(handle)?,
        }
        Ok(w.pos)
    }
}

impl VersionInfo {
    /// Whether the sender may use the privileged commands.
    pub fn privileged(&self) -> bool {
        self.flags & VERSION_FLAG_PRIVILEGED != 0
    }
}

impl HandleKind {
    /// The kind with code `code`, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        [Self::Upload, Self::Module, Self::Instance, Self::Attachment]
            .into_iter()
            .find(|k| k.code() == code)
    }

    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Module => "module",
            Self::Instance => "instance",
            Self::Attachment => "attachment",
        }
    }
}

impl<'a> ListEntry<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, ProtoError> {
        let handle = r.u64()?;
        let parent = r.u64()?;
        let calls = r.u64()?;
        let fuel_used = r.u64()?;
        let size = r.u32()?;
        let exports = r.u32()?;
        let memory_pages = r.u32()?;
        let kind = HandleKind::from_code(r.u8()?).ok_or(ProtoError::InvalidField("kind"))?;
        if r.u8()? != 0 {
            return Err(ProtoError::InvalidField("list entry padding"));
        }
        let name_len = r.u16()?;
        let name = r.name(name_len)?;
        Ok(Self {
            handle,
            kind,
            parent,
            calls,
            fuel_used,
            size,
            exports,
            memory_pages,
            name,
        })
    }
}

impl Stats {
    fn decode(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        Ok(Self {
            modules: r.u64()?,
            instances: r.u64()?,
            uploads: r.u64()?,
            module_bytes: r.u64()?,
            memory_pages: r.u64()?,
            loads: r.u64()?,
            load_failures: r.u64()?,
            instantiations: r.u64()?,
            invocations: r.u64()?,
            traps: r.u64()?,
            fuel_used: r.u64()?,
            denied: r.u64()?,
            kernel_bytes: r.u64()?,
        })
    }
}

impl ExportKind {
    /// The kind with code `code` (the export kind byte of the binary format), if any.
    pub fn from_code(code: u8) -> Option<Self> {
        [Self::Func, Self::Table, Self::Memory, Self::Global]
            .into_iter()
            .find(|k| k.code() == code)
    }

    /// The kind's name in the WebAssembly text format.
    pub fn name(self) -> &'static str {
        match self {
            Self::Func => "func",
            Self::Table => "table",
            Self::Memory => "memory",
            Self::Global => "global",
        }
    }
}

impl ReplyWriter<'_> {
    /// The status the reply will carry.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Changes the status, dropping any body and message written so far: for a failure
    /// discovered after the body was started.
    pub fn set_status(&mut self, status: Status) {
        self.status = status;
        self.body_len = 0;
        self.message_len = 0;
        self.page = None;
    }

    /// The body of an EVENT message.
    pub fn event(&mut self, handle: u64, seq: u64, record: &[u8]) -> Result<(), ProtoError> {
        if record.len() > MAX_EVENT_RECORD {
            return Err(ProtoError::TooLarge("event record"));
        }
        self.body(&handle.to_le_bytes())?;
        self.body(&seq.to_le_bytes())?;
        self.body(record)
    }

    /// The body of an OUTPUT message: at most [`MAX_OUTPUT_CHUNK`] bytes written to `fd`.
    pub fn output(&mut self, fd: u32, data: &[u8]) -> Result<(), ProtoError> {
        if data.len() > MAX_OUTPUT_CHUNK {
            return Err(ProtoError::TooLarge("output"));
        }
        self.body(&fd.to_le_bytes())?;
        self.body(data)
    }
}

fn list_len(list: &[u8]) -> Result<u32, ProtoError> {
    u32::try_from(list.len()).map_err(|_| ProtoError::TooLarge("argument list"))
}

/// A decoded list of value types, one [`ValType`] code per byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeList<'a> {
    /// Known to be valid codes.
    bytes: &'a [u8],
}

impl<'a> TypeList<'a> {
    fn decode(bytes: &'a [u8]) -> Result<Self, ProtoError> {
        if bytes.iter().any(|&b| ValType::from_code(b).is_none()) {
            return Err(ProtoError::InvalidField("value type"));
        }
        Ok(Self { bytes })
    }

    /// The number of types.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are no types.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The types, in order.
    pub fn iter(&self) -> impl Iterator<Item = ValType> + 'a {
        self.bytes.iter().filter_map(|&b| ValType::from_code(b))
    }
}

/// One entry of an EXPORTS reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportEntry<'a> {
    /// What is exported.
    pub kind: ExportKind,
    /// The export's name.
    pub name: &'a str,
    /// A function's parameter types (empty for the other kinds).
    pub params: TypeList<'a>,
    /// A function's result types (empty for the other kinds).
    pub results: TypeList<'a>,
}

impl<'a> ExportEntry<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, ProtoError> {
        let kind = ExportKind::from_code(r.u8()?).ok_or(ProtoError::InvalidField("kind"))?;
        if r.u8()? != 0 {
            return Err(ProtoError::InvalidField("export entry padding"));
        }
        let name_len = r.u16()?;
        let params = usize::from(r.u16()?);
        let results = usize::from(r.u16()?);
        if params > MAX_VALUES || results > MAX_VALUES {
            return Err(ProtoError::TooLarge("value count"));
        }
        if kind != ExportKind::Func && (params != 0 || results != 0) {
            return Err(ProtoError::InvalidField("export types"));
        }
        let name = r.name(name_len)?;
        Ok(Self {
            kind,
            name,
            params: TypeList::decode(r.take(params)?)?,
            results: TypeList::decode(r.take(results)?)?,
        })
    }
}

/// The body of a successful paged reply: one page of entries, [`ListPage`] for LIST (in
/// increasing order of handle) and [`ExportPage`] for EXPORTS (in the module's order).
#[derive(Clone, Copy)]
pub struct Page<'a, E> {
    /// The cursor for the next page: LIST's is the last entry's handle (the request's cursor
    /// when there are no entries), EXPORTS' the index of the first export not in this page.
    pub next_cursor: u64,
    /// Whether entries were left out of this page.
    pub more: bool,
    count: u16,
    entries: &'a [u8],
    entry: DecodeEntry<'a, E>,
}

/// How a page's entries are decoded.
type DecodeEntry<'a, E> = fn(&mut Reader<'a>) -> Result<E, ProtoError>;

/// The body of a successful LIST reply.
pub type ListPage<'a> = Page<'a, ListEntry<'a>>;

/// The body of a successful EXPORTS reply.
pub type ExportPage<'a> = Page<'a, ExportEntry<'a>>;

impl<'a, E> Page<'a, E> {
    /// The number of entries.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the page has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries, in the reply's order.
    pub fn entries(&self) -> Entries<'a, E> {
        Entries {
            r: Reader::new(self.entries),
            entry: self.entry,
        }
    }

    /// Decodes a page header and checks its entries with `entry`.
    fn decode(r: &mut Reader<'a>, entry: DecodeEntry<'a, E>) -> Result<Self, ProtoError> {
        let next_cursor = r.u64()?;
        let count = r.u16()?;
        let flags = r.u16()?;
        if flags & !LIST_MORE != 0 {
            return Err(ProtoError::InvalidField("list flags"));
        }
        let entries = r.rest();
        let mut check = Reader::new(entries);
        for _ in 0..count {
            entry(&mut check)?;
        }
        check.finish()?;
        r.skip_rest();
        Ok(Self {
            next_cursor,
            more: flags & LIST_MORE != 0,
            count,
            entries,
            entry,
        })
    }
}

// By hand: the decoder is a function pointer, which is neither shown nor compared.
impl<E> core::fmt::Debug for Page<'_, E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Page")
            .field("next_cursor", &self.next_cursor)
            .field("more", &self.more)
            .field("count", &self.count)
            .field("entries", &self.entries)
            .finish()
    }
}

impl<E> PartialEq for Page<'_, E> {
    fn eq(&self, other: &Self) -> bool {
        (self.next_cursor, self.more, self.count, self.entries)
            == (other.next_cursor, other.more, other.count, other.entries)
    }
}

impl<E> Eq for Page<'_, E> {}

/// The iterator of a [`Page`]'s entries.
#[derive(Clone)]
pub struct Entries<'a, E> {
    r: Reader<'a>,
    entry: DecodeEntry<'a, E>,
}

impl<'a, E> Iterator for Entries<'a, E> {
    type Item = E;

    fn next(&mut self) -> Option<E> {
        // Checked when the page was decoded.
        (self.entry)(&mut self.r).ok()
    }
}

/// The body of a reply, by command (successful replies) or by status (failed ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyBody<'a> {
    /// No body: UNLOAD, REGISTER, and the failures other than those below.
    Empty,
    /// VERSION.
    Version(VersionInfo),
    /// LOAD_BEGIN: the upload's handle.
    Upload {
        /// The handle, which the module keeps after LOAD_END.
        handle: u64,
    },
    /// LOAD_CHUNK: how many bytes the upload has received.
    Received {
        /// Bytes received so far.
        bytes: u32,
    },
    /// LOAD_END.
    Module(ModuleInfo),
    /// INSTANTIATE.
    Instance(InstanceInfo),
    /// INVOKE: the results.
    Results {
        /// Fuel the invocation consumed; 0 when not metered.
        fuel_used: u64,
        /// The results, in order.
        values: ValueList<'a>,
    },
    /// LIST.
    List(ListPage<'a>),
    /// STATS.
    Stats(Stats),
    /// EXPORTS.
    Exports(ExportPage<'a>),
    /// GET: the global's value.
    Global(Value),
    /// [`Status::InvalidModule`]: where the module is invalid.
    InvalidModule {
        /// The byte offset in the module.
        offset: u64,
    },
    /// [`Status::Trap`].
    Trap(TrapInfo),
    /// ATTACH_INFO.
    AttachInfo(AttachStats),
    /// EVENT: a record an attached program emitted.
    Event {
        /// The attachment's handle.
        handle: u64,
        /// The record's number, from 1, per attachment: a gap means records were lost.
        seq: u64,
        /// The record.
        record: &'a [u8],
    },
    /// OUTPUT: bytes a running program wrote.
    Output {
        /// The file descriptor: 1 for standard output, 2 for standard error.
        fd: u32,
        /// The bytes.
        data: &'a [u8],
    },
}

/// A decoded reply, borrowing the payload it was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The request's command code, echoed (0 if the request was unreadable).
    pub command: u16,
    /// The outcome.
    pub status: Status,
    /// The body, decoded according to the command or the status.
    pub body: ReplyBody<'a>,
    /// A message for humans (may be empty).
    pub message: &'a str,
}

impl<'a> Reply<'a> {
    /// Decodes a reply payload (the bytes after the `cn_msg` header).
    ///
    /// A reply of another protocol version fails with [`ProtoError::UnsupportedVersion`]
    /// holding the peer's version, whatever its status.
    pub fn decode(payload: &'a [u8]) -> Result<Self, ProtoError> {
        let mut r = Reader::new(payload);
        if r.u32()? != MAGIC {
            return Err(ProtoError::BadMagic);
        }
        let version = r.u16()?;
        if version != PROTOCOL_VERSION {
            return Err(ProtoError::UnsupportedVersion(version));
        }
        let command = r.u16()?;
        let status_code = r.u16()?;
        let status =
            Status::from_code(status_code).ok_or(ProtoError::UnknownStatus(status_code))?;
        let message_len = usize::from(r.u16()?);
        let body_len = usize::try_from(r.u32()?).map_err(|_| ProtoError::Truncated)?;
        let mut b = Reader::new(r.take(body_len)?);
        let message = core::str::from_utf8(r.take(message_len)?)
            .map_err(|_| ProtoError::InvalidField("message"))?;
        r.finish()?;

        let body = match status {
            Status::Ok => {
                let command =
                    Command::from_code(command).ok_or(ProtoError::UnknownCommand(command))?;
                decode_ok_body(command, &mut b)?
            }
            Status::InvalidModule => ReplyBody::InvalidModule { offset: b.u64()? },
            Status::Trap => {
                let code = b.u16()?;
                let code = TrapCode::from_code(code).ok_or(ProtoError::InvalidField("trap"))?;
                let known = |v: u32| (v != UNKNOWN_INDEX).then_some(v);
                ReplyBody::Trap(TrapInfo {
                    code,
                    func: known(b.u32()?),
                    offset: known(b.u32()?),
                    host_code: b.u32()? as i32,
                })
            }
            _ => ReplyBody::Empty,
        };
        b.finish()?;
        Ok(Self {
            command,
            status,
            body,
            message,
        })
    }
}

fn decode_ok_body<'a>(command: Command, r: &mut Reader<'a>) -> Result<ReplyBody<'a>, ProtoError> {
    Ok(match command {
        Command::Version => ReplyBody::Version(VersionInfo {
            driver: [r.u16()?, r.u16()?, r.u16()?],
            flags: r.u16()?,
            max_module_len: r.u32()?,
            max_chunk_len: r.u32()?,
            max_memory_pages: r.u32()?,
            default_fuel: r.u64()?,
            max_fuel: r.u64()?,
        }),
        Command::LoadBegin => ReplyBody::Upload { handle: r.u64()? },
        Command::LoadChunk => ReplyBody::Received { bytes: r.u32()? },
        Command::LoadEnd => ReplyBody::Module(ModuleInfo {
            handle: r.u64()?,
            size: r.u32()?,
            imports: r.u32()?,
            exports: r.u32()?,
        }),
        Command::Instantiate => ReplyBody::Instance(InstanceInfo {
            handle: r.u64()?,
            module: r.u64()?,
            memory_pages: r.u32()?,
        }),
        Command::Invoke => {
            let fuel_used = r.u64()?;
            let count = usize::from(r.u16()?);
            let values = ValueList::decode(r.rest(), count)?;
            r.skip_rest();
            ReplyBody::Results { fuel_used, values }
        }
        Command::Unload => ReplyBody::Empty,
        Command::List => ReplyBody::List(Page::decode(r, ListEntry::decode)?),
        Command::Stats => ReplyBody::Stats(Stats::decode(r)?),
        Command::Exports => ReplyBody::Exports(Page::decode(r, ExportEntry::decode)?),
        Command::Register | Command::Transient | Command::Args => ReplyBody::Empty,
        Command::Attach => ReplyBody::Instance(InstanceInfo {
            handle: r.u64()?,
            module: r.u64()?,
            memory_pages: r.u32()?,
        }),
        Command::AttachInfo => ReplyBody::AttachInfo(AttachStats::decode(r)?),
        Command::Event => {
            let handle = r.u64()?;
            let seq = r.u64()?;
            let record = r.rest();
            r.skip_rest();
            if record.len() > MAX_EVENT_RECORD {
                return Err(ProtoError::TooLarge("event record"));
            }
            ReplyBody::Event {
                handle,
                seq,
                record,
            }
        }
        Command::Output => {
            let fd = r.u32()?;
            let data = r.rest();
            r.skip_rest();
            ReplyBody::Output { fd, data }
        }
        Command::Get => ReplyBody::Global(Value::from_bytes(r.take(VALUE_LEN)?)?),
    })
}
