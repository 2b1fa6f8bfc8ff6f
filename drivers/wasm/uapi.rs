// SPDX-License-Identifier: GPL-2.0

//! The protocol as C sees it: `include/uapi/linux/wasm.h`.
//!
//! [`crate::protocol`] reads and writes the messages byte by byte; the header describes the same
//! layouts as packed C structures for other clients. This module makes the two one definition:
//! the build fails unless every constant and code of the protocol has the header's value and
//! every fixed layout has the header's size, and the KUnit suite `wasm_uapi` checks that the
//! driver reads and writes each field at the offset the header gives it.

use crate::protocol::{
    self as p, Command, ExportKind, HandleKind, NfHook, Status, Tracepoint, TrapCode, ValType,
};
use core::mem::size_of;
use kernel::{bindings, uapi as u};

/// Fails the build unless each protocol constant equals the header's.
macro_rules! same_value {
    ($($rust:expr => $c:expr),* $(,)?) => {
        // Widening casts: `From` is not usable in constants.
        $(#[allow(clippy::cast_lossless)]
        const _: () = assert!($rust as u64 == $c as u64);)*
    };
}

/// Fails the build unless each header structure is as long as the protocol's layout.
macro_rules! same_size {
    ($($c:ident => $len:expr),* $(,)?) => {
        $(const _: () = assert!(size_of::<u::$c>() == $len);)*
    };
}

same_value! {
    p::CONNECTOR_IDX => u::WASM_CN_IDX,
    p::CONNECTOR_VAL => u::WASM_CN_VAL,
    p::CN_NETLINK_USERS => bindings::CN_NETLINK_USERS,
    p::CONNECTOR_MAX_MSG_SIZE => bindings::CONNECTOR_MAX_MSG_SIZE,
    p::CN_MSG_HEADER_LEN => size_of::<bindings::cn_msg>(),
    p::PROTOCOL_VERSION => u::WASM_PROTOCOL_VERSION,
    p::MAGIC => u::WASM_MAGIC,
    p::MAX_PAYLOAD_LEN => u::WASM_MAX_PAYLOAD_LEN,
    p::MAX_CHUNK_LEN => u::WASM_MAX_CHUNK_LEN,
    p::MAX_MODULE_LEN => u::WASM_MAX_MODULE_LEN,
    p::MAX_NAME_LEN => u::WASM_MAX_NAME_LEN,
    p::MAX_VALUES => u::WASM_MAX_VALUES,
    p::UNKNOWN_INDEX => u::WASM_UNKNOWN_INDEX,
    p::DEFAULT_EVENT_FUEL => u::WASM_DEFAULT_EVENT_FUEL,
    p::MAX_EVENT_RECORD => u::WASM_MAX_EVENT_RECORD,
    p::VERSION_FLAG_PRIVILEGED => u::WASM_VERSION_FLAG_PRIVILEGED,
    p::UNLOAD_CASCADE => u::WASM_UNLOAD_CASCADE,
    p::LIST_MORE => u::WASM_PAGE_MORE,
    p::SOURCE_NETFILTER => u::wasm_attach_kind_WASM_ATTACH_NETFILTER,
    p::SOURCE_TRACEPOINT => u::wasm_attach_kind_WASM_ATTACH_TRACEPOINT,
}

// bindgen types `0xffffffffffffffffULL` as an `int` -1; its bits are the header's value.
const _: () = assert!(p::NULL_REF == u64::MAX && u::WASM_NULL_REF == -1);

same_value! {
    Command::Version => u::wasm_command_WASM_CMD_VERSION,
    Command::LoadBegin => u::wasm_command_WASM_CMD_LOAD_BEGIN,
    Command::LoadChunk => u::wasm_command_WASM_CMD_LOAD_CHUNK,
    Command::LoadEnd => u::wasm_command_WASM_CMD_LOAD_END,
    Command::Instantiate => u::wasm_command_WASM_CMD_INSTANTIATE,
    Command::Invoke => u::wasm_command_WASM_CMD_INVOKE,
    Command::Unload => u::wasm_command_WASM_CMD_UNLOAD,
    Command::List => u::wasm_command_WASM_CMD_LIST,
    Command::Stats => u::wasm_command_WASM_CMD_STATS,
    Command::Exports => u::wasm_command_WASM_CMD_EXPORTS,
    Command::Register => u::wasm_command_WASM_CMD_REGISTER,
    Command::Get => u::wasm_command_WASM_CMD_GET,
    Command::Transient => u::wasm_command_WASM_CMD_TRANSIENT,
    Command::Output => u::wasm_command_WASM_CMD_OUTPUT,
    Command::Args => u::wasm_command_WASM_CMD_ARGS,
    Command::Event => u::wasm_command_WASM_CMD_EVENT,
    Command::Attach => u::wasm_command_WASM_CMD_ATTACH,
    Command::AttachInfo => u::wasm_command_WASM_CMD_ATTACH_INFO,
}
const _: () = assert!(Command::ALL.len() == 18);

same_value! {
    Status::Ok => u::wasm_status_WASM_STATUS_OK,
    Status::PermissionDenied => u::wasm_status_WASM_STATUS_PERMISSION_DENIED,
    Status::NoSuchHandle => u::wasm_status_WASM_STATUS_NO_SUCH_HANDLE,
    Status::InvalidModule => u::wasm_status_WASM_STATUS_INVALID_MODULE,
    Status::Trap => u::wasm_status_WASM_STATUS_TRAP,
    Status::LimitExceeded => u::wasm_status_WASM_STATUS_LIMIT_EXCEEDED,
    Status::MalformedRequest => u::wasm_status_WASM_STATUS_MALFORMED_REQUEST,
    Status::Busy => u::wasm_status_WASM_STATUS_BUSY,
    Status::OutOfMemory => u::wasm_status_WASM_STATUS_OUT_OF_MEMORY,
    Status::UnsupportedVersion => u::wasm_status_WASM_STATUS_UNSUPPORTED_VERSION,
    Status::UnknownCommand => u::wasm_status_WASM_STATUS_UNKNOWN_COMMAND,
    Status::LinkError => u::wasm_status_WASM_STATUS_LINK_ERROR,
    Status::NoSuchExport => u::wasm_status_WASM_STATUS_NO_SUCH_EXPORT,
    Status::SignatureMismatch => u::wasm_status_WASM_STATUS_SIGNATURE_MISMATCH,
    Status::Unsupported => u::wasm_status_WASM_STATUS_UNSUPPORTED,
    Status::WrongHandleKind => u::wasm_status_WASM_STATUS_WRONG_HANDLE_KIND,
    Status::Internal => u::wasm_status_WASM_STATUS_INTERNAL,
}
const _: () = assert!(Status::ALL.len() == 17);

same_value! {
    TrapCode::Unreachable => u::wasm_trap_code_WASM_TRAP_UNREACHABLE,
    TrapCode::MemoryOutOfBounds => u::wasm_trap_code_WASM_TRAP_MEMORY_OUT_OF_BOUNDS,
    TrapCode::TableOutOfBounds => u::wasm_trap_code_WASM_TRAP_TABLE_OUT_OF_BOUNDS,
    TrapCode::UninitializedElement => u::wasm_trap_code_WASM_TRAP_UNINITIALIZED_ELEMENT,
    TrapCode::IndirectCallTypeMismatch => u::wasm_trap_code_WASM_TRAP_INDIRECT_CALL_TYPE_MISMATCH,
    TrapCode::UndefinedElement => u::wasm_trap_code_WASM_TRAP_UNDEFINED_ELEMENT,
    TrapCode::IntegerDivideByZero => u::wasm_trap_code_WASM_TRAP_INTEGER_DIVIDE_BY_ZERO,
    TrapCode::IntegerOverflow => u::wasm_trap_code_WASM_TRAP_INTEGER_OVERFLOW,
    TrapCode::InvalidConversionToInteger =>
        u::wasm_trap_code_WASM_TRAP_INVALID_CONVERSION_TO_INTEGER,
    TrapCode::CallStackExhausted => u::wasm_trap_code_WASM_TRAP_CALL_STACK_EXHAUSTED,
    TrapCode::ValueStackExhausted => u::wasm_trap_code_WASM_TRAP_VALUE_STACK_EXHAUSTED,
    TrapCode::OutOfFuel => u::wasm_trap_code_WASM_TRAP_OUT_OF_FUEL,
    TrapCode::Interrupted => u::wasm_trap_code_WASM_TRAP_INTERRUPTED,
    TrapCode::Host => u::wasm_trap_code_WASM_TRAP_HOST,
    TrapCode::Internal => u::wasm_trap_code_WASM_TRAP_INTERNAL,
    TrapCode::Exit => u::wasm_trap_code_WASM_TRAP_EXIT,
}
const _: () = assert!(TrapCode::ALL.len() == 16);

same_value! {
    ValType::I32 => u::wasm_val_type_WASM_VAL_I32,
    ValType::I64 => u::wasm_val_type_WASM_VAL_I64,
    ValType::F32 => u::wasm_val_type_WASM_VAL_F32,
    ValType::F64 => u::wasm_val_type_WASM_VAL_F64,
    ValType::FuncRef => u::wasm_val_type_WASM_VAL_FUNCREF,
    ValType::ExternRef => u::wasm_val_type_WASM_VAL_EXTERNREF,
    HandleKind::Upload => u::wasm_handle_kind_WASM_HANDLE_UPLOAD,
    HandleKind::Module => u::wasm_handle_kind_WASM_HANDLE_MODULE,
    HandleKind::Instance => u::wasm_handle_kind_WASM_HANDLE_INSTANCE,
    HandleKind::Attachment => u::wasm_handle_kind_WASM_HANDLE_ATTACHMENT,
    ExportKind::Func => u::wasm_export_kind_WASM_EXPORT_FUNC,
    ExportKind::Table => u::wasm_export_kind_WASM_EXPORT_TABLE,
    ExportKind::Memory => u::wasm_export_kind_WASM_EXPORT_MEMORY,
    ExportKind::Global => u::wasm_export_kind_WASM_EXPORT_GLOBAL,
    Tracepoint::SchedProcessExec => u::wasm_tracepoint_WASM_TP_SCHED_PROCESS_EXEC,
    Tracepoint::SchedProcessFork => u::wasm_tracepoint_WASM_TP_SCHED_PROCESS_FORK,
    Tracepoint::SchedProcessExit => u::wasm_tracepoint_WASM_TP_SCHED_PROCESS_EXIT,
    NfHook::PreRouting => bindings::nf_inet_hooks_NF_INET_PRE_ROUTING,
    NfHook::LocalIn => bindings::nf_inet_hooks_NF_INET_LOCAL_IN,
    NfHook::Forward => bindings::nf_inet_hooks_NF_INET_FORWARD,
    NfHook::LocalOut => bindings::nf_inet_hooks_NF_INET_LOCAL_OUT,
    NfHook::PostRouting => bindings::nf_inet_hooks_NF_INET_POST_ROUTING,
}

same_size! {
    wasm_req_header => p::REQUEST_HEADER_LEN,
    wasm_reply_header => p::REPLY_HEADER_LEN,
    wasm_value => p::VALUE_LEN,
    wasm_load_chunk_req => p::CHUNK_HEADER_LEN,
    wasm_invoke_req => p::INVOKE_HEADER_LEN,
    wasm_attach_source => p::ATTACH_SOURCE_LEN,
    wasm_version_reply => p::VERSION_BODY_LEN,
    wasm_module_reply => p::MODULE_BODY_LEN,
    wasm_instance_reply => p::INSTANCE_BODY_LEN,
    wasm_invoke_reply => p::RESULTS_HEADER_LEN,
    wasm_page_header => p::LIST_HEADER_LEN,
    wasm_list_entry => p::LIST_ENTRY_HEADER_LEN,
    wasm_export_entry => p::EXPORT_ENTRY_HEADER_LEN,
    wasm_stats_reply => p::STATS_BODY_LEN,
    wasm_trap_reply => p::TRAP_BODY_LEN,
    wasm_output_msg => p::OUTPUT_HEADER_LEN,
    wasm_event_msg => p::EVENT_HEADER_LEN,
}

/// Where the KUnit suite lays out requests and finds fields of replies: by the header's
/// offsets, never by the protocol's own code.
#[cfg(CONFIG_WASM_KUNIT_TEST)]
#[kernel::prelude::kunit_tests(wasm_uapi)]
mod tests {
    use super::*;
    use crate::protocol::{
        AttachSource, AttachStats, ListEntry, ModuleInfo, ReplyWriter, Request, Stats, TrapInfo,
        Value, VersionInfo,
    };
    use core::mem::offset_of;
    use kernel::prelude::*;

    const H: usize = p::REQUEST_HEADER_LEN;
    const R: usize = p::REPLY_HEADER_LEN;

    /// A request payload laid out by the header.
    struct Msg {
        buf: [u8; 256],
        len: usize,
    }

    impl Msg {
        /// A request for `command` whose body, after the header, is `body` bytes long.
        fn new(command: Command, body: usize) -> Self {
            let mut m = Self {
                buf: [0; 256],
                len: H + body,
            };
            m.put(
                offset_of!(u::wasm_req_header, magic),
                &p::MAGIC.to_le_bytes(),
            );
            m.put(
                offset_of!(u::wasm_req_header, version),
                &p::PROTOCOL_VERSION.to_le_bytes(),
            );
            m.put(
                offset_of!(u::wasm_req_header, command),
                &(command as u16).to_le_bytes(),
            );
            m
        }

        fn put(&mut self, at: usize, bytes: &[u8]) {
            self.buf[at..at + bytes.len()].copy_from_slice(bytes);
        }

        /// Puts `bytes` at `at` in the body.
        fn body(&mut self, at: usize, bytes: &[u8]) {
            self.put(H + at, bytes);
        }

        fn decode(&self) -> Request<'_> {
            match Request::decode(&self.buf[..self.len]) {
                Ok(r) => r,
                Err(e) => panic!("a request laid out by wasm.h does not decode: {e}"),
            }
        }
    }

    /// The little-endian integer of `N` bytes at `at` in `bytes`.
    fn le<const N: usize>(bytes: &[u8], at: usize) -> u64 {
        let mut v = [0u8; 8];
        v[..N].copy_from_slice(&bytes[at..at + N]);
        u64::from_le_bytes(v)
    }

    #[test]
    fn requests_are_read_where_the_header_puts_their_fields() {
        let mut m = Msg::new(Command::LoadBegin, size_of::<u::wasm_load_begin_req>() + 2);
        m.body(
            offset_of!(u::wasm_load_begin_req, total_size),
            &99u32.to_le_bytes(),
        );
        m.body(
            offset_of!(u::wasm_load_begin_req, name_len),
            &2u16.to_le_bytes(),
        );
        m.body(offset_of!(u::wasm_load_begin_req, name), b"ab");
        let name = "ab";
        assert_eq!(
            m.decode(),
            Request::LoadBegin {
                total_size: 99,
                name
            }
        );

        let mut m = Msg::new(Command::LoadChunk, size_of::<u::wasm_load_chunk_req>() + 3);
        m.body(
            offset_of!(u::wasm_load_chunk_req, handle),
            &7u64.to_le_bytes(),
        );
        m.body(
            offset_of!(u::wasm_load_chunk_req, offset),
            &5u32.to_le_bytes(),
        );
        m.body(offset_of!(u::wasm_load_chunk_req, len), &3u32.to_le_bytes());
        m.body(offset_of!(u::wasm_load_chunk_req, data), b"xyz");
        let data = b"xyz";
        assert_eq!(
            m.decode(),
            Request::LoadChunk {
                handle: 7,
                offset: 5,
                data
            }
        );

        for command in [Command::LoadEnd, Command::Transient, Command::AttachInfo] {
            let mut m = Msg::new(command, size_of::<u::wasm_handle_req>());
            m.body(offset_of!(u::wasm_handle_req, handle), &9u64.to_le_bytes());
            let handle = match m.decode() {
                Request::LoadEnd { handle }
                | Request::Transient { handle }
                | Request::AttachInfo { handle } => handle,
                other => panic!("{other:?}"),
            };
            assert_eq!(handle, 9);
        }

        let mut m = Msg::new(Command::Instantiate, size_of::<u::wasm_instantiate_req>());
        m.body(
            offset_of!(u::wasm_instantiate_req, module),
            &3u64.to_le_bytes(),
        );
        m.body(
            offset_of!(u::wasm_instantiate_req, link),
            &4u64.to_le_bytes(),
        );
        let expected = Request::Instantiate {
            module: 3,
            fuel: 0,
            max_memory_pages: 0,
            link: 4,
        };
        assert_eq!(m.decode(), expected);
        let mut m = Msg::new(Command::Instantiate, size_of::<u::wasm_instantiate_req>());
        m.body(
            offset_of!(u::wasm_instantiate_req, fuel),
            &5u64.to_le_bytes(),
        );
        m.body(
            offset_of!(u::wasm_instantiate_req, max_memory_pages),
            &6u32.to_le_bytes(),
        );
        let expected = Request::Instantiate {
            module: 0,
            fuel: 5,
            max_memory_pages: 6,
            link: 0,
        };
        assert_eq!(m.decode(), expected);

        let invoke = size_of::<u::wasm_invoke_req>();
        let mut m = Msg::new(Command::Invoke, invoke + 1 + size_of::<u::wasm_value>());
        m.body(
            offset_of!(u::wasm_invoke_req, instance),
            &8u64.to_le_bytes(),
        );
        m.body(
            offset_of!(u::wasm_invoke_req, name_len),
            &1u16.to_le_bytes(),
        );
        m.body(
            offset_of!(u::wasm_invoke_req, arg_count),
            &1u16.to_le_bytes(),
        );
        m.body(offset_of!(u::wasm_invoke_req, name), b"f");
        m.body(
            invoke + 1 + offset_of!(u::wasm_value, type_),
            &[ValType::I64 as u8],
        );
        m.body(
            invoke + 1 + offset_of!(u::wasm_value, bits),
            &(-2i64).to_le_bytes(),
        );
        let Request::Invoke {
            instance,
            name,
            args,
        } = m.decode()
        else {
            panic!("not an INVOKE");
        };
        assert_eq!((instance, name, args.len()), (8, "f", 1));
        assert_eq!(args.iter().next(), Some(Value::I64(-2)));

        let mut m = Msg::new(Command::Unload, size_of::<u::wasm_unload_req>());
        m.body(offset_of!(u::wasm_unload_req, handle), &2u64.to_le_bytes());
        m.body(
            offset_of!(u::wasm_unload_req, flags),
            &u::WASM_UNLOAD_CASCADE.to_le_bytes(),
        );
        let expected = Request::Unload {
            handle: 2,
            cascade: true,
        };
        assert_eq!(m.decode(), expected);

        let mut m = Msg::new(Command::List, size_of::<u::wasm_list_req>());
        m.body(offset_of!(u::wasm_list_req, cursor), &4u64.to_le_bytes());
        m.body(
            offset_of!(u::wasm_list_req, max_entries),
            &6u16.to_le_bytes(),
        );
        let expected = Request::List {
            cursor: 4,
            max_entries: 6,
        };
        assert_eq!(m.decode(), expected);

        let mut m = Msg::new(Command::Exports, size_of::<u::wasm_exports_req>());
        m.body(offset_of!(u::wasm_exports_req, handle), &4u64.to_le_bytes());
        m.body(offset_of!(u::wasm_exports_req, cursor), &6u64.to_le_bytes());
        let expected = Request::Exports {
            handle: 4,
            cursor: 6,
        };
        assert_eq!(m.decode(), expected);

        for command in [Command::Register, Command::Get] {
            let mut m = Msg::new(command, size_of::<u::wasm_name_req>() + 2);
            m.body(offset_of!(u::wasm_name_req, instance), &5u64.to_le_bytes());
            m.body(offset_of!(u::wasm_name_req, name_len), &2u16.to_le_bytes());
            m.body(offset_of!(u::wasm_name_req, name), b"gl");
            let (instance, name) = match m.decode() {
                Request::Register { instance, name } | Request::Get { instance, name } => {
                    (instance, name)
                }
                other => panic!("{other:?}"),
            };
            assert_eq!((instance, name), (5, "gl"));
        }

        let mut m = Msg::new(Command::Args, size_of::<u::wasm_args_req>() + 5);
        m.body(offset_of!(u::wasm_args_req, instance), &5u64.to_le_bytes());
        m.body(offset_of!(u::wasm_args_req, args_len), &2u32.to_le_bytes());
        m.body(offset_of!(u::wasm_args_req, env_len), &3u32.to_le_bytes());
        m.body(offset_of!(u::wasm_args_req, data), b"a\0b=\0");
        let expected = Request::Args {
            instance: 5,
            args: b"a\0",
            env: b"b=\0",
        };
        assert_eq!(m.decode(), expected);

        let mut m = Msg::new(Command::Attach, size_of::<u::wasm_attach_req>() + 1);
        let source = offset_of!(u::wasm_attach_req, source);
        m.body(offset_of!(u::wasm_attach_req, module), &3u64.to_le_bytes());
        m.body(offset_of!(u::wasm_attach_req, fuel), &4u64.to_le_bytes());
        m.body(
            source + offset_of!(u::wasm_attach_source, kind),
            &[p::SOURCE_NETFILTER],
        );
        m.body(source + offset_of!(u::wasm_attach_source, ipv6), &[1]);
        m.body(
            source + offset_of!(u::wasm_attach_source, point),
            &[NfHook::Forward as u8],
        );
        m.body(
            source + offset_of!(u::wasm_attach_source, default_accept),
            &[1],
        );
        m.body(
            source + offset_of!(u::wasm_attach_source, priority),
            &(-7i32).to_le_bytes(),
        );
        m.body(
            offset_of!(u::wasm_attach_req, handler_len),
            &1u16.to_le_bytes(),
        );
        m.body(offset_of!(u::wasm_attach_req, handler), b"h");
        let expected = Request::Attach {
            module: 3,
            source: AttachSource::Netfilter {
                ipv6: true,
                hook: NfHook::Forward,
                priority: -7,
                default_accept: true,
            },
            fuel: 4,
            handler: "h",
        };
        assert_eq!(m.decode(), expected);
    }

    #[test]
    fn replies_are_written_where_the_header_puts_their_fields() -> Result {
        let mut buf = [0u8; 512];
        let mut w = ReplyWriter::ok(&mut buf, Command::Version).map_err(|_| EINVAL)?;
        let info = VersionInfo {
            driver: [1, 2, 3],
            flags: p::VERSION_FLAG_PRIVILEGED,
            max_module_len: 4,
            max_chunk_len: 5,
            max_memory_pages: 6,
            default_fuel: 7,
            max_fuel: 8,
        };
        w.version(&info).map_err(|_| EINVAL)?;
        w.message("hi");
        let b = w.finish().map_err(|_| EINVAL)?;
        assert_eq!(
            le::<4>(b, offset_of!(u::wasm_reply_header, magic)),
            0x4d53_4157
        );
        assert_eq!(le::<2>(b, offset_of!(u::wasm_reply_header, version)), 3);
        assert_eq!(le::<2>(b, offset_of!(u::wasm_reply_header, command)), 1);
        assert_eq!(le::<2>(b, offset_of!(u::wasm_reply_header, status)), 0);
        assert_eq!(le::<2>(b, offset_of!(u::wasm_reply_header, message_len)), 2);
        assert_eq!(le::<4>(b, offset_of!(u::wasm_reply_header, body_len)), 36);
        let at = |off: usize| R + off;
        assert_eq!(
            le::<2>(b, at(offset_of!(u::wasm_version_reply, driver) + 4)),
            3
        );
        assert_eq!(le::<2>(b, at(offset_of!(u::wasm_version_reply, flags))), 1);
        assert_eq!(
            le::<4>(b, at(offset_of!(u::wasm_version_reply, max_module_len))),
            4
        );
        assert_eq!(
            le::<4>(b, at(offset_of!(u::wasm_version_reply, max_chunk_len))),
            5
        );
        assert_eq!(
            le::<4>(b, at(offset_of!(u::wasm_version_reply, max_memory_pages))),
            6
        );
        assert_eq!(
            le::<8>(b, at(offset_of!(u::wasm_version_reply, default_fuel))),
            7
        );
        assert_eq!(
            le::<8>(b, at(offset_of!(u::wasm_version_reply, max_fuel))),
            8
        );

        let mut buf = [0u8; 512];
        let mut w = ReplyWriter::ok(&mut buf, Command::LoadEnd).map_err(|_| EINVAL)?;
        let module = ModuleInfo {
            handle: 1,
            size: 2,
            imports: 3,
            exports: 4,
        };
        w.module(&module).map_err(|_| EINVAL)?;
        let b = w.finish().map_err(|_| EINVAL)?;
        assert_eq!(le::<8>(b, at(offset_of!(u::wasm_module_reply, handle))), 1);
        assert_eq!(le::<4>(b, at(offset_of!(u::wasm_module_reply, size))), 2);
        assert_eq!(le::<4>(b, at(offset_of!(u::wasm_module_reply, imports))), 3);
        assert_eq!(le::<4>(b, at(offset_of!(u::wasm_module_reply, exports))), 4);

        let mut buf = [0u8; 512];
        let mut w = ReplyWriter::ok(&mut buf, Command::Invoke).map_err(|_| EINVAL)?;
        w.results(9, [Value::F32(0x4000_0000)])
            .map_err(|_| EINVAL)?;
        let b = w.finish().map_err(|_| EINVAL)?;
        let results = at(offset_of!(u::wasm_invoke_reply, results));
        assert_eq!(
            le::<8>(b, at(offset_of!(u::wasm_invoke_reply, fuel_used))),
            9
        );
        assert_eq!(
            le::<2>(b, at(offset_of!(u::wasm_invoke_reply, result_count))),
            1
        );
        assert_eq!(
            b[results + offset_of!(u::wasm_value, type_)],
            ValType::F32 as u8
        );
        assert_eq!(
            le::<8>(b, results + offset_of!(u::wasm_value, bits)),
            0x4000_0000
        );

        let mut buf = [0u8; 512];
        let mut w = ReplyWriter::ok(&mut buf, Command::List).map_err(|_| EINVAL)?;
        let entry = ListEntry {
            handle: 11,
            kind: HandleKind::Instance,
            parent: 12,
            calls: 13,
            fuel_used: 14,
            size: 15,
            exports: 16,
            memory_pages: 17,
            name: "n",
        };
        assert!(w.list_entry(&entry).map_err(|_| EINVAL)?);
        w.list_end(0, true).map_err(|_| EINVAL)?;
        let b = w.finish().map_err(|_| EINVAL)?;
        assert_eq!(
            le::<8>(b, at(offset_of!(u::wasm_page_header, next_cursor))),
            11
        );
        assert_eq!(le::<2>(b, at(offset_of!(u::wasm_page_header, count))), 1);
        assert_eq!(le::<2>(b, at(offset_of!(u::wasm_page_header, flags))), 1);
        let e = |off: usize| R + size_of::<u::wasm_page_header>() + off;
        assert_eq!(le::<8>(b, e(offset_of!(u::wasm_list_entry, handle))), 11);
        assert_eq!(le::<8>(b, e(offset_of!(u::wasm_list_entry, parent))), 12);
        assert_eq!(le::<8>(b, e(offset_of!(u::wasm_list_entry, calls))), 13);
        assert_eq!(le::<8>(b, e(offset_of!(u::wasm_list_entry, fuel_used))), 14);
        assert_eq!(le::<4>(b, e(offset_of!(u::wasm_list_entry, size))), 15);
        assert_eq!(le::<4>(b, e(offset_of!(u::wasm_list_entry, exports))), 16);
        assert_eq!(
            le::<4>(b, e(offset_of!(u::wasm_list_entry, memory_pages))),
            17
        );
        assert_eq!(b[e(offset_of!(u::wasm_list_entry, kind))], 3);
        assert_eq!(le::<2>(b, e(offset_of!(u::wasm_list_entry, name_len))), 1);
        assert_eq!(b[e(offset_of!(u::wasm_list_entry, name))], b'n');

        let mut buf = [0u8; 512];
        let mut w = ReplyWriter::ok(&mut buf, Command::Exports).map_err(|_| EINVAL)?;
        let fits = w
            .export_entry(ExportKind::Func, "f", [ValType::I32], [ValType::I64])
            .map_err(|_| EINVAL)?;
        assert!(fits);
        w.exports_end(1, false).map_err(|_| EINVAL)?;
        let b = w.finish().map_err(|_| EINVAL)?;
        assert_eq!(b[e(offset_of!(u::wasm_export_entry, kind))], 0);
        assert_eq!(le::<2>(b, e(offset_of!(u::wasm_export_entry, name_len))), 1);
        assert_eq!(
            le::<2>(b, e(offset_of!(u::wasm_export_entry, param_count))),
            1
        );
        assert_eq!(
            le::<2>(b, e(offset_of!(u::wasm_export_entry, result_count))),
            1
        );
        let name = e(offset_of!(u::wasm_export_entry, name));
        assert_eq!(&b[name..name + 3], &[b'f', 0x7f, 0x7e]);

        let mut buf = [0u8; 512];
        let mut w = ReplyWriter::ok(&mut buf, Command::Stats).map_err(|_| EINVAL)?;
        let stats = Stats {
            invocations: 5,
            kernel_bytes: 6,
            ..Stats::default()
        };
        w.stats(&stats).map_err(|_| EINVAL)?;
        let b = w.finish().map_err(|_| EINVAL)?;
        assert_eq!(
            le::<8>(b, at(offset_of!(u::wasm_stats_reply, invocations))),
            5
        );
        assert_eq!(
            le::<8>(b, at(offset_of!(u::wasm_stats_reply, kernel_bytes))),
            6
        );

        let mut buf = [0u8; 512];
        let mut w = ReplyWriter::new(&mut buf, 6, Status::Trap).map_err(|_| EINVAL)?;
        let trap = TrapInfo {
            code: TrapCode::Host,
            func: Some(2),
            offset: None,
            host_code: -3,
        };
        w.trap(&trap).map_err(|_| EINVAL)?;
        let b = w.finish().map_err(|_| EINVAL)?;
        assert_eq!(le::<2>(b, at(offset_of!(u::wasm_trap_reply, code))), 14);
        assert_eq!(le::<4>(b, at(offset_of!(u::wasm_trap_reply, func))), 2);
        assert_eq!(
            le::<4>(b, at(offset_of!(u::wasm_trap_reply, offset))),
            0xffff_ffff
        );
        assert_eq!(
            le::<4>(b, at(offset_of!(u::wasm_trap_reply, host_code))),
            0xffff_fffd
        );

        let mut buf = [0u8; 512];
        let mut w = ReplyWriter::ok(&mut buf, Command::AttachInfo).map_err(|_| EINVAL)?;
        let info = AttachStats {
            source: AttachSource::Tracepoint(Tracepoint::SchedProcessFork),
            events: 1,
            busy: 0,
            traps: 0,
            out_of_fuel: 0,
            emitted: 0,
            emit_dropped: 0,
            total_ns: 0,
            max_ns: 0,
            fuel: 9,
        };
        w.attach_info(&info).map_err(|_| EINVAL)?;
        let b = w.finish().map_err(|_| EINVAL)?;
        let source = at(offset_of!(u::wasm_attach_info_reply, source));
        assert_eq!(b[source + offset_of!(u::wasm_attach_source, kind)], 2);
        assert_eq!(b[source + offset_of!(u::wasm_attach_source, point)], 2);
        assert_eq!(
            le::<8>(b, at(offset_of!(u::wasm_attach_info_reply, events))),
            1
        );
        assert_eq!(
            le::<8>(b, at(offset_of!(u::wasm_attach_info_reply, fuel))),
            9
        );
        assert_eq!(b.len(), R + size_of::<u::wasm_attach_info_reply>());

        let out = p::output_header(2, 5);
        assert_eq!(le::<2>(&out, offset_of!(u::wasm_reply_header, command)), 14);
        assert_eq!(le::<4>(&out, offset_of!(u::wasm_output_msg, fd)), 2);
        let ev = p::event_header(3, 4, 5);
        assert_eq!(le::<8>(&ev, offset_of!(u::wasm_event_msg, handle)), 3);
        assert_eq!(le::<8>(&ev, offset_of!(u::wasm_event_msg, seq)), 4);
        Ok(())
    }
}
