// SPDX-License-Identifier: GPL-2.0

//! The wasm connector protocol, shared by the kernel driver and its userspace tools.
//!
//! Userspace drives the WebAssembly runtime with messages on the netlink Connector, sent to
//! [`CONNECTOR_IDX`]/[`CONNECTOR_VAL`]. Every request gets exactly one reply with the request's
//! `cn_msg` sequence number and `ack = seq + 1`. This file is the single definition of what the
//! messages' payloads hold; `Documentation/wasm/protocol.rst` describes it in prose.
//!
//! The kernel driver builds this file as a module of its crate; `tools/wasm/protocol` builds it
//! as the crate `wasm_protocol`. It uses `core` only: requests and replies are encoded into
//! caller-provided buffers and decoded into views that borrow the received bytes. Decoding
//! checks every length and field and never panics; encoding never writes past its buffer.
//!
//! # Layout
//!
//! All integers are little-endian, at fixed offsets, without padding. A request payload is a
//! [`REQUEST_HEADER_LEN`]-byte header (magic, [`PROTOCOL_VERSION`], [`Command`]) and the
//! command's body. A reply payload is a [`REPLY_HEADER_LEN`]-byte header (magic, version,
//! command, [`Status`], message length, body length), the body, and a UTF-8 message for
//! humans. Payloads must be exactly as long as their layout says; anything else is malformed.
//!
//! # Examples
//!
//! A client encodes a request, the driver decodes it and writes the reply, the client decodes
//! that:
//!
//! ```
//! # use wasm_protocol as protocol;
//! use protocol::{Command, Reply, ReplyBody, ReplyWriter, Request, MAX_PAYLOAD_LEN};
//!
//! let mut request = [0u8; MAX_PAYLOAD_LEN];
//! let len = Request::LoadEnd { handle: 7 }.encode(&mut request)?;
//!
//! // In the driver:
//! let mut reply = [0u8; MAX_PAYLOAD_LEN];
//! let req = Request::decode(&request[..len])?;
//! assert_eq!(req, Request::LoadEnd { handle: 7 });
//! let mut w = ReplyWriter::ok(&mut reply, req.command())?;
//! w.module(&protocol::ModuleInfo { handle: 7, size: 41, imports: 0, exports: 1 })?;
//! w.message("module validated");
//! let bytes = w.finish()?;
//!
//! // Back in userspace:
//! let reply = Reply::decode(bytes)?;
//! assert!(reply.status.is_ok());
//! assert_eq!(reply.message, "module validated");
//! assert!(matches!(reply.body, ReplyBody::Module(m) if m.exports == 1));
//! # Ok::<(), protocol::ProtoError>(())
//! ```

use core::fmt;

/// The version of the protocol this file defines. Any change to a layout or a code bumps it;
/// peers of different versions refuse each other's messages (see [`Status::UnsupportedVersion`]).
pub const PROTOCOL_VERSION: u16 = 3;

/// The first four bytes of every request and reply: `"WASM"`.
pub const MAGIC: u32 = u32::from_le_bytes(*b"WASM");

/// `CN_NETLINK_USERS`: the first connector index free for users outside `connector.h`.
pub const CN_NETLINK_USERS: u32 = 11;

/// The connector index of the runtime (`cb_id.idx`): `CN_NETLINK_USERS + 4`.
pub const CONNECTOR_IDX: u32 = CN_NETLINK_USERS + 4;

/// The connector value of the runtime (`cb_id.val`).
pub const CONNECTOR_VAL: u32 = 1;

/// The size of `struct cn_msg`, the connector's header in front of every payload.
pub const CN_MSG_HEADER_LEN: usize = 20;

/// The largest connector message, header included (`CONNECTOR_MAX_MSG_SIZE`). The connector
/// silently drops longer ones.
pub const CONNECTOR_MAX_MSG_SIZE: usize = 16384;

/// The largest payload of a request or a reply: 16364 bytes.
pub const MAX_PAYLOAD_LEN: usize = CONNECTOR_MAX_MSG_SIZE - CN_MSG_HEADER_LEN;

/// The size of a request's header: magic, version, command.
pub const REQUEST_HEADER_LEN: usize = 8;

/// The size of a reply's header: magic, version, command, status, message and body lengths.
pub const REPLY_HEADER_LEN: usize = 16;

/// The largest number of module bytes in one [`Request::LoadChunk`]: 15 KiB.
pub const MAX_CHUNK_LEN: usize = 15 * 1024;

/// The size of an OUTPUT message's header: the reply header and the file descriptor.
pub const OUTPUT_HEADER_LEN: usize = REPLY_HEADER_LEN + 4;

/// The most bytes of program output in one OUTPUT message: 16 344.
pub const MAX_OUTPUT_CHUNK: usize = MAX_PAYLOAD_LEN - OUTPUT_HEADER_LEN;

/// The largest module the protocol can carry (64 MiB). The driver may accept less: it says
/// how much in [`VersionInfo::max_module_len`].
pub const MAX_MODULE_LEN: u32 = 64 << 20;

/// The longest module, export or import name, in bytes of UTF-8. WebAssembly itself does not
/// limit names; the longest of its specification testsuite has 257 bytes.
pub const MAX_NAME_LEN: usize = 1024;

/// The most arguments or results of one invocation (WebAssembly's own limit on parameters).
pub const MAX_VALUES: usize = 1000;

/// The size of one encoded [`Value`]: a type byte and eight bytes of bits.
pub const VALUE_LEN: usize = 9;

/// The bits of a null reference in an encoded [`Value`].
pub const NULL_REF: u64 = u64::MAX;

/// A trap's function index or code offset that is not known.
pub const UNKNOWN_INDEX: u32 = u32::MAX;

/// [`VersionInfo::flags`]: the sender of the VERSION request may use the privileged commands.
pub const VERSION_FLAG_PRIVILEGED: u16 = 1;

/// The size of the fixed part of a [`ListEntry`], before its name.
pub const LIST_ENTRY_HEADER_LEN: usize = 48;

pub(crate) const CHUNK_HEADER_LEN: usize = 16;
pub(crate) const INVOKE_HEADER_LEN: usize = 12;
pub(crate) const RESULTS_HEADER_LEN: usize = 10;
pub(crate) const LIST_HEADER_LEN: usize = 12;
pub(crate) const EXPORT_ENTRY_HEADER_LEN: usize = 8;
pub(crate) const VERSION_BODY_LEN: usize = 36;
pub(crate) const MODULE_BODY_LEN: usize = 20;
pub(crate) const INSTANCE_BODY_LEN: usize = 20;
pub(crate) const STATS_BODY_LEN: usize = 104;
pub(crate) const TRAP_BODY_LEN: usize = 14;
pub(crate) const UNLOAD_CASCADE: u32 = 1;
pub(crate) const LIST_MORE: u16 = 1;
pub(crate) const ATTACH_SOURCE_LEN: usize = 12;

// Every request and reply of the largest kind fits in one connector message.
const _: () = assert!(REQUEST_HEADER_LEN + CHUNK_HEADER_LEN + MAX_CHUNK_LEN <= MAX_PAYLOAD_LEN);
const _: () = assert!(
    REQUEST_HEADER_LEN + INVOKE_HEADER_LEN + MAX_NAME_LEN + MAX_VALUES * VALUE_LEN
        <= MAX_PAYLOAD_LEN
);
const _: () =
    assert!(REPLY_HEADER_LEN + RESULTS_HEADER_LEN + MAX_VALUES * VALUE_LEN <= MAX_PAYLOAD_LEN);
const _: () = assert!(
    REPLY_HEADER_LEN + LIST_HEADER_LEN + LIST_ENTRY_HEADER_LEN + MAX_NAME_LEN <= MAX_PAYLOAD_LEN
);
const _: () = assert!(
    REPLY_HEADER_LEN + LIST_HEADER_LEN + EXPORT_ENTRY_HEADER_LEN + MAX_NAME_LEN + 2 * MAX_VALUES
        <= MAX_PAYLOAD_LEN
);

/// Why a message could not be decoded or encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoError {
    /// The message ends before its layout does.
    Truncated,
    /// The message goes on after its layout ends.
    TrailingBytes,
    /// The message does not start with [`MAGIC`].
    BadMagic,
    /// The message is of another protocol version, given.
    UnsupportedVersion(u16),
    /// The request's command code, given, is unknown.
    UnknownCommand(u16),
    /// The reply's status code, given, is unknown.
    UnknownStatus(u16),
    /// A field, named, holds a value the protocol does not allow.
    InvalidField(&'static str),
    /// A size, named, exceeds the protocol's limit.
    TooLarge(&'static str),
    /// The buffer to encode into is too small.
    BufferTooSmall,
}

impl ProtoError {
    /// The status the driver replies with when it cannot decode a request for this reason.
    pub fn status(&self) -> Status {
        match self {
            Self::UnsupportedVersion(_) => Status::UnsupportedVersion,
            Self::UnknownCommand(_) => Status::UnknownCommand,
            Self::TooLarge(_) => Status::LimitExceeded,
            Self::BufferTooSmall => Status::Internal,
            Self::Truncated
            | Self::TrailingBytes
            | Self::BadMagic
            | Self::UnknownStatus(_)
            | Self::InvalidField(_) => Status::MalformedRequest,
        }
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("message truncated"),
            Self::TrailingBytes => f.write_str("trailing bytes after the message"),
            Self::BadMagic => f.write_str("not a wasm protocol message (bad magic)"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "protocol version {v} is not supported (this side speaks {PROTOCOL_VERSION})"
            ),
            Self::UnknownCommand(c) => write!(f, "unknown command {c}"),
            Self::UnknownStatus(s) => write!(f, "unknown status {s}"),
            Self::InvalidField(name) => write!(f, "invalid {name}"),
            Self::TooLarge(name) => write!(f, "{name} too large"),
            Self::BufferTooSmall => f.write_str("buffer too small"),
        }
    }
}

/// A request's command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Command {
    /// The protocol and driver versions and limits.
    Version = 1,
    /// Starts uploading a module.
    LoadBegin = 2,
    /// Uploads a piece of a module.
    LoadChunk = 3,
    /// Ends an upload: the driver validates the module.
    LoadEnd = 4,
    /// Instantiates a module.
    Instantiate = 5,
    /// Calls an exported function of an instance.
    Invoke = 6,
    /// Drops an upload, a module or an instance.
    Unload = 7,
    /// Lists uploads, modules and instances.
    List = 8,
    /// Counters of the driver.
    Stats = 9,
    /// Lists a module's or an instance's exports and their types.
    Exports = 10,
    /// Makes an instance's exports importable by the instances of its link group.
    Register = 11,
    /// Reads the value of an exported global of an instance.
    Get = 12,
    /// Ties a handle to the sender's socket: it is unloaded when the socket closes.
    Transient = 13,
    /// The output of a running program (WASI's standard output and error). Never a request:
    /// the driver sends it to the client whose INVOKE runs the program, with the INVOKE's
    /// sequence number, before the INVOKE's reply.
    Output = 14,
    /// Sets the arguments and environment that WASI programs of an instance see.
    Args = 15,
    /// A record a program attached to a kernel event emitted. Never a request: the driver
    /// multicasts it to the connector group [`CONNECTOR_IDX`].
    Event = 16,
    /// Attaches a module's handler to a kernel event source (netfilter, a tracepoint).
    Attach = 17,
    /// The counters of an attachment.
    AttachInfo = 18,
}

impl Command {
    /// Every command, in code order.
    pub const ALL: [Command; 18] = [
        Self::Version,
        Self::LoadBegin,
        Self::LoadChunk,
        Self::LoadEnd,
        Self::Instantiate,
        Self::Invoke,
        Self::Unload,
        Self::List,
        Self::Stats,
        Self::Exports,
        Self::Register,
        Self::Get,
        Self::Transient,
        Self::Output,
        Self::Args,
        Self::Event,
        Self::Attach,
        Self::AttachInfo,
    ];

    /// The command with code `code`, if any.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The command's code on the wire.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Whether the sender needs `CAP_SYS_ADMIN` in the initial user namespace. Every command
    /// but [`Command::Version`] does: even the counters of [`Command::Stats`] would tell
    /// others about the privileged users' programs.
    pub fn needs_privilege(self) -> bool {
        !matches!(self, Self::Version)
    }

    /// The command's name, as the documentation spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Version => "VERSION",
            Self::LoadBegin => "LOAD_BEGIN",
            Self::LoadChunk => "LOAD_CHUNK",
            Self::LoadEnd => "LOAD_END",
            Self::Instantiate => "INSTANTIATE",
            Self::Invoke => "INVOKE",
            Self::Unload => "UNLOAD",
            Self::List => "LIST",
            Self::Stats => "STATS",
            Self::Exports => "EXPORTS",
            Self::Register => "REGISTER",
            Self::Get => "GET",
            Self::Transient => "TRANSIENT",
            Self::Output => "OUTPUT",
            Self::Args => "ARGS",
            Self::Event => "EVENT",
            Self::Attach => "ATTACH",
            Self::AttachInfo => "ATTACH_INFO",
        }
    }
}

/// The outcome of a request, the first thing a reply says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// The sender lacks `CAP_SYS_ADMIN` in the initial user namespace.
    PermissionDenied = 1,
    /// No upload, module or instance has the handle.
    NoSuchHandle = 2,
    /// The module failed to decode or validate; the body holds the byte offset.
    InvalidModule = 3,
    /// Execution trapped; the body says how and where.
    Trap = 4,
    /// A size or count is over a limit of the protocol or the driver.
    LimitExceeded = 5,
    /// The request does not follow the protocol.
    MalformedRequest = 6,
    /// The handle is in use (a module with instances) or the driver is busy.
    Busy = 7,
    /// The driver ran out of memory.
    OutOfMemory = 8,
    /// The request is of another protocol version; the reply header has the driver's.
    UnsupportedVersion = 9,
    /// The command code is unknown.
    UnknownCommand = 10,
    /// The module's imports cannot be satisfied.
    LinkError = 11,
    /// The instance has no export of that name and kind: a function for [`Command::Invoke`],
    /// a global for [`Command::Get`].
    NoSuchExport = 12,
    /// The arguments do not match the function's parameters.
    SignatureMismatch = 13,
    /// The module uses a feature the engine does not support.
    Unsupported = 14,
    /// The handle is of the wrong kind for the command (e.g. a module where an instance is
    /// needed).
    WrongHandleKind = 15,
    /// Anything else; the message says what.
    Internal = 16,
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 17] = [
        Self::Ok,
        Self::PermissionDenied,
        Self::NoSuchHandle,
        Self::InvalidModule,
        Self::Trap,
        Self::LimitExceeded,
        Self::MalformedRequest,
        Self::Busy,
        Self::OutOfMemory,
        Self::UnsupportedVersion,
        Self::UnknownCommand,
        Self::LinkError,
        Self::NoSuchExport,
        Self::SignatureMismatch,
        Self::Unsupported,
        Self::WrongHandleKind,
        Self::Internal,
    ];

    /// The status with code `code`, if any.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The status's code on the wire.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Whether this is [`Status::Ok`].
    pub fn is_ok(self) -> bool {
        self == Self::Ok
    }

    /// A short description.
    pub fn description(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::PermissionDenied => "permission denied",
            Self::NoSuchHandle => "no such handle",
            Self::InvalidModule => "invalid module",
            Self::Trap => "trap",
            Self::LimitExceeded => "limit exceeded",
            Self::MalformedRequest => "malformed request",
            Self::Busy => "busy",
            Self::OutOfMemory => "out of memory",
            Self::UnsupportedVersion => "unsupported protocol version",
            Self::UnknownCommand => "unknown command",
            Self::LinkError => "unsatisfied import",
            Self::NoSuchExport => "no such export",
            Self::SignatureMismatch => "signature mismatch",
            Self::Unsupported => "unsupported feature",
            Self::WrongHandleKind => "wrong kind of handle",
            Self::Internal => "internal error",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// What stopped an execution: the engine's trap kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum TrapCode {
    /// `unreachable` was executed.
    Unreachable = 1,
    /// Out of bounds memory access.
    MemoryOutOfBounds = 2,
    /// Out of bounds table access.
    TableOutOfBounds = 3,
    /// `call_indirect` to a null table element.
    UninitializedElement = 4,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch = 5,
    /// `call_indirect` past the end of the table.
    UndefinedElement = 6,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 7,
    /// Integer overflow (division or float truncation).
    IntegerOverflow = 8,
    /// Float-to-integer conversion of a NaN.
    InvalidConversionToInteger = 9,
    /// The call depth limit was reached.
    CallStackExhausted = 10,
    /// The value stack limit was reached.
    ValueStackExhausted = 11,
    /// The invocation's fuel ran out.
    OutOfFuel = 12,
    /// The driver interrupted the execution (e.g. a fatal signal to the caller).
    Interrupted = 13,
    /// A host function failed; [`TrapInfo::host_code`] has its code.
    Host = 14,
    /// The engine stopped on an internal inconsistency.
    Internal = 15,
    /// The program ended itself (WASI's `proc_exit`); [`TrapInfo::host_code`] has its exit
    /// status. Not an error.
    Exit = 16,
}

impl TrapCode {
    /// Every trap code, in code order.
    pub const ALL: [TrapCode; 16] = [
        Self::Unreachable,
        Self::MemoryOutOfBounds,
        Self::TableOutOfBounds,
        Self::UninitializedElement,
        Self::IndirectCallTypeMismatch,
        Self::UndefinedElement,
        Self::IntegerDivideByZero,
        Self::IntegerOverflow,
        Self::InvalidConversionToInteger,
        Self::CallStackExhausted,
        Self::ValueStackExhausted,
        Self::OutOfFuel,
        Self::Interrupted,
        Self::Host,
        Self::Internal,
        Self::Exit,
    ];

    /// The trap code with code `code`, if any.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The code on the wire.
    pub fn code(self) -> u16 {
        self as u16
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

/// A trap: the body of a [`Status::Trap`] reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapInfo {
    /// What went wrong.
    pub code: TrapCode,
    /// The index of the function that trapped, in its module's function index space.
    pub func: Option<u32>,
    /// The byte offset in the module of the instruction that trapped.
    pub offset: Option<u32>,
    /// The host function's code for [`TrapCode::Host`], else 0.
    pub host_code: i32,
}

/// The type of a [`Value`]; its code is the type's byte in the WebAssembly binary format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValType {
    /// `i32`.
    I32 = 0x7f,
    /// `i64`.
    I64 = 0x7e,
    /// `f32`.
    F32 = 0x7d,
    /// `f64`.
    F64 = 0x7c,
    /// `funcref`.
    FuncRef = 0x70,
    /// `externref`.
    ExternRef = 0x6f,
}

impl ValType {
    /// Every type.
    pub const ALL: [ValType; 6] = [
        Self::I32,
        Self::I64,
        Self::F32,
        Self::F64,
        Self::FuncRef,
        Self::ExternRef,
    ];

    /// The type with code `code`, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The code on the wire.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The type's name in the WebAssembly text format.
    pub fn name(self) -> &'static str {
        match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::FuncRef => "funcref",
            Self::ExternRef => "externref",
        }
    }
}

/// A WebAssembly value, an argument or a result. Floats are their exact IEEE 754 bits.
///
/// On the wire: the type's code ([`ValType`]), then eight bytes, the bits zero-extended
/// (`i32` and `f32` as `u32`), a reference's number or [`NULL_REF`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as bits.
    F32(u32),
    /// An `f64`, as bits.
    F64(u64),
    /// A function reference: an opaque number, `None` for null. Requests can only carry null.
    FuncRef(Option<u32>),
    /// An extern reference: an opaque host number, `None` for null.
    ExternRef(Option<u32>),
}

impl Value {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Self::I32(_) => ValType::I32,
            Self::I64(_) => ValType::I64,
            Self::F32(_) => ValType::F32,
            Self::F64(_) => ValType::F64,
            Self::FuncRef(_) => ValType::FuncRef,
            Self::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The value's encoding.
    pub fn to_bytes(self) -> [u8; VALUE_LEN] {
        let reference = |r: Option<u32>| r.map_or(NULL_REF, u64::from);
        let bits = match self {
            Self::I32(v) => u64::from(v as u32),
            Self::I64(v) => v as u64,
            Self::F32(v) => u64::from(v),
            Self::F64(v) => v,
            Self::FuncRef(r) | Self::ExternRef(r) => reference(r),
        };
        let [b0, b1, b2, b3, b4, b5, b6, b7] = bits.to_le_bytes();
        [self.ty().code(), b0, b1, b2, b3, b4, b5, b6, b7]
    }

    /// Decodes one value from exactly [`VALUE_LEN`] bytes.
    ///
    /// Fails on an unknown type, on bits above the 32 of an `i32` or `f32`, and on a reference
    /// that is neither null nor a 32-bit number.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProtoError> {
        let mut r = Reader::new(bytes);
        let ty = ValType::from_code(r.u8()?).ok_or(ProtoError::InvalidField("value type"))?;
        let bits = r.u64()?;
        r.finish()?;
        let narrow = || u32::try_from(bits).map_err(|_| ProtoError::InvalidField("value bits"));
        let reference = || {
            if bits == NULL_REF {
                Ok(None)
            } else {
                narrow().map(Some)
            }
        };
        Ok(match ty {
            ValType::I32 => Self::I32(narrow()? as i32),
            ValType::I64 => Self::I64(bits as i64),
            ValType::F32 => Self::F32(narrow()?),
            ValType::F64 => Self::F64(bits),
            ValType::FuncRef => Self::FuncRef(reference()?),
            ValType::ExternRef => Self::ExternRef(reference()?),
        })
    }
}

/// A list of values: decoded from a message (borrowing its bytes) or to be encoded (borrowing
/// a slice).
#[derive(Clone, Copy, Debug)]
pub struct ValueList<'a> {
    repr: ValueRepr<'a>,
}

#[derive(Clone, Copy, Debug)]
enum ValueRepr<'a> {
    /// Encoded values, known to be valid, a whole number of [`VALUE_LEN`] bytes.
    Encoded(&'a [u8]),
    Slice(&'a [Value]),
}

impl<'a> ValueList<'a> {
    /// A list of the values in `values`.
    pub fn new(values: &'a [Value]) -> Self {
        Self {
            repr: ValueRepr::Slice(values),
        }
    }

    /// Checks `count` encoded values in `bytes`, which must hold exactly that many.
    fn decode(bytes: &'a [u8], count: usize) -> Result<Self, ProtoError> {
        if count > MAX_VALUES {
            return Err(ProtoError::TooLarge("value count"));
        }
        let expected = count
            .checked_mul(VALUE_LEN)
            .ok_or(ProtoError::TooLarge("value count"))?;
        match bytes.len().cmp(&expected) {
            core::cmp::Ordering::Less => return Err(ProtoError::Truncated),
            core::cmp::Ordering::Greater => return Err(ProtoError::TrailingBytes),
            core::cmp::Ordering::Equal => {}
        }
        for chunk in bytes.chunks(VALUE_LEN) {
            Value::from_bytes(chunk)?;
        }
        Ok(Self {
            repr: ValueRepr::Encoded(bytes),
        })
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        match self.repr {
            ValueRepr::Encoded(bytes) => bytes.len() / VALUE_LEN,
            ValueRepr::Slice(values) => values.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values, in order.
    pub fn iter(&self) -> ValueIter<'a> {
        ValueIter { repr: self.repr }
    }
}

impl PartialEq for ValueList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for ValueList<'_> {}

impl<'a> IntoIterator for ValueList<'a> {
    type Item = Value;
    type IntoIter = ValueIter<'a>;

    fn into_iter(self) -> ValueIter<'a> {
        self.iter()
    }
}

/// The iterator of a [`ValueList`].
#[derive(Clone, Debug)]
pub struct ValueIter<'a> {
    repr: ValueRepr<'a>,
}

impl Iterator for ValueIter<'_> {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        match &mut self.repr {
            ValueRepr::Encoded(bytes) => {
                let (first, rest) = bytes.split_at_checked(VALUE_LEN)?;
                *bytes = rest;
                // Checked when the list was decoded.
                Value::from_bytes(first).ok()
            }
            ValueRepr::Slice(values) => {
                let (first, rest) = values.split_first()?;
                *values = rest;
                Some(*first)
            }
        }
    }
}

/// A decoded request, borrowing the payload it was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// Asks for the protocol and driver versions and limits. Empty body.
    Version,
    /// Starts uploading a module of `total_size` bytes; the reply gives the upload's handle,
    /// which becomes the module's handle when [`Request::LoadEnd`] succeeds.
    LoadBegin {
        /// The module's size in bytes, at most [`MAX_MODULE_LEN`]. An empty module has no
        /// chunks; LOAD_END rejects it as invalid, as it does any other malformed module.
        total_size: u32,
        /// A name for listings: at most [`MAX_NAME_LEN`] bytes, no control characters.
        name: &'a str,
    },
    /// Uploads the module's bytes at `offset`, which must be the number of bytes uploaded so
    /// far (chunks come in order).
    LoadChunk {
        /// The upload's handle.
        handle: u64,
        /// Where `data` goes in the module.
        offset: u32,
        /// 1 to [`MAX_CHUNK_LEN`] bytes of the module.
        data: &'a [u8],
    },
    /// Ends the upload: the driver validates the module, which keeps the upload's handle.
    LoadEnd {
        /// The upload's handle.
        handle: u64,
    },
    /// Instantiates a module (running its start function), in a new link group or in an
    /// existing one.
    ///
    /// The instances of a link group share one store: an instance can import what the others
    /// made importable with [`Request::Register`]. Imports are resolved by module name, first
    /// against the names registered in the group, then against the driver's host modules
    /// (the ABI programs import, and with `CONFIG_WASM_SPECTEST` the testsuite's `spectest`).
    Instantiate {
        /// The module's handle.
        module: u64,
        /// The fuel of each invocation of the instance; 0 for the driver's default. Must be 0
        /// when `link` is not: a link group's limits are those of the instance that created it.
        fuel: u64,
        /// The most 64 KiB pages the instance's memory may grow to; 0 for the driver's default.
        /// Must be 0 when `link` is not.
        max_memory_pages: u32,
        /// 0 for a new link group; otherwise the handle of an instance whose link group the
        /// new instance joins.
        link: u64,
    },
    /// Calls the exported function `name` of `instance` with `args`.
    Invoke {
        /// The instance's handle.
        instance: u64,
        /// The export's name, at most [`MAX_NAME_LEN`] bytes (may be empty).
        name: &'a str,
        /// The arguments, at most [`MAX_VALUES`].
        args: ValueList<'a>,
    },
    /// Drops an upload, a module or an instance.
    Unload {
        /// The handle.
        handle: u64,
        /// Whether unloading a module also drops its instances; without it, a module that has
        /// instances is [`Status::Busy`].
        cascade: bool,
    },
    /// Lists the handles above `cursor`, in increasing order.
    List {
        /// 0 for the first page, then the previous page's [`ListPage::next_cursor`].
        cursor: u64,
        /// The most entries to return; 0 for as many as fit.
        max_entries: u16,
    },
    /// Asks for the driver's counters. Empty body.
    Stats,
    /// Lists the exports of a module or an instance, from index `cursor` on, with the
    /// parameter and result types of the functions: what a client needs to type the
    /// arguments of an INVOKE.
    Exports {
        /// The module's or instance's handle.
        handle: u64,
        /// 0 for the first page, then the previous page's [`ExportPage::next_cursor`].
        cursor: u64,
    },
    /// Makes the exports of `instance` importable, under the module name `name`, by the
    /// instances that later join its link group. Registering a name again replaces it.
    Register {
        /// The instance's handle.
        instance: u64,
        /// The module name, at most [`MAX_NAME_LEN`] bytes (may be empty).
        name: &'a str,
    },
    /// Reads the value of the exported global `name` of `instance`.
    Get {
        /// The instance's handle.
        instance: u64,
        /// The export's name, at most [`MAX_NAME_LEN`] bytes (may be empty).
        name: &'a str,
    },
    /// Ties a module or an instance to the sender's socket: when the socket is closed (the
    /// client exits or is killed), the driver unloads it, with its instances for a module.
    /// What `wasmctl run` uses, so that an interrupted run leaves nothing behind.
    Transient {
        /// The handle.
        handle: u64,
    },
    /// Sets the arguments and the environment that WASI programs of `instance` get
    /// (`args_get`, `environ_get`), replacing those set before. Each list is its entries,
    /// each followed by a NUL byte; an entry holds no NUL.
    Args {
        /// The instance's handle.
        instance: u64,
        /// The arguments, the program's name first.
        args: &'a [u8],
        /// The environment, `NAME=value` entries.
        env: &'a [u8],
    },
    /// Instantiates `module` on its own and attaches its exported function `handler` to an
    /// event source; the reply's instance is the attachment's handle (UNLOAD detaches it).
    Attach {
        /// The module's handle. The attachment keeps the module's code: the module itself
        /// may be unloaded.
        module: u64,
        /// What to attach to.
        source: AttachSource,
        /// The fuel of each event; 0 for [`DEFAULT_EVENT_FUEL`].
        fuel: u64,
        /// The handler, an exported function `(len: i32) -> i32`.
        handler: &'a str,
    },
    /// Asks for an attachment's counters.
    AttachInfo {
        /// The attachment's handle.
        handle: u64,
    },
}

/// The fuel of each event of an attachment unless ATTACH sets one.
pub const DEFAULT_EVENT_FUEL: u64 = 100_000;

/// The longest record a program may emit.
pub const MAX_EVENT_RECORD: usize = 4096;

/// The size of an EVENT message's header: the reply header, the attachment's handle and the
/// record's sequence number.
pub const EVENT_HEADER_LEN: usize = REPLY_HEADER_LEN + 16;

/// A netfilter hook point (`enum nf_inet_hooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum NfHook {
    /// Before routing, for every packet that arrives.
    PreRouting = 0,
    /// Packets for this host.
    LocalIn = 1,
    /// Packets routed through this host.
    Forward = 2,
    /// Packets this host sends.
    LocalOut = 3,
    /// After routing, for every packet that leaves.
    PostRouting = 4,
}

impl NfHook {
    /// Every hook, in code order.
    pub const ALL: [NfHook; 5] = [
        Self::PreRouting,
        Self::LocalIn,
        Self::Forward,
        Self::LocalOut,
        Self::PostRouting,
    ];

    /// The hook with code `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|h| *h as u8 == code)
    }

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

/// A tracepoint programs can attach to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Tracepoint {
    /// `sched_process_exec`: a task executed a program.
    SchedProcessExec = 1,
    /// `sched_process_fork`: a task forked.
    SchedProcessFork = 2,
    /// `sched_process_exit`: a task exits.
    SchedProcessExit = 3,
}

impl Tracepoint {
    /// Every tracepoint, in code order.
    pub const ALL: [Tracepoint; 3] = [
        Self::SchedProcessExec,
        Self::SchedProcessFork,
        Self::SchedProcessExit,
    ];

    /// The tracepoint with code `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u8 == code)
    }

    /// The tracepoint's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::SchedProcessExec => "sched_process_exec",
            Self::SchedProcessFork => "sched_process_fork",
            Self::SchedProcessExit => "sched_process_exit",
        }
    }
}

/// What an attachment's handler runs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttachSource {
    /// A netfilter hook of the initial network namespace.
    Netfilter {
        /// `true` for IPv6, `false` for IPv4.
        ipv6: bool,
        /// The hook point.
        hook: NfHook,
        /// The priority among the hook's functions (lower runs first).
        priority: i32,
        /// The verdict when the handler traps or runs out of fuel: `true` to accept.
        default_accept: bool,
    },
    /// A tracepoint.
    Tracepoint(Tracepoint),
}

pub(crate) const SOURCE_NETFILTER: u8 = 1;
pub(crate) const SOURCE_TRACEPOINT: u8 = 2;

impl AttachSource {
    fn encode(&self) -> [u8; ATTACH_SOURCE_LEN] {
        let (kind, a, b, c, priority) = match *self {
            Self::Netfilter {
                ipv6,
                hook,
                priority,
                default_accept,
            } => (
                SOURCE_NETFILTER,
                u8::from(ipv6),
                hook as u8,
                u8::from(default_accept),
                priority,
            ),
            Self::Tracepoint(t) => (SOURCE_TRACEPOINT, 0, t as u8, 0, 0),
        };
        let [p0, p1, p2, p3] = priority.to_le_bytes();
        [kind, a, b, c, p0, p1, p2, p3, 0, 0, 0, 0]
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
        let bytes = r.take(ATTACH_SOURCE_LEN)?;
        let field = |i: usize| bytes.get(i).copied().unwrap_or(0);
        let priority = r_i32(bytes.get(4..8).unwrap_or(&[0; 4]));
        if bytes.get(8..12) != Some(&[0, 0, 0, 0][..]) {
            return Err(ProtoError::InvalidField("attach reserved bytes"));
        }
        match field(0) {
            SOURCE_NETFILTER => {
                let hook = NfHook::from_code(field(2)).ok_or(ProtoError::InvalidField("hook"))?;
                if field(1) > 1 || field(3) > 1 {
                    return Err(ProtoError::InvalidField("netfilter attachment"));
                }
                Ok(Self::Netfilter {
                    ipv6: field(1) == 1,
                    hook,
                    priority,
                    default_accept: field(3) == 1,
                })
            }
            SOURCE_TRACEPOINT => {
                if field(1) != 0 || field(3) != 0 || priority != 0 {
                    return Err(ProtoError::InvalidField("tracepoint attachment"));
                }
                let t = Tracepoint::from_code(field(2))
                    .ok_or(ProtoError::InvalidField("tracepoint"))?;
                Ok(Self::Tracepoint(t))
            }
            _ => Err(ProtoError::InvalidField("attach source")),
        }
    }
}

fn r_i32(bytes: &[u8]) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(bytes.get(..4).unwrap_or(&[0; 4]));
    i32::from_le_bytes(b)
}

/// The body of an ATTACH_INFO reply: what an attachment is and what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachStats {
    /// What it is attached to.
    pub source: AttachSource,
    /// Events the handler ran for.
    pub events: u64,
    /// Events dropped because the handler was running already (on another CPU, or for a
    /// call from userspace): the default verdict applies.
    pub busy: u64,
    /// Events whose handler trapped.
    pub traps: u64,
    /// Events whose handler ran out of fuel.
    pub out_of_fuel: u64,
    /// Records sent to listeners.
    pub emitted: u64,
    /// Records dropped (nobody listened, or their buffers were full).
    pub emit_dropped: u64,
    /// Nanoseconds spent in the handler, all events together.
    pub total_ns: u64,
    /// The longest event, in nanoseconds.
    pub max_ns: u64,
    /// The fuel of each event.
    pub fuel: u64,
}

impl AttachStats {
    fn counters(&self) -> [u64; 9] {
        [
            self.events,
            self.busy,
            self.traps,
            self.out_of_fuel,
            self.emitted,
            self.emit_dropped,
            self.total_ns,
            self.max_ns,
            self.fuel,
        ]
    }

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

/// The first [`EVENT_HEADER_LEN`] bytes of an EVENT message carrying a record of `len` bytes
/// that attachment `handle` emitted as its `seq`-th (from 1; a gap means records were lost).
pub fn event_header(handle: u64, seq: u64, len: usize) -> [u8; EVENT_HEADER_LEN] {
    let len = u32::try_from(len.min(MAX_EVENT_RECORD)).unwrap_or(0);
    let [m0, m1, m2, m3] = MAGIC.to_le_bytes();
    let [v0, v1] = PROTOCOL_VERSION.to_le_bytes();
    let [c0, c1] = Command::Event.code().to_le_bytes();
    let [s0, s1] = Status::Ok.code().to_le_bytes();
    let [b0, b1, b2, b3] = len.saturating_add(16).to_le_bytes();
    let [h0, h1, h2, h3, h4, h5, h6, h7] = handle.to_le_bytes();
    let [q0, q1, q2, q3, q4, q5, q6, q7] = seq.to_le_bytes();
    [
        m0, m1, m2, m3, v0, v1, c0, c1, s0, s1, 0, 0, b0, b1, b2, b3, h0, h1, h2, h3, h4, h5, h6,
        h7, q0, q1, q2, q3, q4, q5, q6, q7,
    ]
}

impl<'a> Request<'a> {
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

    /// Decodes a request payload (the bytes after the `cn_msg` header).
    ///
    /// Checks the magic, the version, the command and the body's exact layout, names,
    /// values and limits.
    pub fn decode(payload: &'a [u8]) -> Result<Self, ProtoError> {
        let mut r = Reader::new(payload);
        let command = read_request_header(&mut r)?;
        let request = match command {
            Command::Version => Self::Version,
            Command::Stats => Self::Stats,
            Command::LoadBegin => {
                let total_size = r.u32()?;
                if total_size > MAX_MODULE_LEN {
                    return Err(ProtoError::TooLarge("module"));
                }
                let name_len = r.u16()?;
                let name = r.name(name_len)?;
                if name.chars().any(char::is_control) {
                    return Err(ProtoError::InvalidField("module name"));
                }
                Self::LoadBegin { total_size, name }
            }
            Command::LoadChunk => {
                let handle = r.u64()?;
                let offset = r.u32()?;
                let len = r.u32()?;
                let len = usize::try_from(len).map_err(|_| ProtoError::TooLarge("chunk"))?;
                if len == 0 {
                    return Err(ProtoError::InvalidField("chunk length"));
                }
                if len > MAX_CHUNK_LEN {
                    return Err(ProtoError::TooLarge("chunk"));
                }
                let data = r.take(len)?;
                Self::LoadChunk {
                    handle,
                    offset,
                    data,
                }
            }
            Command::LoadEnd => Self::LoadEnd { handle: r.u64()? },
            Command::Instantiate => {
                let module = r.u64()?;
                let fuel = r.u64()?;
                let max_memory_pages = r.u32()?;
                let link = r.u64()?;
                check_link_limits(fuel, max_memory_pages, link)?;
                Self::Instantiate {
                    module,
                    fuel,
                    max_memory_pages,
                    link,
                }
            }
            Command::Invoke => {
                let instance = r.u64()?;
                let name_len = r.u16()?;
                let count = usize::from(r.u16()?);
                let name = r.name(name_len)?;
                let args = ValueList::decode(r.rest(), count)?;
                r.skip_rest();
                Self::Invoke {
                    instance,
                    name,
                    args,
                }
            }
            Command::Unload => {
                let handle = r.u64()?;
                let flags = r.u32()?;
                if flags & !UNLOAD_CASCADE != 0 {
                    return Err(ProtoError::InvalidField("unload flags"));
                }
                Self::Unload {
                    handle,
                    cascade: flags & UNLOAD_CASCADE != 0,
                }
            }
            Command::List => Self::List {
                cursor: r.u64()?,
                max_entries: r.u16()?,
            },
            Command::Exports => Self::Exports {
                handle: r.u64()?,
                cursor: r.u64()?,
            },
            Command::Register => {
                let instance = r.u64()?;
                let name_len = r.u16()?;
                let name = r.name(name_len)?;
                Self::Register { instance, name }
            }
            Command::Get => {
                let instance = r.u64()?;
                let name_len = r.u16()?;
                let name = r.name(name_len)?;
                Self::Get { instance, name }
            }
            Command::Transient => Self::Transient { handle: r.u64()? },
            Command::Args => {
                let instance = r.u64()?;
                let args_len = r.u32()? as usize;
                let env_len = r.u32()? as usize;
                let args = check_list(r.take(args_len)?, "arguments")?;
                let env = check_list(r.take(env_len)?, "environment")?;
                Self::Args {
                    instance,
                    args,
                    env,
                }
            }
            Command::Attach => {
                let module = r.u64()?;
                let fuel = r.u64()?;
                let source = AttachSource::decode(&mut r)?;
                let name_len = r.u16()?;
                if r.u16()? != 0 {
                    return Err(ProtoError::InvalidField("attach reserved bytes"));
                }
                let handler = r.name(name_len)?;
                Self::Attach {
                    module,
                    source,
                    fuel,
                    handler,
                }
            }
            Command::AttachInfo => Self::AttachInfo { handle: r.u64()? },
            // The driver sends OUTPUT and EVENT; no client may.
            Command::Output | Command::Event => {
                return Err(ProtoError::UnknownCommand(command.code()))
            }
        };
        r.finish()?;
        Ok(request)
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

/// Reads and checks a request header, returning its command.
fn read_request_header(r: &mut Reader<'_>) -> Result<Command, ProtoError> {
    if r.u32()? != MAGIC {
        return Err(ProtoError::BadMagic);
    }
    let version = r.u16()?;
    if version != PROTOCOL_VERSION {
        return Err(ProtoError::UnsupportedVersion(version));
    }
    let code = r.u16()?;
    Command::from_code(code).ok_or(ProtoError::UnknownCommand(code))
}

/// Checks a request's header only and returns its command, so that the driver can check the
/// sender's privilege before it looks at the body.
pub fn peek_command(payload: &[u8]) -> Result<Command, ProtoError> {
    read_request_header(&mut Reader::new(payload))
}

/// The command code of a request payload, or 0 if the payload is too short or has the wrong
/// magic: what an error reply to an undecodable request echoes.
pub fn raw_command(payload: &[u8]) -> u16 {
    let mut r = Reader::new(payload);
    match (r.u32(), r.u16(), r.u16()) {
        (Ok(MAGIC), Ok(_), Ok(code)) => code,
        _ => 0,
    }
}

/// An INSTANTIATE into an existing link group takes the group's limits: it may not ask for
/// its own.
fn check_link_limits(fuel: u64, max_memory_pages: u32, link: u64) -> Result<(), ProtoError> {
    if link != 0 && (fuel != 0 || max_memory_pages != 0) {
        return Err(ProtoError::InvalidField("limits of a linked instance"));
    }
    Ok(())
}

/// Checks an ARGS list: empty, or entries each ending with a NUL byte.
fn check_list<'a>(list: &'a [u8], what: &'static str) -> Result<&'a [u8], ProtoError> {
    match list.last() {
        None | Some(0) => Ok(list),
        Some(_) => Err(ProtoError::InvalidField(what)),
    }
}

fn list_len(list: &[u8]) -> Result<u32, ProtoError> {
    u32::try_from(list.len()).map_err(|_| ProtoError::TooLarge("argument list"))
}

/// The first [`OUTPUT_HEADER_LEN`] bytes of an OUTPUT message carrying `len` bytes written
/// to descriptor `fd`: a reply header (command OUTPUT, status OK, no message) and the
/// descriptor. The `len` bytes follow. `len` is at most [`MAX_OUTPUT_CHUNK`].
pub fn output_header(fd: u32, len: usize) -> [u8; OUTPUT_HEADER_LEN] {
    let len = u32::try_from(len.min(MAX_OUTPUT_CHUNK)).unwrap_or(0);
    let [m0, m1, m2, m3] = MAGIC.to_le_bytes();
    let [v0, v1] = PROTOCOL_VERSION.to_le_bytes();
    let [c0, c1] = Command::Output.code().to_le_bytes();
    let [s0, s1] = Status::Ok.code().to_le_bytes();
    // The body: the descriptor and the data.
    let [b0, b1, b2, b3] = len.saturating_add(4).to_le_bytes();
    let [f0, f1, f2, f3] = fd.to_le_bytes();
    [
        m0, m1, m2, m3, v0, v1, c0, c1, s0, s1, 0, 0, b0, b1, b2, b3, f0, f1, f2, f3,
    ]
}

fn name_len(name: &str) -> Result<u16, ProtoError> {
    if name.len() > MAX_NAME_LEN {
        return Err(ProtoError::TooLarge("name"));
    }
    u16::try_from(name.len()).map_err(|_| ProtoError::TooLarge("name"))
}

fn value_count(count: usize) -> Result<u16, ProtoError> {
    if count > MAX_VALUES {
        return Err(ProtoError::TooLarge("value count"));
    }
    u16::try_from(count).map_err(|_| ProtoError::TooLarge("value count"))
}

/// The body of a successful VERSION reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// The driver's version, `major.minor.patch`.
    pub driver: [u16; 3],
    /// [`VERSION_FLAG_PRIVILEGED`] or 0.
    pub flags: u16,
    /// The largest module the driver accepts, at most [`MAX_MODULE_LEN`].
    pub max_module_len: u32,
    /// The largest chunk the driver accepts, at most [`MAX_CHUNK_LEN`].
    pub max_chunk_len: u32,
    /// The most 64 KiB pages an instance's memory may have.
    pub max_memory_pages: u32,
    /// The fuel of each invocation when INSTANTIATE asks for the default; 0 for unlimited.
    pub default_fuel: u64,
    /// The most fuel INSTANTIATE may ask for; 0 for no limit.
    pub max_fuel: u64,
}

impl VersionInfo {
    /// Whether the sender may use the privileged commands.
    pub fn privileged(&self) -> bool {
        self.flags & VERSION_FLAG_PRIVILEGED != 0
    }
}

/// The body of a successful LOAD_END reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The module's handle (the upload's).
    pub handle: u64,
    /// The module's size in bytes.
    pub size: u32,
    /// How many imports it has.
    pub imports: u32,
    /// How many exports it has.
    pub exports: u32,
}

/// The body of a successful INSTANTIATE reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceInfo {
    /// The instance's handle.
    pub handle: u64,
    /// Its module's handle.
    pub module: u64,
    /// The size of its memory in 64 KiB pages (0 without a memory).
    pub memory_pages: u32,
}

/// What a handle names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HandleKind {
    /// A module being uploaded.
    Upload = 1,
    /// A validated module.
    Module = 2,
    /// An instance of a module.
    Instance = 3,
    /// An instance attached to a kernel event source.
    Attachment = 4,
}

impl HandleKind {
    /// The kind with code `code`, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        [Self::Upload, Self::Module, Self::Instance, Self::Attachment]
            .into_iter()
            .find(|k| k.code() == code)
    }

    /// The code on the wire.
    pub fn code(self) -> u8 {
        self as u8
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

/// One entry of a LIST reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListEntry<'a> {
    /// The handle.
    pub handle: u64,
    /// What it names.
    pub kind: HandleKind,
    /// An instance's module; 0 for the other kinds.
    pub parent: u64,
    /// Invocations so far (instances; 0 for the other kinds).
    pub calls: u64,
    /// Fuel consumed so far (instances; 0 for the other kinds or when not metered).
    pub fuel_used: u64,
    /// The module's size in bytes (an upload's: the announced size).
    pub size: u32,
    /// Bytes received so far (uploads), number of exports (modules and instances).
    pub exports: u32,
    /// The memory's size in 64 KiB pages (instances; 0 for the other kinds).
    pub memory_pages: u32,
    /// The module's name.
    pub name: &'a str,
}

impl<'a> ListEntry<'a> {
    /// Encodes the fixed part, up to the name.
    fn encode_header(&self, w: &mut Writer<'_>) -> Result<(), ProtoError> {
        w.u64(self.handle)?;
        w.u64(self.parent)?;
        w.u64(self.calls)?;
        w.u64(self.fuel_used)?;
        w.u32(self.size)?;
        w.u32(self.exports)?;
        w.u32(self.memory_pages)?;
        w.u8(self.kind.code())?;
        w.u8(0)?;
        w.u16(name_len(self.name)?)
    }

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

/// The body of a successful LIST reply: one page of entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListPage<'a> {
    /// The cursor for the next page: the last entry's handle (the request's cursor when there
    /// are no entries).
    pub next_cursor: u64,
    /// Whether entries were left out of this page.
    pub more: bool,
    count: u16,
    entries: &'a [u8],
}

impl<'a> ListPage<'a> {
    /// The number of entries.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the page has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries, in increasing order of handle.
    pub fn entries(&self) -> ListEntries<'a> {
        ListEntries {
            r: Reader::new(self.entries),
        }
    }

    fn decode(r: &mut Reader<'a>) -> Result<Self, ProtoError> {
        let (next_cursor, count, more, entries) = decode_page(r, ListEntry::decode)?;
        Ok(Self {
            next_cursor,
            more,
            count,
            entries,
        })
    }
}

/// The iterator of a [`ListPage`]'s entries.
#[derive(Clone, Debug)]
pub struct ListEntries<'a> {
    r: Reader<'a>,
}

impl<'a> Iterator for ListEntries<'a> {
    type Item = ListEntry<'a>;

    fn next(&mut self) -> Option<ListEntry<'a>> {
        // Checked when the page was decoded.
        ListEntry::decode(&mut self.r).ok()
    }
}

/// The body of a successful STATS reply: the driver's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Modules loaded now.
    pub modules: u64,
    /// Instances alive now.
    pub instances: u64,
    /// Uploads in progress now.
    pub uploads: u64,
    /// Bytes of the modules loaded now.
    pub module_bytes: u64,
    /// 64 KiB pages of the instances' memories now.
    pub memory_pages: u64,
    /// Modules loaded since the driver started.
    pub loads: u64,
    /// Uploads that failed (invalid, aborted, over a limit) since the driver started.
    pub load_failures: u64,
    /// Instances created since the driver started.
    pub instantiations: u64,
    /// Invocations since the driver started.
    pub invocations: u64,
    /// Invocations (and start functions) that trapped.
    pub traps: u64,
    /// Fuel consumed by all invocations.
    pub fuel_used: u64,
    /// Requests refused with [`Status::PermissionDenied`].
    pub denied: u64,
    /// Bytes of kernel memory the runtime holds for its users now: uploads, translated
    /// code and the link groups' stores (memories, tables, globals, stacks).
    pub kernel_bytes: u64,
}

impl Stats {
    fn fields(&self) -> [u64; 13] {
        [
            self.modules,
            self.instances,
            self.uploads,
            self.module_bytes,
            self.memory_pages,
            self.loads,
            self.load_failures,
            self.instantiations,
            self.invocations,
            self.traps,
            self.fuel_used,
            self.denied,
            self.kernel_bytes,
        ]
    }

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

/// What an export is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExportKind {
    /// A function.
    Func = 0,
    /// A table.
    Table = 1,
    /// A memory.
    Memory = 2,
    /// A global.
    Global = 3,
}

impl ExportKind {
    /// The kind with code `code` (the export kind byte of the binary format), if any.
    pub fn from_code(code: u8) -> Option<Self> {
        [Self::Func, Self::Table, Self::Memory, Self::Global]
            .into_iter()
            .find(|k| k.code() == code)
    }

    /// The code on the wire.
    pub fn code(self) -> u8 {
        self as u8
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

/// The body of a successful EXPORTS reply: one page of exports, in the module's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportPage<'a> {
    /// The cursor for the next page: the index of the first export not in this one.
    pub next_cursor: u64,
    /// Whether exports were left out of this page.
    pub more: bool,
    count: u16,
    entries: &'a [u8],
}

impl<'a> ExportPage<'a> {
    /// The number of entries.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the page has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries.
    pub fn entries(&self) -> ExportEntries<'a> {
        ExportEntries {
            r: Reader::new(self.entries),
        }
    }

    fn decode(r: &mut Reader<'a>) -> Result<Self, ProtoError> {
        let (next_cursor, count, more, entries) = decode_page(r, ExportEntry::decode)?;
        Ok(Self {
            next_cursor,
            more,
            count,
            entries,
        })
    }
}

/// The iterator of an [`ExportPage`]'s entries.
#[derive(Clone, Debug)]
pub struct ExportEntries<'a> {
    r: Reader<'a>,
}

impl<'a> Iterator for ExportEntries<'a> {
    type Item = ExportEntry<'a>;

    fn next(&mut self) -> Option<ExportEntry<'a>> {
        // Checked when the page was decoded.
        ExportEntry::decode(&mut self.r).ok()
    }
}

/// Decodes a page header and checks its `count` entries with `entry`; returns the cursor, the
/// count, the `more` flag and the entries' bytes.
fn decode_page<'a, T>(
    r: &mut Reader<'a>,
    entry: impl Fn(&mut Reader<'a>) -> Result<T, ProtoError>,
) -> Result<(u64, u16, bool, &'a [u8]), ProtoError> {
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
    Ok((next_cursor, count, flags & LIST_MORE != 0, entries))
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
        Command::List => ReplyBody::List(ListPage::decode(r)?),
        Command::Stats => ReplyBody::Stats(Stats::decode(r)?),
        Command::Exports => ReplyBody::Exports(ExportPage::decode(r)?),
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

/// Writes a reply into a caller-provided buffer: the driver's half of the protocol.
///
/// Create it with the status, write the body with the method for the command (or, for a
/// failure, [`ReplyWriter::invalid_module`] or [`ReplyWriter::trap`]), add a message with
/// [`ReplyWriter::message`] or `write!` (it implements [`fmt::Write`]), and [`finish`] it.
/// A buffer of [`MAX_PAYLOAD_LEN`] bytes holds any reply; a message that does not fit is cut
/// short at a character boundary, and LIST entries that do not fit are refused.
///
/// [`finish`]: ReplyWriter::finish
#[derive(Debug)]
pub struct ReplyWriter<'a> {
    buf: &'a mut [u8],
    command: u16,
    status: Status,
    body_len: usize,
    message_len: usize,
    page: Option<PageState>,
}

/// A LIST or EXPORTS page being written: its header is at the start of the body.
#[derive(Clone, Copy, Debug)]
struct PageState {
    count: u16,
    last: u64,
}

impl<'a> ReplyWriter<'a> {
    /// Starts a reply to command code `command` with `status`. Only the first
    /// [`MAX_PAYLOAD_LEN`] bytes of `buf` are used.
    pub fn new(buf: &'a mut [u8], command: u16, status: Status) -> Result<Self, ProtoError> {
        let len = buf.len().min(MAX_PAYLOAD_LEN);
        let buf = buf.get_mut(..len).ok_or(ProtoError::BufferTooSmall)?;
        if buf.len() < REPLY_HEADER_LEN {
            return Err(ProtoError::BufferTooSmall);
        }
        Ok(Self {
            buf,
            command,
            status,
            body_len: 0,
            message_len: 0,
            page: None,
        })
    }

    /// Starts a successful reply to `command`.
    pub fn ok(buf: &'a mut [u8], command: Command) -> Result<Self, ProtoError> {
        Self::new(buf, command.code(), Status::Ok)
    }

    /// Writes the whole reply to a request that could not be decoded: status from
    /// [`ProtoError::status`], the error as message. `request` is the undecodable payload,
    /// whose command code is echoed when it can be read.
    pub fn reject(
        buf: &'a mut [u8],
        request: &[u8],
        error: &ProtoError,
    ) -> Result<&'a [u8], ProtoError> {
        let mut w = Self::new(buf, raw_command(request), error.status())?;
        fmt::Write::write_fmt(&mut w, format_args!("{error}"))
            .map_err(|_| ProtoError::Truncated)?;
        w.finish()
    }

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

    /// Appends `bytes` to the body, moving the message (if any) after them.
    fn body(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
        let start = REPLY_HEADER_LEN
            .checked_add(self.body_len)
            .ok_or(ProtoError::BufferTooSmall)?;
        let message_end = start
            .checked_add(self.message_len)
            .ok_or(ProtoError::BufferTooSmall)?;
        let new_end = message_end
            .checked_add(bytes.len())
            .ok_or(ProtoError::BufferTooSmall)?;
        if new_end > self.buf.len() {
            return Err(ProtoError::BufferTooSmall);
        }
        let body_end = start
            .checked_add(bytes.len())
            .ok_or(ProtoError::BufferTooSmall)?;
        self.buf.copy_within(start..message_end, body_end);
        self.buf
            .get_mut(start..body_end)
            .ok_or(ProtoError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.body_len = body_end.saturating_sub(REPLY_HEADER_LEN);
        Ok(())
    }

    /// Writes a fixed-size body assembled by `f`.
    fn fixed<const N: usize>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<(), ProtoError>,
    ) -> Result<(), ProtoError> {
        let mut bytes = [0u8; N];
        let mut w = Writer::new(&mut bytes);
        f(&mut w)?;
        if w.pos != N {
            return Err(ProtoError::BufferTooSmall);
        }
        self.body(&bytes)
    }

    /// The body of a VERSION reply.
    pub fn version(&mut self, info: &VersionInfo) -> Result<(), ProtoError> {
        self.fixed::<VERSION_BODY_LEN>(|w| {
            for part in info.driver {
                w.u16(part)?;
            }
            w.u16(info.flags)?;
            w.u32(info.max_module_len)?;
            w.u32(info.max_chunk_len)?;
            w.u32(info.max_memory_pages)?;
            w.u64(info.default_fuel)?;
            w.u64(info.max_fuel)
        })
    }

    /// The body of a LOAD_BEGIN reply: the upload's handle.
    pub fn upload(&mut self, handle: u64) -> Result<(), ProtoError> {
        self.body(&handle.to_le_bytes())
    }

    /// The body of a LOAD_CHUNK reply: the bytes received so far.
    pub fn received(&mut self, bytes: u32) -> Result<(), ProtoError> {
        self.body(&bytes.to_le_bytes())
    }

    /// The body of a LOAD_END reply.
    pub fn module(&mut self, info: &ModuleInfo) -> Result<(), ProtoError> {
        self.fixed::<MODULE_BODY_LEN>(|w| {
            w.u64(info.handle)?;
            w.u32(info.size)?;
            w.u32(info.imports)?;
            w.u32(info.exports)
        })
    }

    /// The body of an INSTANTIATE reply.
    pub fn instance(&mut self, info: &InstanceInfo) -> Result<(), ProtoError> {
        self.fixed::<INSTANCE_BODY_LEN>(|w| {
            w.u64(info.handle)?;
            w.u64(info.module)?;
            w.u32(info.memory_pages)
        })
    }

    /// The body of an INVOKE reply: the fuel consumed and the results, at most
    /// [`MAX_VALUES`].
    pub fn results(
        &mut self,
        fuel_used: u64,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<(), ProtoError> {
        let count_at = REPLY_HEADER_LEN
            .checked_add(self.body_len)
            .and_then(|at| at.checked_add(8))
            .ok_or(ProtoError::BufferTooSmall)?;
        let [f0, f1, f2, f3, f4, f5, f6, f7] = fuel_used.to_le_bytes();
        self.body(&[f0, f1, f2, f3, f4, f5, f6, f7, 0, 0])?;
        let mut count: u16 = 0;
        for value in values {
            if usize::from(count) >= MAX_VALUES {
                return Err(ProtoError::TooLarge("value count"));
            }
            self.body(&value.to_bytes())?;
            count = count
                .checked_add(1)
                .ok_or(ProtoError::TooLarge("value count"))?;
        }
        let end = count_at.checked_add(2).ok_or(ProtoError::BufferTooSmall)?;
        self.buf
            .get_mut(count_at..end)
            .ok_or(ProtoError::BufferTooSmall)?
            .copy_from_slice(&count.to_le_bytes());
        Ok(())
    }

    /// Starts a page (LIST or EXPORTS) if none is started, returning its state.
    fn page(&mut self) -> Result<PageState, ProtoError> {
        match self.page {
            Some(state) => Ok(state),
            None => {
                self.body(&[0; LIST_HEADER_LEN])?;
                let state = PageState { count: 0, last: 0 };
                self.page = Some(state);
                Ok(state)
            }
        }
    }

    /// Whether `len` more bytes fit in the body, the message staying as it is.
    fn room_for(&self, len: usize) -> bool {
        let room = self
            .buf
            .len()
            .saturating_sub(REPLY_HEADER_LEN)
            .saturating_sub(self.body_len)
            .saturating_sub(self.message_len);
        len <= room
    }

    /// Writes the page header: `next_cursor`, the count and the `more` flag.
    fn page_end(&mut self, next_cursor: u64, more: bool) -> Result<(), ProtoError> {
        let state = self.page()?;
        let mut header = [0u8; LIST_HEADER_LEN];
        let mut w = Writer::new(&mut header);
        w.u64(next_cursor)?;
        w.u16(state.count)?;
        w.u16(if more { LIST_MORE } else { 0 })?;
        self.buf
            .get_mut(REPLY_HEADER_LEN..REPLY_HEADER_LEN + LIST_HEADER_LEN)
            .ok_or(ProtoError::BufferTooSmall)?
            .copy_from_slice(&header);
        Ok(())
    }

    /// Adds an entry to the body of a LIST reply. Returns `Ok(false)`, writing nothing, when
    /// the entry does not fit: end the page there with `more`.
    pub fn list_entry(&mut self, entry: &ListEntry<'_>) -> Result<bool, ProtoError> {
        let mut header = [0u8; LIST_ENTRY_HEADER_LEN];
        let mut w = Writer::new(&mut header);
        entry.encode_header(&mut w)?;
        let len = LIST_ENTRY_HEADER_LEN
            .checked_add(entry.name.len())
            .ok_or(ProtoError::BufferTooSmall)?;
        let state = self.page()?;
        let Some(count) = state.count.checked_add(1) else {
            return Ok(false);
        };
        if !self.room_for(len) {
            return Ok(false);
        }
        self.body(&header)?;
        self.body(entry.name.as_bytes())?;
        self.page = Some(PageState {
            count,
            last: entry.handle,
        });
        Ok(true)
    }

    /// Ends the body of a LIST reply. `cursor` is the request's; `more` says whether entries
    /// were left out. The page's next cursor is the last entry's handle, or `cursor` if there
    /// were no entries.
    pub fn list_end(&mut self, cursor: u64, more: bool) -> Result<(), ProtoError> {
        let state = self.page()?;
        let next = if state.count == 0 { cursor } else { state.last };
        self.page_end(next, more)
    }

    /// Adds an export to the body of an EXPORTS reply; `params` and `results` are a function's
    /// types, empty for the other kinds. Returns `Ok(false)`, writing nothing, when the entry
    /// does not fit: end the page there with `more`.
    ///
    /// Fails with [`ProtoError::InvalidField`] if an iterator yields another number of types
    /// than its length said; the body is then unusable (use [`ReplyWriter::set_status`]).
    pub fn export_entry<P, R>(
        &mut self,
        kind: ExportKind,
        name: &str,
        params: P,
        results: R,
    ) -> Result<bool, ProtoError>
    where
        P: IntoIterator<Item = ValType>,
        P::IntoIter: ExactSizeIterator,
        R: IntoIterator<Item = ValType>,
        R::IntoIter: ExactSizeIterator,
    {
        let (params, results) = (params.into_iter(), results.into_iter());
        let param_count = value_count(params.len())?;
        let result_count = value_count(results.len())?;
        if kind != ExportKind::Func && (param_count != 0 || result_count != 0) {
            return Err(ProtoError::InvalidField("export types"));
        }
        let mut header = [0u8; EXPORT_ENTRY_HEADER_LEN];
        let mut w = Writer::new(&mut header);
        w.u8(kind.code())?;
        w.u8(0)?;
        w.u16(name_len(name)?)?;
        w.u16(param_count)?;
        w.u16(result_count)?;
        let len = EXPORT_ENTRY_HEADER_LEN
            .checked_add(name.len())
            .and_then(|n| n.checked_add(params.len()))
            .and_then(|n| n.checked_add(results.len()))
            .ok_or(ProtoError::BufferTooSmall)?;
        let state = self.page()?;
        let Some(count) = state.count.checked_add(1) else {
            return Ok(false);
        };
        if !self.room_for(len) {
            return Ok(false);
        }
        self.body(&header)?;
        self.body(name.as_bytes())?;
        self.types(params, param_count)?;
        self.types(results, result_count)?;
        self.page = Some(PageState { count, last: 0 });
        Ok(true)
    }

    /// Appends the codes of `types`, which must be `expected` many.
    fn types(
        &mut self,
        types: impl Iterator<Item = ValType>,
        expected: u16,
    ) -> Result<(), ProtoError> {
        let mut written: u16 = 0;
        let mut chunk = [0u8; 64];
        let mut filled: usize = 0;
        for ty in types {
            if written >= expected {
                return Err(ProtoError::InvalidField("export types"));
            }
            *chunk.get_mut(filled).ok_or(ProtoError::BufferTooSmall)? = ty.code();
            filled = filled.saturating_add(1);
            written = written.saturating_add(1);
            if filled == chunk.len() {
                self.body(&chunk)?;
                filled = 0;
            }
        }
        self.body(chunk.get(..filled).ok_or(ProtoError::BufferTooSmall)?)?;
        if written != expected {
            return Err(ProtoError::InvalidField("export types"));
        }
        Ok(())
    }

    /// Ends the body of an EXPORTS reply: `next_cursor` is the index of the first export not
    /// in the page, `more` whether there are such exports.
    pub fn exports_end(&mut self, next_cursor: u64, more: bool) -> Result<(), ProtoError> {
        self.page_end(next_cursor, more)
    }

    /// The body of a GET reply: the global's value.
    pub fn global(&mut self, value: Value) -> Result<(), ProtoError> {
        self.body(&value.to_bytes())
    }

    /// The body of an ATTACH_INFO reply.
    pub fn attach_info(&mut self, stats: &AttachStats) -> Result<(), ProtoError> {
        self.body(&stats.source.encode())?;
        for c in stats.counters() {
            self.body(&c.to_le_bytes())?;
        }
        Ok(())
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

    /// The body of a STATS reply.
    pub fn stats(&mut self, stats: &Stats) -> Result<(), ProtoError> {
        self.fixed::<STATS_BODY_LEN>(|w| {
            for field in stats.fields() {
                w.u64(field)?;
            }
            Ok(())
        })
    }

    /// The body of a [`Status::InvalidModule`] reply: the offending byte offset.
    pub fn invalid_module(&mut self, offset: u64) -> Result<(), ProtoError> {
        self.body(&offset.to_le_bytes())
    }

    /// The body of a [`Status::Trap`] reply.
    pub fn trap(&mut self, trap: &TrapInfo) -> Result<(), ProtoError> {
        self.fixed::<TRAP_BODY_LEN>(|w| {
            w.u16(trap.code.code())?;
            w.u32(trap.func.unwrap_or(UNKNOWN_INDEX))?;
            w.u32(trap.offset.unwrap_or(UNKNOWN_INDEX))?;
            w.u32(trap.host_code as u32)
        })
    }

    /// Appends `text` to the message, as much of it as fits (cut at a character boundary).
    /// Returns whether all of it fitted.
    pub fn message(&mut self, text: &str) -> bool {
        let used = REPLY_HEADER_LEN
            .saturating_add(self.body_len)
            .saturating_add(self.message_len);
        let room = self
            .buf
            .len()
            .saturating_sub(used)
            .min(usize::from(u16::MAX).saturating_sub(self.message_len));
        let mut n = text.len().min(room);
        while !text.is_char_boundary(n) {
            n = n.saturating_sub(1);
        }
        let (Some(src), Some(dst)) = (
            text.as_bytes().get(..n),
            self.buf.get_mut(used..used.saturating_add(n)),
        ) else {
            return false;
        };
        dst.copy_from_slice(src);
        self.message_len = self.message_len.saturating_add(n);
        n == text.len()
    }

    /// Writes the header and returns the reply's payload.
    pub fn finish(self) -> Result<&'a [u8], ProtoError> {
        let message_len =
            u16::try_from(self.message_len).map_err(|_| ProtoError::TooLarge("message"))?;
        let body_len = u32::try_from(self.body_len).map_err(|_| ProtoError::TooLarge("body"))?;
        let total = REPLY_HEADER_LEN
            .checked_add(self.body_len)
            .and_then(|n| n.checked_add(self.message_len))
            .ok_or(ProtoError::BufferTooSmall)?;
        let mut w = Writer::new(self.buf);
        w.u32(MAGIC)?;
        w.u16(PROTOCOL_VERSION)?;
        w.u16(self.command)?;
        w.u16(self.status.code())?;
        w.u16(message_len)?;
        w.u32(body_len)?;
        let buf: &'a [u8] = w.buf;
        buf.get(..total).ok_or(ProtoError::BufferTooSmall)
    }
}

/// The message is cut short rather than failing when it does not fit.
impl fmt::Write for ReplyWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.message(s);
        Ok(())
    }
}

/// A bounds-checked little-endian reader.
#[derive(Clone, Debug)]
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        let (first, rest) = self.rest.split_at_checked(n).ok_or(ProtoError::Truncated)?;
        self.rest = rest;
        Ok(first)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtoError> {
        self.take(N)?.try_into().map_err(|_| ProtoError::Truncated)
    }

    fn u8(&mut self) -> Result<u8, ProtoError> {
        let [b] = self.array()?;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, ProtoError> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, ProtoError> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, ProtoError> {
        self.array().map(u64::from_le_bytes)
    }

    /// A name of `len` bytes: at most [`MAX_NAME_LEN`], UTF-8.
    fn name(&mut self, len: u16) -> Result<&'a str, ProtoError> {
        let len = usize::from(len);
        if len > MAX_NAME_LEN {
            return Err(ProtoError::TooLarge("name"));
        }
        core::str::from_utf8(self.take(len)?).map_err(|_| ProtoError::InvalidField("name"))
    }

    fn rest(&self) -> &'a [u8] {
        self.rest
    }

    fn skip_rest(&mut self) {
        self.rest = &[];
    }

    fn finish(&self) -> Result<(), ProtoError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(ProtoError::TrailingBytes)
        }
    }
}

/// A bounds-checked little-endian writer.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(ProtoError::BufferTooSmall)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(ProtoError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    fn u8(&mut self, v: u8) -> Result<(), ProtoError> {
        self.put(&[v])
    }

    fn u16(&mut self, v: u16) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }

    fn u32(&mut self, v: u32) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }

    fn u64(&mut self, v: u64) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }
}

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic
)]
mod tests {
    use super::*;
    use std::{format, string::String, vec, vec::Vec};

    /// The values of the testsuite's `spectest` globals, as GET replies carry them.
    const GLOBALS: [Value; 4] = [
        Value::I32(666),
        Value::I64(666),
        Value::F32(0x4426_a666),
        Value::F64(0x4084_d4cc_cccc_cccd),
    ];

    const ALL_VALUES: [Value; 12] = [
        Value::I32(-1),
        Value::I32(i32::MIN),
        Value::I64(i64::MIN),
        Value::I64(0x0123_4567_89ab_cdef),
        Value::F32(0x7fc0_0001), // a NaN with a payload
        Value::F32(0x8000_0000), // -0.0
        Value::F64(0x7ff8_0000_0000_0001),
        Value::F64(0x3ff0_0000_0000_0000),
        Value::FuncRef(None),
        Value::FuncRef(Some(u32::MAX)),
        Value::ExternRef(None),
        Value::ExternRef(Some(0)),
    ];

    fn requests() -> Vec<Request<'static>> {
        vec![
            Request::Version,
            Request::Stats,
            Request::LoadBegin {
                total_size: 41,
                name: "add",
            },
            Request::LoadBegin {
                total_size: MAX_MODULE_LEN,
                name: "",
            },
            Request::LoadBegin {
                total_size: 0,
                name: "empty",
            },
            Request::LoadBegin {
                total_size: 1,
                name: "\u{e9}t\u{e9} \u{1f980}",
            },
            Request::LoadChunk {
                handle: u64::MAX,
                offset: 15360,
                data: b"\0asm\x01\0\0\0",
            },
            Request::LoadChunk {
                handle: 1,
                offset: 0,
                data: &[0xa5; MAX_CHUNK_LEN],
            },
            Request::LoadEnd { handle: 3 },
            Request::Instantiate {
                module: 3,
                fuel: 1_000_000,
                max_memory_pages: 16,
                link: 0,
            },
            Request::Instantiate {
                module: 3,
                fuel: 0,
                max_memory_pages: 0,
                link: 0,
            },
            Request::Instantiate {
                module: 3,
                fuel: 0,
                max_memory_pages: 0,
                link: u64::MAX,
            },
            Request::Invoke {
                instance: 4,
                name: "add",
                args: ValueList::new(&[Value::I32(2), Value::I32(3)]),
            },
            Request::Invoke {
                instance: 4,
                name: "",
                args: ValueList::new(&[]),
            },
            Request::Invoke {
                instance: 4,
                name: "all",
                args: ValueList::new(&ALL_VALUES),
            },
            Request::Unload {
                handle: 3,
                cascade: false,
            },
            Request::Unload {
                handle: 3,
                cascade: true,
            },
            Request::List {
                cursor: 0,
                max_entries: 0,
            },
            Request::List {
                cursor: 17,
                max_entries: 5,
            },
            Request::Exports {
                handle: 4,
                cursor: 0,
            },
            Request::Exports {
                handle: 4,
                cursor: 3,
            },
            Request::Register {
                instance: 4,
                name: "M",
            },
            Request::Register {
                instance: 4,
                name: "",
            },
            Request::Get {
                instance: 4,
                name: "global_i32",
            },
            Request::Get {
                instance: u64::MAX,
                name: "\u{e9}\n\0",
            },
            Request::Transient { handle: 7 },
        ]
    }

    fn encode(request: &Request<'_>) -> Vec<u8> {
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        let len = request.encode(&mut buf).unwrap();
        buf.truncate(len);
        buf
    }

    /// Deterministic pseudo-random bytes.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn constants() {
        assert_eq!(CONNECTOR_IDX, 15);
        assert_eq!(CONNECTOR_VAL, 1);
        assert_eq!(MAX_PAYLOAD_LEN, 16364);
        assert_eq!(&MAGIC.to_le_bytes(), b"WASM");
        assert_eq!(MAX_CHUNK_LEN, 15360);
    }

    #[test]
    fn codes_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_code(c.code()), Some(c));
        }
        assert_eq!(Command::from_code(0), None);
        assert_eq!(Command::from_code(19), None);
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert_eq!(Status::from_code(17), None);
        for t in TrapCode::ALL {
            assert_eq!(TrapCode::from_code(t.code()), Some(t));
        }
        assert_eq!(TrapCode::from_code(0), None);
        for t in ValType::ALL {
            assert_eq!(ValType::from_code(t.code()), Some(t));
        }
        assert_eq!(ValType::from_code(0x7b), None); // v128
        for k in [HandleKind::Upload, HandleKind::Module, HandleKind::Instance] {
            assert_eq!(HandleKind::from_code(k.code()), Some(k));
        }
        assert_eq!(HandleKind::from_code(0), None);
        // The codes are part of the ABI.
        assert_eq!(Status::Internal.code(), 16);
        assert_eq!(Command::Stats.code(), 9);
        assert_eq!(Command::Register.code(), 11);
        assert_eq!(Command::Get.code(), 12);
    }

    #[test]
    fn privileges() {
        let free: Vec<_> = Command::ALL
            .into_iter()
            .filter(|c| !c.needs_privilege())
            .collect();
        assert_eq!(free, [Command::Version]);
    }

    #[test]
    fn values_round_trip() {
        for v in ALL_VALUES {
            let bytes = v.to_bytes();
            assert_eq!(Value::from_bytes(&bytes), Ok(v));
            assert_eq!(bytes[0], v.ty().code());
        }
        // Exact bits, little-endian.
        assert_eq!(
            Value::I32(-2).to_bytes(),
            [0x7f, 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(
            Value::FuncRef(None).to_bytes(),
            [0x70, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn values_reject_garbage() {
        let err = |bytes: &[u8]| Value::from_bytes(bytes).unwrap_err();
        assert_eq!(
            err(&[0x7f, 0, 0, 0, 0, 1, 0, 0, 0]),
            ProtoError::InvalidField("value bits")
        );
        assert_eq!(
            err(&[0x7d, 0, 0, 0, 0, 0, 0, 0, 1]),
            ProtoError::InvalidField("value bits")
        );
        assert_eq!(
            err(&[0x6f, 0, 0, 0, 0, 1, 0, 0, 0]),
            ProtoError::InvalidField("value bits")
        );
        assert_eq!(
            err(&[0x70, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            ProtoError::InvalidField("value bits")
        );
        assert_eq!(
            err(&[0x7b, 0, 0, 0, 0, 0, 0, 0, 0]),
            ProtoError::InvalidField("value type")
        );
        assert_eq!(err(&[0x7f, 0, 0, 0, 0, 0, 0, 0]), ProtoError::Truncated);
        assert_eq!(
            err(&[0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ProtoError::TrailingBytes
        );
        assert_eq!(err(&[]), ProtoError::Truncated);
    }

    #[test]
    fn requests_round_trip() {
        for request in requests() {
            let bytes = encode(&request);
            assert!(bytes.len() <= MAX_PAYLOAD_LEN);
            assert_eq!(Request::decode(&bytes), Ok(request), "{request:?}");
            assert_eq!(peek_command(&bytes), Ok(request.command()));
            assert_eq!(raw_command(&bytes), request.command().code());
            assert_eq!(&bytes[..4], b"WASM");
            assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), PROTOCOL_VERSION);
        }
    }

    #[test]
    fn request_layouts_are_exact() {
        let bytes = encode(&Request::LoadChunk {
            handle: 0x0102,
            offset: 0x0304,
            data: b"xy",
        });
        assert_eq!(
            bytes,
            [
                b'W', b'A', b'S', b'M', 3, 0, 3, 0, // header
                2, 1, 0, 0, 0, 0, 0, 0, // handle
                4, 3, 0, 0, // offset
                2, 0, 0, 0, // length
                b'x', b'y',
            ]
        );
        let bytes = encode(&Request::Invoke {
            instance: 9,
            name: "f",
            args: ValueList::new(&[Value::I64(-1)]),
        });
        assert_eq!(
            bytes,
            [
                b'W', b'A', b'S', b'M', 3, 0, 6, 0, // header
                9, 0, 0, 0, 0, 0, 0, 0, // instance
                1, 0, 1, 0, // name length, argument count
                b'f', 0x7e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ]
        );
        assert_eq!(encode(&Request::Version).len(), REQUEST_HEADER_LEN);
        let bytes = encode(&Request::Instantiate {
            module: 3,
            fuel: 0,
            max_memory_pages: 0,
            link: 0x0405,
        });
        assert_eq!(
            bytes,
            [
                b'W', b'A', b'S', b'M', 3, 0, 5, 0, // header
                3, 0, 0, 0, 0, 0, 0, 0, // module
                0, 0, 0, 0, 0, 0, 0, 0, // fuel
                0, 0, 0, 0, // max_memory_pages
                5, 4, 0, 0, 0, 0, 0, 0, // link
            ]
        );
        let bytes = encode(&Request::Register {
            instance: 9,
            name: "M",
        });
        assert_eq!(
            bytes,
            [
                b'W', b'A', b'S', b'M', 3, 0, 11, 0, // header
                9, 0, 0, 0, 0, 0, 0, 0, // instance
                1, 0, b'M', // name
            ]
        );
        let bytes = encode(&Request::Get {
            instance: 9,
            name: "g",
        });
        assert_eq!(
            bytes,
            [
                b'W', b'A', b'S', b'M', 3, 0, 12, 0, // header
                9, 0, 0, 0, 0, 0, 0, 0, // instance
                1, 0, b'g', // name
            ]
        );
    }

    #[test]
    fn largest_requests_fit() {
        let name = "n".repeat(MAX_NAME_LEN);
        let args = [Value::F64(0); MAX_VALUES];
        let bytes = encode(&Request::Invoke {
            instance: 1,
            name: &name,
            args: ValueList::new(&args),
        });
        assert!(bytes.len() <= MAX_PAYLOAD_LEN);
        let decoded = Request::decode(&bytes);
        assert!(matches!(decoded, Ok(Request::Invoke { args, .. }) if args.len() == MAX_VALUES));
    }

    #[test]
    fn truncated_and_extended_requests_are_rejected() {
        for request in requests() {
            let bytes = encode(&request);
            for len in 0..bytes.len() {
                assert!(
                    Request::decode(&bytes[..len]).is_err(),
                    "{request:?} cut at {len}"
                );
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(Request::decode(&longer).is_err(), "{request:?} extended");
        }
    }

    #[test]
    fn garbage_requests_never_panic() {
        for seed in 0..2000u64 {
            let len = (seed as usize * 7) % 200;
            let mut bytes = noise(seed, len);
            let _ = Request::decode(&bytes);
            let _ = raw_command(&bytes);
            // With a valid header, so that the bodies are exercised too.
            if bytes.len() >= REQUEST_HEADER_LEN {
                bytes[..4].copy_from_slice(b"WASM");
                bytes[4..6].copy_from_slice(&PROTOCOL_VERSION.to_le_bytes());
                bytes[6..8].copy_from_slice(&(1 + (seed % 12) as u16).to_le_bytes());
                let _ = Request::decode(&bytes);
            }
        }
        // Every single-byte change to every valid request.
        for request in requests() {
            let bytes = encode(&request);
            for at in 0..bytes.len().min(64) {
                for flip in [0x01, 0x80, 0xff] {
                    let mut b = bytes.clone();
                    b[at] ^= flip;
                    let _ = Request::decode(&b);
                }
            }
        }
    }

    fn body(command: Command, fields: &[&[u8]]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"WASM");
        b.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        b.extend_from_slice(&command.code().to_le_bytes());
        for f in fields {
            b.extend_from_slice(f);
        }
        b
    }

    #[test]
    fn invalid_request_fields_are_rejected() {
        let decode = |b: &[u8]| Request::decode(b).unwrap_err();
        let mut header = encode(&Request::Version);
        header[0] = b'w';
        assert_eq!(decode(&header), ProtoError::BadMagic);
        assert_eq!(raw_command(&header), 0);
        let mut header = encode(&Request::Version);
        header[4] = 1;
        assert_eq!(decode(&header), ProtoError::UnsupportedVersion(1));
        assert_eq!(
            ProtoError::UnsupportedVersion(1).status(),
            Status::UnsupportedVersion
        );
        let mut header = encode(&Request::Version);
        header[6] = 42;
        assert_eq!(decode(&header), ProtoError::UnknownCommand(42));
        assert_eq!(peek_command(&header), Err(ProtoError::UnknownCommand(42)));
        assert_eq!(raw_command(&header), 42);

        let lb = Command::LoadBegin;
        // An empty module is uploaded like any other, to be found invalid at LOAD_END.
        assert_eq!(
            Request::decode(&body(lb, &[&0u32.to_le_bytes(), &[0, 0]])),
            Ok(Request::LoadBegin {
                total_size: 0,
                name: ""
            })
        );
        let too_big = (MAX_MODULE_LEN + 1).to_le_bytes();
        assert_eq!(
            decode(&body(lb, &[&too_big, &[0, 0]])),
            ProtoError::TooLarge("module")
        );
        assert_eq!(
            ProtoError::TooLarge("module").status(),
            Status::LimitExceeded
        );
        let long = [b'a'; MAX_NAME_LEN + 1];
        let long_len = (MAX_NAME_LEN as u16 + 1).to_le_bytes();
        assert_eq!(
            decode(&body(lb, &[&1u32.to_le_bytes(), &long_len, &long])),
            ProtoError::TooLarge("name")
        );
        assert_eq!(
            decode(&body(
                lb,
                &[&1u32.to_le_bytes(), &2u16.to_le_bytes(), &[0xc3, 0x28]]
            )),
            ProtoError::InvalidField("name")
        );
        assert_eq!(
            decode(&body(
                lb,
                &[&1u32.to_le_bytes(), &2u16.to_le_bytes(), b"a\n"]
            )),
            ProtoError::InvalidField("module name")
        );

        let lc = Command::LoadChunk;
        let chunk = |len: u32, data: &[u8]| {
            body(
                lc,
                &[
                    &1u64.to_le_bytes(),
                    &0u32.to_le_bytes(),
                    &len.to_le_bytes(),
                    data,
                ],
            )
        };
        assert_eq!(
            decode(&chunk(0, &[])),
            ProtoError::InvalidField("chunk length")
        );
        let big = vec![0u8; MAX_CHUNK_LEN + 1];
        assert_eq!(
            decode(&chunk(big.len() as u32, &big)),
            ProtoError::TooLarge("chunk")
        );
        assert_eq!(
            decode(&chunk(u32::MAX, &[1])),
            ProtoError::TooLarge("chunk")
        );
        assert_eq!(decode(&chunk(3, b"ab")), ProtoError::Truncated);
        assert_eq!(decode(&chunk(1, b"ab")), ProtoError::TrailingBytes);

        let inv = Command::Invoke;
        let invoke = |count: u16, values: &[u8]| {
            body(
                inv,
                &[
                    &1u64.to_le_bytes(),
                    &0u16.to_le_bytes(),
                    &count.to_le_bytes(),
                    values,
                ],
            )
        };
        assert_eq!(
            decode(&invoke(1001, &[])),
            ProtoError::TooLarge("value count")
        );
        assert_eq!(
            decode(&invoke(1, &[0x7f, 0, 0, 0, 0])),
            ProtoError::Truncated
        );
        assert_eq!(
            decode(&invoke(1, &[0x7b, 0, 0, 0, 0, 0, 0, 0, 0])),
            ProtoError::InvalidField("value type")
        );
        assert_eq!(
            decode(&invoke(0, &[0x7f, 0, 0, 0, 0, 0, 0, 0, 0])),
            ProtoError::TrailingBytes
        );

        let unload = |flags: u32| {
            body(
                Command::Unload,
                &[&1u64.to_le_bytes(), &flags.to_le_bytes()],
            )
        };
        let instantiate = |fuel: u64, pages: u32, link: u64| {
            body(
                Command::Instantiate,
                &[
                    &1u64.to_le_bytes(),
                    &fuel.to_le_bytes(),
                    &pages.to_le_bytes(),
                    &link.to_le_bytes(),
                ],
            )
        };
        assert!(Request::decode(&instantiate(5, 6, 0)).is_ok());
        assert!(Request::decode(&instantiate(0, 0, 7)).is_ok());
        for (fuel, pages) in [(5, 0), (0, 6)] {
            assert_eq!(
                decode(&instantiate(fuel, pages, 7)),
                ProtoError::InvalidField("limits of a linked instance")
            );
        }
        // The INSTANTIATE of an older draft, without `link`.
        let mut short = instantiate(0, 0, 0);
        short.truncate(short.len() - 8);
        assert_eq!(decode(&short), ProtoError::Truncated);
        for command in [Command::Register, Command::Get] {
            let named = |len: u16, name: &[u8]| {
                body(command, &[&1u64.to_le_bytes(), &len.to_le_bytes(), name])
            };
            assert!(Request::decode(&named(1, b"m")).is_ok());
            assert_eq!(decode(&named(2, b"m")), ProtoError::Truncated);
            assert_eq!(decode(&named(0, b"m")), ProtoError::TrailingBytes);
            assert_eq!(
                decode(&named(2, &[0xc3, 0x28])),
                ProtoError::InvalidField("name")
            );
            assert_eq!(
                decode(&named(MAX_NAME_LEN as u16 + 1, &[b'a'; MAX_NAME_LEN + 1])),
                ProtoError::TooLarge("name")
            );
        }
        assert!(Request::decode(&unload(1)).is_ok());
        assert_eq!(decode(&unload(2)), ProtoError::InvalidField("unload flags"));
        assert_eq!(
            decode(&body(Command::Version, &[&[0]])),
            ProtoError::TrailingBytes
        );
        for e in [
            ProtoError::Truncated,
            ProtoError::TrailingBytes,
            ProtoError::BadMagic,
            ProtoError::InvalidField("x"),
        ] {
            assert_eq!(e.status(), Status::MalformedRequest);
        }
    }

    #[test]
    fn encoder_refuses_what_the_decoder_would() {
        let mut buf = [0u8; MAX_PAYLOAD_LEN];
        let long = "x".repeat(MAX_NAME_LEN + 1);
        let too_many = [Value::I32(0); MAX_VALUES + 1];
        let big = vec![0u8; MAX_CHUNK_LEN + 1];
        for (request, error) in [
            (
                Request::LoadBegin {
                    total_size: 1,
                    name: &long,
                },
                ProtoError::TooLarge("name"),
            ),
            (
                Request::LoadBegin {
                    total_size: MAX_MODULE_LEN + 1,
                    name: "a",
                },
                ProtoError::TooLarge("module"),
            ),
            (
                Request::LoadBegin {
                    total_size: 1,
                    name: "\0",
                },
                ProtoError::InvalidField("module"),
            ),
            (
                Request::LoadChunk {
                    handle: 1,
                    offset: 0,
                    data: &[],
                },
                ProtoError::InvalidField("chunk length"),
            ),
            (
                Request::LoadChunk {
                    handle: 1,
                    offset: 0,
                    data: &big,
                },
                ProtoError::TooLarge("chunk"),
            ),
            (
                Request::Invoke {
                    instance: 1,
                    name: &long,
                    args: ValueList::new(&[]),
                },
                ProtoError::TooLarge("name"),
            ),
            (
                Request::Invoke {
                    instance: 1,
                    name: "f",
                    args: ValueList::new(&too_many),
                },
                ProtoError::TooLarge("value count"),
            ),
            (
                Request::Instantiate {
                    module: 1,
                    fuel: 1,
                    max_memory_pages: 0,
                    link: 2,
                },
                ProtoError::InvalidField("limits of a linked instance"),
            ),
            (
                Request::Register {
                    instance: 1,
                    name: &long,
                },
                ProtoError::TooLarge("name"),
            ),
            (
                Request::Get {
                    instance: 1,
                    name: &long,
                },
                ProtoError::TooLarge("name"),
            ),
        ] {
            assert_eq!(request.encode(&mut buf), Err(error), "{request:?}");
        }
    }

    #[test]
    fn encoding_into_small_buffers_fails_cleanly() {
        for request in requests() {
            let len = encode(&request).len();
            for size in 0..len {
                let mut buf = vec![0u8; size];
                assert_eq!(request.encode(&mut buf), Err(ProtoError::BufferTooSmall));
            }
        }
    }

    /// A sample of every kind of reply, as the driver would write them.
    fn replies() -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        type Make = dyn Fn(&mut [u8]) -> Result<Vec<u8>, ProtoError>;
        let mut push = |f: &Make| {
            out.push(f(&mut buf).unwrap());
        };
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::Version)?;
            w.version(&VersionInfo {
                driver: [0, 1, 0],
                flags: VERSION_FLAG_PRIVILEGED,
                max_module_len: 16 << 20,
                max_chunk_len: MAX_CHUNK_LEN as u32,
                max_memory_pages: 1024,
                default_fuel: 10_000_000,
                max_fuel: 0,
            })?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::LoadBegin)?;
            w.upload(7)?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::LoadChunk)?;
            w.received(100)?;
            w.message("100 of 200 bytes");
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::LoadEnd)?;
            w.module(&ModuleInfo {
                handle: 7,
                size: 41,
                imports: 0,
                exports: 1,
            })?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::Instantiate)?;
            w.instance(&InstanceInfo {
                handle: 8,
                module: 7,
                memory_pages: 1,
            })?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::Invoke)?;
            w.results(12, ALL_VALUES)?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::Invoke)?;
            w.results(0, [])?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| Ok(ReplyWriter::ok(buf, Command::Unload)?.finish()?.to_vec()));
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::List)?;
            for entry in sample_entries() {
                assert!(w.list_entry(&entry)?);
            }
            w.list_end(0, false)?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::List)?;
            w.list_end(5, false)?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::Stats)?;
            w.stats(&Stats {
                modules: 1,
                instances: 2,
                traps: 3,
                denied: 12,
                ..Stats::default()
            })?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::new(buf, Command::LoadEnd.code(), Status::InvalidModule)?;
            w.invalid_module(0x2a)?;
            w.message("type mismatch");
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::new(buf, Command::Invoke.code(), Status::Trap)?;
            w.trap(&TrapInfo {
                code: TrapCode::IntegerDivideByZero,
                func: Some(3),
                offset: None,
                host_code: 0,
            })?;
            w.message("integer divide by zero");
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::new(buf, Command::Invoke.code(), Status::Trap)?;
            w.trap(&TrapInfo {
                code: TrapCode::Host,
                func: None,
                offset: Some(9),
                host_code: -5,
            })?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::new(buf, Command::LoadBegin.code(), Status::PermissionDenied)?;
            w.message("CAP_SYS_ADMIN required");
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            Ok(ReplyWriter::new(buf, 77, Status::UnknownCommand)?
                .finish()?
                .to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::Exports)?;
            assert!(w.export_entry(ExportKind::Func, "add", [ValType::I32; 2], [ValType::I32])?);
            assert!(w.export_entry(ExportKind::Memory, "memory", [], [])?);
            assert!(w.export_entry(ExportKind::Func, "all", ValType::ALL, [])?);
            w.message("3 exports");
            w.exports_end(3, false)?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::Register)?;
            w.message("registered");
            Ok(w.finish()?.to_vec())
        });
        for value in GLOBALS {
            push(&move |buf| {
                let mut w = ReplyWriter::ok(buf, Command::Get)?;
                w.global(value)?;
                Ok(w.finish()?.to_vec())
            });
        }
        push(&|buf| {
            let mut w = ReplyWriter::ok(buf, Command::Get)?;
            w.global(Value::FuncRef(None))?;
            Ok(w.finish()?.to_vec())
        });
        push(&|buf| {
            let mut w = ReplyWriter::new(buf, Command::Instantiate.code(), Status::LinkError)?;
            w.message("unknown import");
            Ok(w.finish()?.to_vec())
        });
        out
    }

    fn sample_entries() -> [ListEntry<'static>; 3] {
        [
            ListEntry {
                handle: 1,
                kind: HandleKind::Upload,
                parent: 0,
                calls: 0,
                fuel_used: 0,
                size: 100,
                exports: 50,
                memory_pages: 0,
                name: "partial",
            },
            ListEntry {
                handle: 2,
                kind: HandleKind::Module,
                parent: 0,
                calls: 0,
                fuel_used: 0,
                size: 41,
                exports: 1,
                memory_pages: 0,
                name: "add",
            },
            ListEntry {
                handle: 3,
                kind: HandleKind::Instance,
                parent: 2,
                calls: 10,
                fuel_used: 1234,
                size: 41,
                exports: 1,
                memory_pages: 2,
                name: "add",
            },
        ]
    }

    #[test]
    fn replies_round_trip() {
        let replies = replies();
        let decoded: Vec<Reply<'_>> = replies.iter().map(|r| Reply::decode(r).unwrap()).collect();
        let mut it = decoded.iter();
        let mut next = || *it.next().unwrap();

        let r = next();
        assert_eq!((r.command, r.status, r.message), (1, Status::Ok, ""));
        let ReplyBody::Version(v) = r.body else {
            panic!("{r:?}")
        };
        assert_eq!(v.driver, [0, 1, 0]);
        assert!(v.privileged());
        assert_eq!(
            (v.max_module_len, v.max_memory_pages, v.default_fuel),
            (16 << 20, 1024, 10_000_000)
        );
        assert_eq!(next().body, ReplyBody::Upload { handle: 7 });
        let r = next();
        assert_eq!(
            (r.body, r.message),
            (ReplyBody::Received { bytes: 100 }, "100 of 200 bytes")
        );
        assert_eq!(
            next().body,
            ReplyBody::Module(ModuleInfo {
                handle: 7,
                size: 41,
                imports: 0,
                exports: 1
            })
        );
        assert_eq!(
            next().body,
            ReplyBody::Instance(InstanceInfo {
                handle: 8,
                module: 7,
                memory_pages: 1
            })
        );
        let ReplyBody::Results { fuel_used, values } = next().body else {
            panic!()
        };
        assert_eq!(fuel_used, 12);
        assert_eq!(values.iter().collect::<Vec<_>>(), ALL_VALUES);
        assert_eq!(values, ValueList::new(&ALL_VALUES));
        let ReplyBody::Results { values, .. } = next().body else {
            panic!()
        };
        assert!(values.is_empty());
        assert_eq!(next().body, ReplyBody::Empty);
        let ReplyBody::List(page) = next().body else {
            panic!()
        };
        assert_eq!((page.len(), page.more, page.next_cursor), (3, false, 3));
        assert_eq!(page.entries().collect::<Vec<_>>(), sample_entries());
        let ReplyBody::List(page) = next().body else {
            panic!()
        };
        assert_eq!((page.len(), page.more, page.next_cursor), (0, false, 5));
        assert!(page.is_empty() && page.entries().next().is_none());
        let ReplyBody::Stats(s) = next().body else {
            panic!()
        };
        assert_eq!(
            (s.modules, s.instances, s.traps, s.denied, s.loads),
            (1, 2, 3, 12, 0)
        );
        let r = next();
        assert_eq!(
            (r.status, r.body, r.message),
            (
                Status::InvalidModule,
                ReplyBody::InvalidModule { offset: 0x2a },
                "type mismatch"
            )
        );
        let r = next();
        assert_eq!(
            r.body,
            ReplyBody::Trap(TrapInfo {
                code: TrapCode::IntegerDivideByZero,
                func: Some(3),
                offset: None,
                host_code: 0
            })
        );
        assert_eq!(
            next().body,
            ReplyBody::Trap(TrapInfo {
                code: TrapCode::Host,
                func: None,
                offset: Some(9),
                host_code: -5
            })
        );
        let r = next();
        assert_eq!(
            (r.status, r.command, r.body),
            (Status::PermissionDenied, 2, ReplyBody::Empty)
        );
        let r = next();
        assert_eq!((r.status, r.command), (Status::UnknownCommand, 77));
        let r = next();
        assert_eq!(r.message, "3 exports");
        let ReplyBody::Exports(page) = r.body else {
            panic!()
        };
        assert_eq!((page.len(), page.more, page.next_cursor), (3, false, 3));
        let exports: Vec<_> = page.entries().collect();
        assert_eq!(exports.len(), 3);
        assert_eq!(
            (exports[0].kind, exports[0].name),
            (ExportKind::Func, "add")
        );
        assert_eq!(
            exports[0].params.iter().collect::<Vec<_>>(),
            [ValType::I32; 2]
        );
        assert_eq!(
            exports[0].results.iter().collect::<Vec<_>>(),
            [ValType::I32]
        );
        assert_eq!(
            (exports[1].kind, exports[1].params.len()),
            (ExportKind::Memory, 0)
        );
        assert_eq!(exports[2].params.iter().collect::<Vec<_>>(), ValType::ALL);
        assert!(exports[2].results.is_empty());
        let r = next();
        assert_eq!(
            (r.command, r.status, r.body, r.message),
            (11, Status::Ok, ReplyBody::Empty, "registered")
        );
        for value in GLOBALS {
            assert_eq!(next().body, ReplyBody::Global(value));
        }
        assert_eq!(next().body, ReplyBody::Global(Value::FuncRef(None)));
        let r = next();
        assert_eq!(
            (r.command, r.status, r.body, r.message),
            (5, Status::LinkError, ReplyBody::Empty, "unknown import")
        );
        assert!(it.next().is_none());
    }

    #[test]
    fn get_replies_are_checked() {
        let reply = |body: &[u8]| {
            let mut b = Vec::new();
            b.extend_from_slice(b"WASM");
            b.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
            b.extend_from_slice(&Command::Get.code().to_le_bytes());
            b.extend_from_slice(&[0, 0, 0, 0]);
            b.extend_from_slice(&(body.len() as u32).to_le_bytes());
            b.extend_from_slice(body);
            b
        };
        let decode = |b: &[u8]| Reply::decode(b).map(|_| ()).unwrap_err();
        let good = Value::I32(-1).to_bytes();
        assert_eq!(
            Reply::decode(&reply(&good)).unwrap().body,
            ReplyBody::Global(Value::I32(-1))
        );
        assert_eq!(decode(&reply(&good[..8])), ProtoError::Truncated);
        assert_eq!(
            decode(&reply(&[good, good].concat())),
            ProtoError::TrailingBytes
        );
        assert_eq!(
            decode(&reply(&[0x7b, 0, 0, 0, 0, 0, 0, 0, 0])),
            ProtoError::InvalidField("value type")
        );
        assert_eq!(decode(&reply(&[])), ProtoError::Truncated);
        let mut small = [0u8; REPLY_HEADER_LEN + VALUE_LEN - 1];
        let mut w = ReplyWriter::ok(&mut small, Command::Get).unwrap();
        assert_eq!(w.global(Value::I64(0)), Err(ProtoError::BufferTooSmall));
    }

    #[test]
    fn reply_layout_is_exact() {
        let mut buf = [0u8; 64];
        let mut w = ReplyWriter::ok(&mut buf, Command::LoadBegin).unwrap();
        w.message("hi");
        w.upload(0x0102).unwrap(); // after the message: the message moves
        assert_eq!(
            w.finish().unwrap(),
            [
                b'W', b'A', b'S', b'M', 3, 0, 2, 0, // magic, version, command
                0, 0, 2, 0, 8, 0, 0, 0, // status, message length, body length
                2, 1, 0, 0, 0, 0, 0, 0, // handle
                b'h', b'i',
            ]
        );
    }

    #[test]
    fn truncated_extended_and_mutated_replies_are_rejected() {
        for reply in replies() {
            for len in 0..reply.len() {
                assert!(
                    Reply::decode(&reply[..len]).is_err(),
                    "cut at {len}: {reply:?}"
                );
            }
            let mut longer = reply.clone();
            longer.push(b'x');
            assert!(Reply::decode(&longer).is_err());
            for at in 0..reply.len().min(80) {
                for flip in [0x01, 0x40, 0xff] {
                    let mut b = reply.clone();
                    b[at] ^= flip;
                    let _ = Reply::decode(&b);
                }
            }
        }
        for seed in 0..2000u64 {
            let mut bytes = noise(seed, (seed as usize * 13) % 300);
            let _ = Reply::decode(&bytes);
            if bytes.len() >= REPLY_HEADER_LEN {
                bytes[..4].copy_from_slice(b"WASM");
                bytes[4..6].copy_from_slice(&PROTOCOL_VERSION.to_le_bytes());
                bytes[6..8].copy_from_slice(&(1 + (seed % 12) as u16).to_le_bytes());
                bytes[8..10].copy_from_slice(&((seed % 5) as u16 * 2).to_le_bytes());
                let body_len = (bytes.len() - REPLY_HEADER_LEN) as u32;
                bytes[10..12].copy_from_slice(&0u16.to_le_bytes());
                bytes[12..16].copy_from_slice(&body_len.to_le_bytes());
                let _ = Reply::decode(&bytes);
            }
        }
    }

    #[test]
    fn invalid_reply_fields_are_rejected() {
        let header = |command: u16, status: u16, message: &[u8], body: &[u8]| {
            let mut b = Vec::new();
            b.extend_from_slice(b"WASM");
            b.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
            b.extend_from_slice(&command.to_le_bytes());
            b.extend_from_slice(&status.to_le_bytes());
            b.extend_from_slice(&(message.len() as u16).to_le_bytes());
            b.extend_from_slice(&(body.len() as u32).to_le_bytes());
            b.extend_from_slice(body);
            b.extend_from_slice(message);
            b
        };
        let decode = |b: &[u8]| Reply::decode(b).unwrap_err();
        assert!(Reply::decode(&header(7, 0, b"", b"")).is_ok());
        assert_eq!(
            decode(&header(7, 99, b"", b"")),
            ProtoError::UnknownStatus(99)
        );
        assert_eq!(
            decode(&header(99, 0, b"", b"")),
            ProtoError::UnknownCommand(99)
        );
        assert_eq!(
            decode(&header(7, 0, b"\xff", b"")),
            ProtoError::InvalidField("message")
        );
        assert_eq!(decode(&header(7, 0, b"", b"x")), ProtoError::TrailingBytes);
        assert_eq!(
            decode(&header(6, 4, b"", &[0; 14])),
            ProtoError::InvalidField("trap")
        );
        assert_eq!(decode(&header(6, 4, b"", &[1, 0])), ProtoError::Truncated);
        assert_eq!(
            decode(&header(6, 0, b"", &[0, 0, 0, 0, 0, 0, 0, 0, 1, 0])),
            ProtoError::Truncated
        );
        let mut list = vec![0u8; LIST_HEADER_LEN];
        list[10] = 2; // unknown flag
        assert_eq!(
            decode(&header(8, 0, b"", &list)),
            ProtoError::InvalidField("list flags")
        );
        list[10] = 0;
        list[8] = 1; // one entry announced, none there
        assert_eq!(decode(&header(8, 0, b"", &list)), ProtoError::Truncated);
        let mut entry = vec![0u8; LIST_ENTRY_HEADER_LEN];
        entry[44] = 5; // unknown kind
        let mut bad = list.clone();
        bad.extend_from_slice(&entry);
        assert_eq!(
            decode(&header(8, 0, b"", &bad)),
            ProtoError::InvalidField("kind")
        );
        entry[44] = 1;
        entry[45] = 1; // padding
        let mut bad = list.clone();
        bad.extend_from_slice(&entry);
        assert_eq!(
            decode(&header(8, 0, b"", &bad)),
            ProtoError::InvalidField("list entry padding")
        );
        // A lying body length.
        let mut lying = header(1, 0, b"", &[0; VERSION_BODY_LEN]);
        lying[12] = 200;
        assert_eq!(decode(&lying), ProtoError::Truncated);
        let mut other = header(1, 0, b"", &[]);
        other[4] = 9;
        assert_eq!(decode(&other), ProtoError::UnsupportedVersion(9));
        other[0] = 0;
        assert_eq!(decode(&other), ProtoError::BadMagic);
    }

    #[test]
    fn messages_are_cut_at_character_boundaries() {
        let mut buf = [0u8; REPLY_HEADER_LEN + 5];
        let mut w = ReplyWriter::new(&mut buf, 1, Status::Internal).unwrap();
        assert!(!w.message("ab\u{e9}\u{e9}")); // 2 + 2 + 2 bytes into 5
        let reply = w.finish().unwrap().to_vec();
        assert_eq!(Reply::decode(&reply).unwrap().message, "ab\u{e9}");

        let mut buf = vec![0u8; MAX_PAYLOAD_LEN + 100];
        let mut w = ReplyWriter::new(&mut buf, 1, Status::Internal).unwrap();
        let long = "\u{1f980}".repeat(MAX_PAYLOAD_LEN);
        use core::fmt::Write;
        write!(w, "{long}").unwrap();
        let reply = w.finish().unwrap();
        assert!(reply.len() <= MAX_PAYLOAD_LEN);
        let message = Reply::decode(reply).unwrap().message;
        assert!(message.len() > MAX_PAYLOAD_LEN - REPLY_HEADER_LEN - 4);

        assert_eq!(
            ReplyWriter::new(&mut [0u8; REPLY_HEADER_LEN - 1], 1, Status::Ok).err(),
            Some(ProtoError::BufferTooSmall)
        );
    }

    #[test]
    fn list_pages_fill_up_and_say_more() {
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        let mut w = ReplyWriter::ok(&mut buf, Command::List).unwrap();
        w.message("page 1");
        let name = "m".repeat(MAX_NAME_LEN);
        let mut pushed = 0u64;
        loop {
            let entry = ListEntry {
                handle: pushed + 1,
                kind: HandleKind::Module,
                parent: 0,
                calls: 0,
                fuel_used: 0,
                size: 1,
                exports: 0,
                memory_pages: 0,
                name: &name,
            };
            if !w.list_entry(&entry).unwrap() {
                break;
            }
            pushed += 1;
        }
        let per_entry = LIST_ENTRY_HEADER_LEN + MAX_NAME_LEN;
        let expected = (MAX_PAYLOAD_LEN - REPLY_HEADER_LEN - LIST_HEADER_LEN - 6) / per_entry;
        assert_eq!(pushed as usize, expected);
        w.list_end(0, true).unwrap();
        let reply = w.finish().unwrap();
        let decoded = Reply::decode(reply).unwrap();
        assert_eq!(decoded.message, "page 1");
        let ReplyBody::List(page) = decoded.body else {
            panic!()
        };
        assert!(page.more);
        assert_eq!(page.next_cursor, pushed);
        assert_eq!(page.entries().count(), expected);
        assert!(page.entries().all(|e| e.name == name));
    }

    #[test]
    fn results_limits() {
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        let mut w = ReplyWriter::ok(&mut buf, Command::Invoke).unwrap();
        w.results(0, [Value::I64(-1); MAX_VALUES]).unwrap();
        w.message("ok");
        let reply = w.finish().unwrap();
        let ReplyBody::Results { values, .. } = Reply::decode(reply).unwrap().body else {
            panic!()
        };
        assert_eq!(values.len(), MAX_VALUES);
        assert!(values.iter().all(|v| v == Value::I64(-1)));

        let mut w = ReplyWriter::ok(&mut buf, Command::Invoke).unwrap();
        assert_eq!(
            w.results(0, [Value::I32(0); MAX_VALUES + 1]),
            Err(ProtoError::TooLarge("value count"))
        );
        let mut small = [0u8; REPLY_HEADER_LEN + 12];
        let mut w = ReplyWriter::ok(&mut small, Command::Invoke).unwrap();
        assert_eq!(
            w.results(0, [Value::I32(0)]),
            Err(ProtoError::BufferTooSmall)
        );
    }

    #[test]
    fn rejections_echo_the_command() {
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        let mut request = encode(&Request::LoadEnd { handle: 1 });
        request.push(0);
        let error = Request::decode(&request).unwrap_err();
        let reply = ReplyWriter::reject(&mut buf, &request, &error).unwrap();
        let reply = Reply::decode(reply).unwrap();
        assert_eq!(reply.command, Command::LoadEnd.code());
        assert_eq!(reply.status, Status::MalformedRequest);
        assert_eq!(reply.message, "trailing bytes after the message");
        let reply = ReplyWriter::reject(&mut buf, b"junk", &ProtoError::Truncated).unwrap();
        assert_eq!(Reply::decode(reply).unwrap().command, 0);
    }

    #[test]
    fn set_status_drops_the_body() {
        let mut buf = vec![0u8; 256];
        let mut w = ReplyWriter::ok(&mut buf, Command::Invoke).unwrap();
        w.results(0, [Value::I32(1)]).unwrap();
        w.message("partial");
        w.set_status(Status::OutOfMemory);
        assert_eq!(w.status(), Status::OutOfMemory);
        let reply = Reply::decode(w.finish().unwrap()).unwrap();
        assert_eq!(
            (reply.status, reply.body, reply.message),
            (Status::OutOfMemory, ReplyBody::Empty, "")
        );
    }

    #[test]
    fn errors_display() {
        let text = format!("{}", ProtoError::UnsupportedVersion(3));
        assert!(text.contains('3') && text.contains("version"));
        assert_eq!(format!("{}", Status::NoSuchHandle), "no such handle");
        let _: String = format!("{:?}", Request::Version);
    }

    #[test]
    fn export_entries_are_checked() {
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        let mut w = ReplyWriter::ok(&mut buf, Command::Exports).unwrap();
        assert_eq!(
            w.export_entry(ExportKind::Global, "g", [ValType::I32], []),
            Err(ProtoError::InvalidField("export types"))
        );
        assert_eq!(
            w.export_entry(ExportKind::Func, "f", [ValType::I32; MAX_VALUES + 1], []),
            Err(ProtoError::TooLarge("value count"))
        );
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            w.export_entry(ExportKind::Func, &long, [], []),
            Err(ProtoError::TooLarge("name"))
        );

        // The largest entry fits; pages fill up.
        let name = "f".repeat(MAX_NAME_LEN);
        let mut w = ReplyWriter::ok(&mut buf, Command::Exports).unwrap();
        let mut pushed = 0;
        while w
            .export_entry(
                ExportKind::Func,
                &name,
                [ValType::F64; MAX_VALUES],
                [ValType::I64; MAX_VALUES],
            )
            .unwrap()
        {
            pushed += 1;
        }
        let per_entry = EXPORT_ENTRY_HEADER_LEN + MAX_NAME_LEN + 2 * MAX_VALUES;
        assert_eq!(
            pushed,
            (MAX_PAYLOAD_LEN - REPLY_HEADER_LEN - LIST_HEADER_LEN) / per_entry
        );
        w.exports_end(pushed as u64, true).unwrap();
        let reply = w.finish().unwrap();
        let ReplyBody::Exports(page) = Reply::decode(reply).unwrap().body else {
            panic!()
        };
        assert!(page.more);
        assert_eq!(page.entries().count(), pushed);
        assert!(page
            .entries()
            .all(|e| e.params.len() == MAX_VALUES && e.name == name));

        // Garbage entries.
        let page = |entry: &[u8]| {
            let mut b = Vec::new();
            b.extend_from_slice(b"WASM");
            b.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
            b.extend_from_slice(&Command::Exports.code().to_le_bytes());
            b.extend_from_slice(&[0, 0, 0, 0]);
            b.extend_from_slice(&((LIST_HEADER_LEN + entry.len()) as u32).to_le_bytes());
            b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
            b.extend_from_slice(entry);
            b
        };
        let decode = |b: &[u8]| Reply::decode(b).map(|_| ()).unwrap_err();
        assert!(Reply::decode(&page(&[0, 0, 1, 0, 1, 0, 0, 0, b'f', 0x7f])).is_ok());
        assert_eq!(
            decode(&page(&[0, 0, 1, 0, 1, 0, 0, 0, b'f', 0x7b])),
            ProtoError::InvalidField("value type")
        );
        assert_eq!(
            decode(&page(&[4, 0, 1, 0, 0, 0, 0, 0, b'f'])),
            ProtoError::InvalidField("kind")
        );
        assert_eq!(
            decode(&page(&[0, 1, 1, 0, 0, 0, 0, 0, b'f'])),
            ProtoError::InvalidField("export entry padding")
        );
        assert_eq!(
            decode(&page(&[2, 0, 1, 0, 1, 0, 0, 0, b'm', 0x7f])),
            ProtoError::InvalidField("export types")
        );
        assert_eq!(
            decode(&page(&[0, 0, 1, 0, 0xe9, 0x03, 0, 0, b'f'])),
            ProtoError::TooLarge("value count")
        );
        assert_eq!(
            decode(&page(&[0, 0, 1, 0, 2, 0, 0, 0, b'f', 0x7f])),
            ProtoError::Truncated
        );
    }

    /// An iterator whose length lies.
    struct Liar(usize);

    impl Iterator for Liar {
        type Item = ValType;

        fn next(&mut self) -> Option<ValType> {
            self.0 = self.0.checked_sub(1)?;
            Some(ValType::I32)
        }
    }

    impl ExactSizeIterator for Liar {
        fn len(&self) -> usize {
            1
        }
    }

    #[test]
    fn lying_type_iterators_are_caught() {
        let mut buf = vec![0u8; 512];
        let mut w = ReplyWriter::ok(&mut buf, Command::Exports).unwrap();
        assert_eq!(
            w.export_entry(ExportKind::Func, "f", Liar(3), []),
            Err(ProtoError::InvalidField("export types"))
        );
        let mut w = ReplyWriter::ok(&mut buf, Command::Exports).unwrap();
        assert_eq!(
            w.export_entry(ExportKind::Func, "f", Liar(0), []),
            Err(ProtoError::InvalidField("export types"))
        );
    }

    #[test]
    fn output_messages_decode_as_replies() {
        let data = b"hello, world\n";
        let header = output_header(2, data.len());
        let mut message = header.to_vec();
        message.extend_from_slice(data);
        let reply = Reply::decode(&message).unwrap();
        assert_eq!(reply.command, Command::Output.code());
        assert_eq!(reply.status, Status::Ok);
        assert_eq!(reply.body, ReplyBody::Output { fd: 2, data });
        // The writer makes the same bytes.
        let mut buf = [0u8; 64];
        let mut w = ReplyWriter::ok(&mut buf, Command::Output).unwrap();
        w.output(2, data).unwrap();
        assert_eq!(w.finish().unwrap(), &message[..]);
        // A full chunk fits a payload; one more byte does not.
        assert_eq!(OUTPUT_HEADER_LEN + MAX_OUTPUT_CHUNK, MAX_PAYLOAD_LEN);
        let big = vec![b'x'; MAX_OUTPUT_CHUNK + 1];
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN + 64];
        let mut w = ReplyWriter::ok(&mut buf, Command::Output).unwrap();
        assert_eq!(w.output(1, &big), Err(ProtoError::TooLarge("output")));
    }

    #[test]
    fn output_is_not_a_request() {
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC.to_le_bytes());
        b.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        b.extend_from_slice(&Command::Output.code().to_le_bytes());
        assert_eq!(Request::decode(&b), Err(ProtoError::UnknownCommand(14)));
    }

    #[test]
    fn args_round_trip_and_are_checked() {
        let request = Request::Args {
            instance: 9,
            args: b"hello.wasm\0a\0b\0",
            env: b"HOME=/\0",
        };
        let bytes = encode(&request);
        assert_eq!(Request::decode(&bytes), Ok(request));
        let empty = Request::Args {
            instance: 9,
            args: b"",
            env: b"",
        };
        assert_eq!(Request::decode(&encode(&empty)), Ok(empty));
        // An entry without its NUL is refused on both sides.
        let bad = Request::Args {
            instance: 9,
            args: b"a\0b",
            env: b"",
        };
        let mut buf = [0u8; 64];
        assert_eq!(
            bad.encode(&mut buf),
            Err(ProtoError::InvalidField("arguments"))
        );
        let mut raw = encode(&empty);
        // args_len 1, and one non-NUL byte of arguments.
        raw[16..20].copy_from_slice(&1u32.to_le_bytes());
        raw.push(b'x');
        assert_eq!(
            Request::decode(&raw),
            Err(ProtoError::InvalidField("arguments"))
        );
        // Lengths beyond the payload are truncation, not a crash.
        raw[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Request::decode(&raw), Err(ProtoError::Truncated));
    }

    #[test]
    fn attach_requests_and_replies_round_trip() {
        for source in [
            AttachSource::Netfilter {
                ipv6: false,
                hook: NfHook::LocalIn,
                priority: -200,
                default_accept: true,
            },
            AttachSource::Netfilter {
                ipv6: true,
                hook: NfHook::PostRouting,
                priority: i32::MAX,
                default_accept: false,
            },
            AttachSource::Tracepoint(Tracepoint::SchedProcessExec),
        ] {
            let request = Request::Attach {
                module: 3,
                source,
                fuel: 5000,
                handler: "on_packet",
            };
            let bytes = encode(&request);
            assert_eq!(Request::decode(&bytes), Ok(request));
            let stats = AttachStats {
                source,
                events: 1,
                busy: 2,
                traps: 3,
                out_of_fuel: 4,
                emitted: 5,
                emit_dropped: 6,
                total_ns: 7,
                max_ns: 8,
                fuel: 9,
            };
            let mut buf = [0u8; 256];
            let mut w = ReplyWriter::ok(&mut buf, Command::AttachInfo).unwrap();
            w.attach_info(&stats).unwrap();
            let reply = w.finish().unwrap();
            assert_eq!(
                Reply::decode(reply).unwrap().body,
                ReplyBody::AttachInfo(stats)
            );
        }
        // A tracepoint with a priority, an unknown hook, reserved bytes: refused.
        let mut bytes = encode(&Request::Attach {
            module: 3,
            source: AttachSource::Tracepoint(Tracepoint::SchedProcessFork),
            fuel: 0,
            handler: "h",
        });
        bytes[28] = 1;
        assert!(Request::decode(&bytes).is_err());
        bytes[28] = 0;
        bytes[26] = 9;
        assert_eq!(
            Request::decode(&bytes),
            Err(ProtoError::InvalidField("tracepoint"))
        );
        bytes[26] = 2;
        bytes[32] = 1;
        assert!(Request::decode(&bytes).is_err());
        // The two bytes after the handler's length are reserved too (found by the fuzzer:
        // ignored, they made a request that encodes to other bytes).
        bytes[32] = 0;
        assert!(Request::decode(&bytes).is_ok());
        bytes[38] = 1;
        assert_eq!(
            Request::decode(&bytes),
            Err(ProtoError::InvalidField("attach reserved bytes"))
        );
    }

    #[test]
    fn event_messages_decode() {
        let record = b"pid=42 comm=true";
        let mut message = event_header(7, 3, record.len()).to_vec();
        message.extend_from_slice(record);
        let reply = Reply::decode(&message).unwrap();
        assert_eq!(reply.command, Command::Event.code());
        assert_eq!(
            reply.body,
            ReplyBody::Event {
                handle: 7,
                seq: 3,
                record
            }
        );
        let mut buf = [0u8; 128];
        let mut w = ReplyWriter::ok(&mut buf, Command::Event).unwrap();
        w.event(7, 3, record).unwrap();
        assert_eq!(w.finish().unwrap(), &message[..]);
        // Nobody sends EVENT to the driver.
        let mut b = message[..8].to_vec();
        b.truncate(8);
        assert_eq!(Request::decode(&b), Err(ProtoError::UnknownCommand(16)));
    }

    /// The byte-level examples of `Documentation/wasm/protocol.rst`.
    #[test]
    fn documented_examples() {
        assert_eq!(
            encode(&Request::LoadBegin {
                total_size: 41,
                name: "add"
            }),
            [
                0x57, 0x41, 0x53, 0x4d, 0x03, 0x00, 0x02, 0x00, //
                0x29, 0x00, 0x00, 0x00, //
                0x03, 0x00, 0x61, 0x64, 0x64,
            ]
        );
        let mut buf = [0u8; 64];
        let mut w = ReplyWriter::ok(&mut buf, Command::Invoke).unwrap();
        w.results(1, [Value::I32(5)]).unwrap();
        assert_eq!(
            w.finish().unwrap(),
            [
                0x57, 0x41, 0x53, 0x4d, 0x03, 0x00, 0x06, 0x00, //
                0x00, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00, //
                0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
                0x01, 0x00, //
                0x7f, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            ]
        );
        let mut w = ReplyWriter::new(
            &mut buf,
            Command::LoadBegin.code(),
            Status::PermissionDenied,
        )
        .unwrap();
        w.message("CAP_SYS_ADMIN required");
        let reply = w.finish().unwrap();
        assert_eq!(
            reply[..16],
            [
                0x57, 0x41, 0x53, 0x4d, 0x03, 0x00, 0x02, 0x00, //
                0x01, 0x00, 0x16, 0x00, 0x00, 0x00, 0x00, 0x00,
            ]
        );
        assert_eq!(&reply[16..], b"CAP_SYS_ADMIN required");
    }
}
