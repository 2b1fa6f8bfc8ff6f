// SPDX-License-Identifier: GPL-2.0

//! The wasm connector protocol: the driver's half.
//!
//! Userspace drives the WebAssembly runtime with messages on the netlink Connector, sent to
//! [`CONNECTOR_IDX`]/[`CONNECTOR_VAL`]. Every request gets exactly one reply with the request's
//! `cn_msg` sequence number and `ack = seq + 1`. `include/uapi/linux/wasm.h` defines the
//! messages for C (the driver's build checks that this file agrees with it, see
//! `drivers/wasm/uapi.rs`); `Documentation/userspace-api/wasm.rst` describes them in prose.
//!
//! This file holds what the driver needs: the codes, the limits, request decoding
//! ([`Request::decode`]) and reply encoding ([`ReplyWriter`]). It uses `core` only: requests
//! are decoded into views that borrow the received bytes, replies are written into a
//! caller-provided buffer. Decoding checks every length and field and never panics; encoding
//! never writes past its buffer. `tools/wasm/protocol` builds this file too, as part of the
//! crate `wasm_protocol`, which adds the client's half (request encoding, reply decoding) and
//! the tests.
//!
//! # Layout
//!
//! All integers are little-endian, at fixed offsets, without padding. A request payload is a
//! [`REQUEST_HEADER_LEN`]-byte header (magic, [`PROTOCOL_VERSION`], [`Command`]) and the
//! command's body. A reply payload is a [`REPLY_HEADER_LEN`]-byte header (magic, version,
//! command, [`Status`], message length, body length), the body, and a UTF-8 message for
//! humans. Payloads must be exactly as long as their layout says; anything else is malformed.

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

    /// The code on the wire.
    pub fn code(self) -> u16 {
        self as u16
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

/// A list of values decoded from a message, borrowing its bytes.
#[derive(Clone, Copy, Debug)]
pub struct ValueList<'a> {
    /// Encoded values, known to be valid, a whole number of [`VALUE_LEN`] bytes.
    pub(crate) bytes: &'a [u8],
}

impl<'a> ValueList<'a> {
    /// Checks `count` encoded values in `bytes`, which must hold exactly that many.
    pub(crate) fn decode(bytes: &'a [u8], count: usize) -> Result<Self, ProtoError> {
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
        Ok(Self { bytes })
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.bytes.len() / VALUE_LEN
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The values, in order.
    pub fn iter(&self) -> ValueIter<'a> {
        ValueIter { bytes: self.bytes }
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
    bytes: &'a [u8],
}

impl Iterator for ValueIter<'_> {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        let (first, rest) = self.bytes.split_at_checked(VALUE_LEN)?;
        self.bytes = rest;
        // Checked when the list was decoded.
        Value::from_bytes(first).ok()
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
        /// 0 for the first page, then the previous page's next cursor.
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
        /// 0 for the first page, then the previous page's next cursor.
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
    pub(crate) fn encode(&self) -> [u8; ATTACH_SOURCE_LEN] {
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

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ProtoError> {
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

pub(crate) fn r_i32(bytes: &[u8]) -> i32 {
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
    pub(crate) fn counters(&self) -> [u64; 9] {
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
}

/// Reads and checks a request header, returning its command.
pub(crate) fn read_request_header(r: &mut Reader<'_>) -> Result<Command, ProtoError> {
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
pub(crate) fn check_link_limits(
    fuel: u64,
    max_memory_pages: u32,
    link: u64,
) -> Result<(), ProtoError> {
    if link != 0 && (fuel != 0 || max_memory_pages != 0) {
        return Err(ProtoError::InvalidField("limits of a linked instance"));
    }
    Ok(())
}

/// Checks an ARGS list: empty, or entries each ending with a NUL byte.
pub(crate) fn check_list<'a>(list: &'a [u8], what: &'static str) -> Result<&'a [u8], ProtoError> {
    match list.last() {
        None | Some(0) => Ok(list),
        Some(_) => Err(ProtoError::InvalidField(what)),
    }
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

pub(crate) fn name_len(name: &str) -> Result<u16, ProtoError> {
    if name.len() > MAX_NAME_LEN {
        return Err(ProtoError::TooLarge("name"));
    }
    u16::try_from(name.len()).map_err(|_| ProtoError::TooLarge("name"))
}

pub(crate) fn value_count(count: usize) -> Result<u16, ProtoError> {
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

impl VersionInfo {}

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
    /// The code on the wire.
    pub fn code(self) -> u8 {
        self as u8
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
    pub(crate) fn encode_header(&self, w: &mut Writer<'_>) -> Result<(), ProtoError> {
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
    pub(crate) fn fields(&self) -> [u64; 13] {
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
    /// The code on the wire.
    pub fn code(self) -> u8 {
        self as u8
    }
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
    pub(crate) status: Status,
    pub(crate) body_len: usize,
    pub(crate) message_len: usize,
    pub(crate) page: Option<PageState>,
}

/// A LIST or EXPORTS page being written: its header is at the start of the body.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PageState {
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

    /// Appends `bytes` to the body, moving the message (if any) after them.
    pub(crate) fn body(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
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
    /// than its length said; the body is then unusable (start the reply again).
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
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        let (first, rest) = self.rest.split_at_checked(n).ok_or(ProtoError::Truncated)?;
        self.rest = rest;
        Ok(first)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtoError> {
        self.take(N)?.try_into().map_err(|_| ProtoError::Truncated)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, ProtoError> {
        let [b] = self.array()?;
        Ok(b)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, ProtoError> {
        self.array().map(u16::from_le_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ProtoError> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ProtoError> {
        self.array().map(u64::from_le_bytes)
    }

    /// A name of `len` bytes: at most [`MAX_NAME_LEN`], UTF-8.
    pub(crate) fn name(&mut self, len: u16) -> Result<&'a str, ProtoError> {
        let len = usize::from(len);
        if len > MAX_NAME_LEN {
            return Err(ProtoError::TooLarge("name"));
        }
        core::str::from_utf8(self.take(len)?).map_err(|_| ProtoError::InvalidField("name"))
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub(crate) fn skip_rest(&mut self) {
        self.rest = &[];
    }

    pub(crate) fn finish(&self) -> Result<(), ProtoError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(ProtoError::TrailingBytes)
        }
    }
}

/// A bounds-checked little-endian writer.
pub(crate) struct Writer<'a> {
    pub(crate) buf: &'a mut [u8],
    pub(crate) pos: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
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

    pub(crate) fn u8(&mut self, v: u8) -> Result<(), ProtoError> {
        self.put(&[v])
    }

    pub(crate) fn u16(&mut self, v: u16) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }

    pub(crate) fn u32(&mut self, v: u32) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }

    pub(crate) fn u64(&mut self, v: u64) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }
}
