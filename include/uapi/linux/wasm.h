/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The userspace protocol of the WebAssembly runtime (drivers/wasm).
 *
 * Userspace drives the runtime with messages on the netlink connector
 * (NETLINK_CONNECTOR), sent to the connector id { WASM_CN_IDX, WASM_CN_VAL }.
 * Every request gets exactly one reply, with the request's cn_msg sequence
 * number and ack = seq + 1; while an INVOKE runs, OUTPUT messages may precede
 * its reply. EVENT messages are multicast to the connector group WASM_CN_IDX.
 *
 * A payload (the data of a struct cn_msg) is a request header and the
 * command's body, or a reply header, the reply's body and a UTF-8 message
 * for humans. All integers are little-endian, and the structures below are
 * packed: a payload starts only 4-byte aligned (after the 20-byte cn_msg), so
 * the layout does not rely on alignment, and a structure's size is its size
 * on the wire. Payloads must be exactly as long as their layout says. Names
 * are UTF-8, not NUL-terminated, at most WASM_MAX_NAME_LEN bytes.
 *
 * Documentation/userspace-api/wasm.rst describes the commands in prose.
 */

#ifndef _UAPI_LINUX_WASM_H
#define _UAPI_LINUX_WASM_H

#include <linux/connector.h>
#include <linux/types.h>

/* The connector id of the runtime. */
#define WASM_CN_IDX		(CN_NETLINK_USERS + 4)
#define WASM_CN_VAL		1

/* The version of the protocol this header describes. */
#define WASM_PROTOCOL_VERSION	3

/* The first four bytes of every message: "WASM". */
#define WASM_MAGIC		0x4d534157

/* The largest payload of a request or reply: CONNECTOR_MAX_MSG_SIZE - 20. */
#define WASM_MAX_PAYLOAD_LEN	16364
/* The most module bytes in one LOAD_CHUNK. */
#define WASM_MAX_CHUNK_LEN	(15 * 1024)
/* The largest module the protocol can carry; the driver may accept less. */
#define WASM_MAX_MODULE_LEN	(64 << 20)
/* The longest module, export or import name, in bytes. */
#define WASM_MAX_NAME_LEN	1024
/* The most arguments or results of one invocation. */
#define WASM_MAX_VALUES		1000
/* The bits of a null reference in a struct wasm_value. */
#define WASM_NULL_REF		0xffffffffffffffffULL
/* A trap's function index or code offset that is not known. */
#define WASM_UNKNOWN_INDEX	0xffffffffU
/* The fuel of each event of an attachment unless ATTACH sets one. */
#define WASM_DEFAULT_EVENT_FUEL	100000
/* The longest record an attached program may emit. */
#define WASM_MAX_EVENT_RECORD	4096

/* struct wasm_version_reply.flags: the sender may use privileged commands. */
#define WASM_VERSION_FLAG_PRIVILEGED	0x1
/* struct wasm_unload_req.flags: unloading a module drops its instances. */
#define WASM_UNLOAD_CASCADE		0x1
/* struct wasm_page_header.flags: entries were left out of this page. */
#define WASM_PAGE_MORE			0x1

/**
 * enum wasm_command - a request's command
 * @WASM_CMD_VERSION: protocol and driver versions and limits; no body
 * @WASM_CMD_LOAD_BEGIN: starts uploading a module (struct wasm_load_begin_req)
 * @WASM_CMD_LOAD_CHUNK: uploads a piece of a module (struct wasm_load_chunk_req)
 * @WASM_CMD_LOAD_END: ends an upload, validating the module (struct wasm_handle_req)
 * @WASM_CMD_INSTANTIATE: instantiates a module (struct wasm_instantiate_req)
 * @WASM_CMD_INVOKE: calls an exported function (struct wasm_invoke_req)
 * @WASM_CMD_UNLOAD: drops an upload, module or instance (struct wasm_unload_req)
 * @WASM_CMD_LIST: lists uploads, modules and instances (struct wasm_list_req)
 * @WASM_CMD_STATS: the driver's counters; no body
 * @WASM_CMD_EXPORTS: lists the exports and their types (struct wasm_exports_req)
 * @WASM_CMD_REGISTER: makes an instance's exports importable in its link group
 *	(struct wasm_name_req)
 * @WASM_CMD_GET: reads an exported global (struct wasm_name_req)
 * @WASM_CMD_TRANSIENT: ties a handle to the sender's socket (struct wasm_handle_req)
 * @WASM_CMD_OUTPUT: never a request: a running program's output
 *	(struct wasm_output_msg), sent before the INVOKE's reply
 * @WASM_CMD_ARGS: sets the WASI arguments and environment (struct wasm_args_req)
 * @WASM_CMD_EVENT: never a request: a record an attached program emitted
 *	(struct wasm_event_msg), multicast to group WASM_CN_IDX
 * @WASM_CMD_ATTACH: attaches a handler to a kernel event (struct wasm_attach_req)
 * @WASM_CMD_ATTACH_INFO: an attachment's counters (struct wasm_handle_req)
 *
 * Every command but VERSION needs CAP_SYS_ADMIN in the initial user namespace.
 */
enum wasm_command {
	WASM_CMD_VERSION = 1,
	WASM_CMD_LOAD_BEGIN = 2,
	WASM_CMD_LOAD_CHUNK = 3,
	WASM_CMD_LOAD_END = 4,
	WASM_CMD_INSTANTIATE = 5,
	WASM_CMD_INVOKE = 6,
	WASM_CMD_UNLOAD = 7,
	WASM_CMD_LIST = 8,
	WASM_CMD_STATS = 9,
	WASM_CMD_EXPORTS = 10,
	WASM_CMD_REGISTER = 11,
	WASM_CMD_GET = 12,
	WASM_CMD_TRANSIENT = 13,
	WASM_CMD_OUTPUT = 14,
	WASM_CMD_ARGS = 15,
	WASM_CMD_EVENT = 16,
	WASM_CMD_ATTACH = 17,
	WASM_CMD_ATTACH_INFO = 18,
};

/**
 * enum wasm_status - the outcome of a request, in every reply
 * @WASM_STATUS_OK: success
 * @WASM_STATUS_PERMISSION_DENIED: the sender lacks CAP_SYS_ADMIN
 * @WASM_STATUS_NO_SUCH_HANDLE: no upload, module or instance has the handle
 * @WASM_STATUS_INVALID_MODULE: the module is invalid; body: struct wasm_invalid_module_reply
 * @WASM_STATUS_TRAP: execution trapped; body: struct wasm_trap_reply
 * @WASM_STATUS_LIMIT_EXCEEDED: a size or count is over a limit
 * @WASM_STATUS_MALFORMED_REQUEST: the request does not follow the protocol
 * @WASM_STATUS_BUSY: the handle is in use or the driver is busy
 * @WASM_STATUS_OUT_OF_MEMORY: the driver ran out of memory
 * @WASM_STATUS_UNSUPPORTED_VERSION: the request is of another protocol version
 * @WASM_STATUS_UNKNOWN_COMMAND: the command is unknown
 * @WASM_STATUS_LINK_ERROR: the module's imports cannot be satisfied
 * @WASM_STATUS_NO_SUCH_EXPORT: the instance has no such export of that kind
 * @WASM_STATUS_SIGNATURE_MISMATCH: the arguments do not match the parameters
 * @WASM_STATUS_UNSUPPORTED: the module uses a feature the engine lacks
 * @WASM_STATUS_WRONG_HANDLE_KIND: the handle is of the wrong kind
 * @WASM_STATUS_INTERNAL: anything else; the message says what
 */
enum wasm_status {
	WASM_STATUS_OK = 0,
	WASM_STATUS_PERMISSION_DENIED = 1,
	WASM_STATUS_NO_SUCH_HANDLE = 2,
	WASM_STATUS_INVALID_MODULE = 3,
	WASM_STATUS_TRAP = 4,
	WASM_STATUS_LIMIT_EXCEEDED = 5,
	WASM_STATUS_MALFORMED_REQUEST = 6,
	WASM_STATUS_BUSY = 7,
	WASM_STATUS_OUT_OF_MEMORY = 8,
	WASM_STATUS_UNSUPPORTED_VERSION = 9,
	WASM_STATUS_UNKNOWN_COMMAND = 10,
	WASM_STATUS_LINK_ERROR = 11,
	WASM_STATUS_NO_SUCH_EXPORT = 12,
	WASM_STATUS_SIGNATURE_MISMATCH = 13,
	WASM_STATUS_UNSUPPORTED = 14,
	WASM_STATUS_WRONG_HANDLE_KIND = 15,
	WASM_STATUS_INTERNAL = 16,
};

/**
 * enum wasm_trap_code - what stopped an execution (struct wasm_trap_reply.code)
 * @WASM_TRAP_UNREACHABLE: unreachable was executed
 * @WASM_TRAP_MEMORY_OUT_OF_BOUNDS: out of bounds memory access
 * @WASM_TRAP_TABLE_OUT_OF_BOUNDS: out of bounds table access
 * @WASM_TRAP_UNINITIALIZED_ELEMENT: call_indirect to a null element
 * @WASM_TRAP_INDIRECT_CALL_TYPE_MISMATCH: call_indirect to another type
 * @WASM_TRAP_UNDEFINED_ELEMENT: call_indirect past the end of the table
 * @WASM_TRAP_INTEGER_DIVIDE_BY_ZERO: integer division by zero
 * @WASM_TRAP_INTEGER_OVERFLOW: integer overflow
 * @WASM_TRAP_INVALID_CONVERSION_TO_INTEGER: float-to-integer conversion of a NaN
 * @WASM_TRAP_CALL_STACK_EXHAUSTED: the call depth limit was reached
 * @WASM_TRAP_VALUE_STACK_EXHAUSTED: the value stack limit was reached
 * @WASM_TRAP_OUT_OF_FUEL: the invocation's fuel ran out
 * @WASM_TRAP_INTERRUPTED: the driver interrupted the execution
 * @WASM_TRAP_HOST: a host function failed; host_code has its code
 * @WASM_TRAP_INTERNAL: the engine stopped on an internal inconsistency
 * @WASM_TRAP_EXIT: the program exited (WASI proc_exit); host_code is its status
 */
enum wasm_trap_code {
	WASM_TRAP_UNREACHABLE = 1,
	WASM_TRAP_MEMORY_OUT_OF_BOUNDS = 2,
	WASM_TRAP_TABLE_OUT_OF_BOUNDS = 3,
	WASM_TRAP_UNINITIALIZED_ELEMENT = 4,
	WASM_TRAP_INDIRECT_CALL_TYPE_MISMATCH = 5,
	WASM_TRAP_UNDEFINED_ELEMENT = 6,
	WASM_TRAP_INTEGER_DIVIDE_BY_ZERO = 7,
	WASM_TRAP_INTEGER_OVERFLOW = 8,
	WASM_TRAP_INVALID_CONVERSION_TO_INTEGER = 9,
	WASM_TRAP_CALL_STACK_EXHAUSTED = 10,
	WASM_TRAP_VALUE_STACK_EXHAUSTED = 11,
	WASM_TRAP_OUT_OF_FUEL = 12,
	WASM_TRAP_INTERRUPTED = 13,
	WASM_TRAP_HOST = 14,
	WASM_TRAP_INTERNAL = 15,
	WASM_TRAP_EXIT = 16,
};

/**
 * enum wasm_val_type - a value's type: its byte in the WebAssembly binary format
 * @WASM_VAL_I32: i32
 * @WASM_VAL_I64: i64
 * @WASM_VAL_F32: f32
 * @WASM_VAL_F64: f64
 * @WASM_VAL_FUNCREF: funcref
 * @WASM_VAL_EXTERNREF: externref
 */
enum wasm_val_type {
	WASM_VAL_I32 = 0x7f,
	WASM_VAL_I64 = 0x7e,
	WASM_VAL_F32 = 0x7d,
	WASM_VAL_F64 = 0x7c,
	WASM_VAL_FUNCREF = 0x70,
	WASM_VAL_EXTERNREF = 0x6f,
};

/**
 * enum wasm_handle_kind - what a handle names (struct wasm_list_entry.kind)
 * @WASM_HANDLE_UPLOAD: a module being uploaded
 * @WASM_HANDLE_MODULE: a validated module
 * @WASM_HANDLE_INSTANCE: an instance of a module
 * @WASM_HANDLE_ATTACHMENT: an instance attached to a kernel event source
 */
enum wasm_handle_kind {
	WASM_HANDLE_UPLOAD = 1,
	WASM_HANDLE_MODULE = 2,
	WASM_HANDLE_INSTANCE = 3,
	WASM_HANDLE_ATTACHMENT = 4,
};

/**
 * enum wasm_export_kind - what an export is (struct wasm_export_entry.kind)
 * @WASM_EXPORT_FUNC: a function
 * @WASM_EXPORT_TABLE: a table
 * @WASM_EXPORT_MEMORY: a memory
 * @WASM_EXPORT_GLOBAL: a global
 */
enum wasm_export_kind {
	WASM_EXPORT_FUNC = 0,
	WASM_EXPORT_TABLE = 1,
	WASM_EXPORT_MEMORY = 2,
	WASM_EXPORT_GLOBAL = 3,
};

/**
 * enum wasm_attach_kind - an event source (struct wasm_attach_source.kind)
 * @WASM_ATTACH_NETFILTER: a netfilter hook of the initial network namespace;
 *	point is an enum nf_inet_hooks value (NF_INET_PRE_ROUTING to
 *	NF_INET_POST_ROUTING)
 * @WASM_ATTACH_TRACEPOINT: a tracepoint; point is an enum wasm_tracepoint
 */
enum wasm_attach_kind {
	WASM_ATTACH_NETFILTER = 1,
	WASM_ATTACH_TRACEPOINT = 2,
};

/**
 * enum wasm_tracepoint - the tracepoints programs can attach to
 * @WASM_TP_SCHED_PROCESS_EXEC: sched_process_exec
 * @WASM_TP_SCHED_PROCESS_FORK: sched_process_fork
 * @WASM_TP_SCHED_PROCESS_EXIT: sched_process_exit
 */
enum wasm_tracepoint {
	WASM_TP_SCHED_PROCESS_EXEC = 1,
	WASM_TP_SCHED_PROCESS_FORK = 2,
	WASM_TP_SCHED_PROCESS_EXIT = 3,
};

/**
 * struct wasm_req_header - the start of every request payload
 * @magic: WASM_MAGIC
 * @version: WASM_PROTOCOL_VERSION
 * @command: an enum wasm_command; the command's body follows
 */
struct wasm_req_header {
	__le32 magic;
	__le16 version;
	__le16 command;
} __attribute__((packed));

/**
 * struct wasm_reply_header - the start of every reply payload
 * @magic: WASM_MAGIC
 * @version: WASM_PROTOCOL_VERSION (the driver's, for UNSUPPORTED_VERSION)
 * @command: the request's command, echoed; 0 if it could not be read
 * @status: an enum wasm_status
 * @message_len: the bytes of UTF-8 message after the body
 * @body_len: the bytes of body after this header
 */
struct wasm_reply_header {
	__le32 magic;
	__le16 version;
	__le16 command;
	__le16 status;
	__le16 message_len;
	__le32 body_len;
} __attribute__((packed));

/**
 * struct wasm_value - a WebAssembly value, an argument or a result
 * @type: an enum wasm_val_type
 * @bits: the value's bits, zero-extended for i32 and f32 (floats as their
 *	IEEE 754 bits); a reference's number or WASM_NULL_REF
 */
struct wasm_value {
	__u8 type;
	__le64 bits;
} __attribute__((packed));

/**
 * struct wasm_handle_req - the body of LOAD_END, TRANSIENT and ATTACH_INFO
 * @handle: the upload's, module's, instance's or attachment's handle
 */
struct wasm_handle_req {
	__le64 handle;
} __attribute__((packed));

/**
 * struct wasm_load_begin_req - the body of LOAD_BEGIN
 * @total_size: the module's size in bytes, at most WASM_MAX_MODULE_LEN
 * @name_len: the length of @name
 * @name: a name for listings, without control characters
 *
 * Reply body: struct wasm_handle_req, the upload's handle.
 */
struct wasm_load_begin_req {
	__le32 total_size;
	__le16 name_len;
	char name[];
} __attribute__((packed));

/**
 * struct wasm_load_chunk_req - the body of LOAD_CHUNK
 * @handle: the upload's handle
 * @offset: where @data goes: the number of bytes uploaded so far
 * @len: the length of @data, 1 to WASM_MAX_CHUNK_LEN
 * @data: the module's bytes
 *
 * Reply body: a __le32, the bytes received so far.
 */
struct wasm_load_chunk_req {
	__le64 handle;
	__le32 offset;
	__le32 len;
	__u8 data[];
} __attribute__((packed));

/**
 * struct wasm_instantiate_req - the body of INSTANTIATE
 * @module: the module's handle
 * @fuel: the fuel of each invocation; 0 for the driver's default
 * @max_memory_pages: the most 64 KiB pages of memory; 0 for the default
 * @link: 0 for a new link group, else an instance whose group to join
 *	(@fuel and @max_memory_pages must then be 0)
 *
 * Reply body: struct wasm_instance_reply.
 */
struct wasm_instantiate_req {
	__le64 module;
	__le64 fuel;
	__le32 max_memory_pages;
	__le64 link;
} __attribute__((packed));

/**
 * struct wasm_invoke_req - the body of INVOKE
 * @instance: the instance's handle
 * @name_len: the length of @name
 * @arg_count: the number of arguments, at most WASM_MAX_VALUES
 * @name: the exported function's name, followed by @arg_count
 *	struct wasm_value arguments
 *
 * Reply body: struct wasm_invoke_reply.
 */
struct wasm_invoke_req {
	__le64 instance;
	__le16 name_len;
	__le16 arg_count;
	char name[];
} __attribute__((packed));

/**
 * struct wasm_unload_req - the body of UNLOAD
 * @handle: the upload's, module's, instance's or attachment's handle
 * @flags: 0 or WASM_UNLOAD_CASCADE
 *
 * No reply body.
 */
struct wasm_unload_req {
	__le64 handle;
	__le32 flags;
} __attribute__((packed));

/**
 * struct wasm_list_req - the body of LIST
 * @cursor: 0 for the first page, then the previous page's next_cursor
 * @max_entries: the most entries to return; 0 for as many as fit
 *
 * Reply body: struct wasm_page_header, then struct wasm_list_entry entries.
 */
struct wasm_list_req {
	__le64 cursor;
	__le16 max_entries;
} __attribute__((packed));

/**
 * struct wasm_exports_req - the body of EXPORTS
 * @handle: the module's or instance's handle
 * @cursor: 0 for the first page, then the previous page's next_cursor
 *
 * Reply body: struct wasm_page_header, then struct wasm_export_entry entries.
 */
struct wasm_exports_req {
	__le64 handle;
	__le64 cursor;
} __attribute__((packed));

/**
 * struct wasm_name_req - the body of REGISTER and GET
 * @instance: the instance's handle
 * @name_len: the length of @name
 * @name: the module name to register, or the exported global's name
 *
 * Reply body: none for REGISTER, a struct wasm_value for GET.
 */
struct wasm_name_req {
	__le64 instance;
	__le16 name_len;
	char name[];
} __attribute__((packed));

/**
 * struct wasm_args_req - the body of ARGS
 * @instance: the instance's handle
 * @args_len: the bytes of arguments in @data
 * @env_len: the bytes of environment in @data, after the arguments
 * @data: the arguments, then the environment (NAME=value); each entry
 *	followed by a NUL byte
 *
 * No reply body.
 */
struct wasm_args_req {
	__le64 instance;
	__le32 args_len;
	__le32 env_len;
	__u8 data[];
} __attribute__((packed));

/**
 * struct wasm_attach_source - what an attachment's handler runs for
 * @kind: an enum wasm_attach_kind
 * @ipv6: netfilter: 1 for IPv6, 0 for IPv4; else 0
 * @point: the netfilter hook (enum nf_inet_hooks) or the enum wasm_tracepoint
 * @default_accept: netfilter: the verdict when the handler fails, 1 to
 *	accept and 0 to drop; else 0
 * @priority: netfilter: the hook priority (a two's complement __s32); else 0
 * @reserved: 0
 */
struct wasm_attach_source {
	__u8 kind;
	__u8 ipv6;
	__u8 point;
	__u8 default_accept;
	__le32 priority;
	__le32 reserved;
} __attribute__((packed));

/**
 * struct wasm_attach_req - the body of ATTACH
 * @module: the module's handle
 * @fuel: the fuel of each event; 0 for WASM_DEFAULT_EVENT_FUEL
 * @source: what to attach to
 * @handler_len: the length of @handler
 * @reserved: 0
 * @handler: the exported function (len: i32) -> i32 to run
 *
 * Reply body: struct wasm_instance_reply, the attachment's handle.
 */
struct wasm_attach_req {
	__le64 module;
	__le64 fuel;
	struct wasm_attach_source source;
	__le16 handler_len;
	__le16 reserved;
	char handler[];
} __attribute__((packed));

/**
 * struct wasm_version_reply - the body of a VERSION reply
 * @driver: the driver's version, major, minor, patch
 * @flags: 0 or WASM_VERSION_FLAG_PRIVILEGED
 * @max_module_len: the largest module the driver accepts
 * @max_chunk_len: the largest chunk the driver accepts
 * @max_memory_pages: the most 64 KiB pages of an instance's memory
 * @default_fuel: the fuel of an invocation by default; 0 for unlimited
 * @max_fuel: the most fuel INSTANTIATE may ask for; 0 for no limit
 */
struct wasm_version_reply {
	__le16 driver[3];
	__le16 flags;
	__le32 max_module_len;
	__le32 max_chunk_len;
	__le32 max_memory_pages;
	__le64 default_fuel;
	__le64 max_fuel;
} __attribute__((packed));

/**
 * struct wasm_module_reply - the body of a LOAD_END reply
 * @handle: the module's handle (the upload's)
 * @size: the module's size in bytes
 * @imports: its number of imports
 * @exports: its number of exports
 */
struct wasm_module_reply {
	__le64 handle;
	__le32 size;
	__le32 imports;
	__le32 exports;
} __attribute__((packed));

/**
 * struct wasm_instance_reply - the body of an INSTANTIATE or ATTACH reply
 * @handle: the instance's (or attachment's) handle
 * @module: its module's handle
 * @memory_pages: its memory's size in 64 KiB pages
 */
struct wasm_instance_reply {
	__le64 handle;
	__le64 module;
	__le32 memory_pages;
} __attribute__((packed));

/**
 * struct wasm_invoke_reply - the body of an INVOKE reply
 * @fuel_used: the fuel the invocation consumed; 0 when not metered
 * @result_count: the number of results
 * @results: the results
 */
struct wasm_invoke_reply {
	__le64 fuel_used;
	__le16 result_count;
	struct wasm_value results[];
} __attribute__((packed));

/**
 * struct wasm_page_header - the start of a LIST or EXPORTS reply body
 * @next_cursor: the cursor of the next page
 * @count: the number of entries that follow
 * @flags: 0 or WASM_PAGE_MORE
 */
struct wasm_page_header {
	__le64 next_cursor;
	__le16 count;
	__le16 flags;
} __attribute__((packed));

/**
 * struct wasm_list_entry - one entry of a LIST reply
 * @handle: the handle
 * @parent: an instance's module; else 0
 * @calls: an instance's invocations so far; else 0
 * @fuel_used: an instance's fuel consumed so far; else 0
 * @size: the module's size (an upload's announced size)
 * @exports: bytes received (uploads), number of exports (others)
 * @memory_pages: an instance's memory size in 64 KiB pages; else 0
 * @kind: an enum wasm_handle_kind
 * @pad: 0
 * @name_len: the length of @name
 * @name: the module's name
 */
struct wasm_list_entry {
	__le64 handle;
	__le64 parent;
	__le64 calls;
	__le64 fuel_used;
	__le32 size;
	__le32 exports;
	__le32 memory_pages;
	__u8 kind;
	__u8 pad;
	__le16 name_len;
	char name[];
} __attribute__((packed));

/**
 * struct wasm_export_entry - one entry of an EXPORTS reply
 * @kind: an enum wasm_export_kind
 * @pad: 0
 * @name_len: the length of @name
 * @param_count: a function's number of parameters; else 0
 * @result_count: a function's number of results; else 0
 * @name: the export's name, followed by @param_count and @result_count
 *	enum wasm_val_type bytes
 */
struct wasm_export_entry {
	__u8 kind;
	__u8 pad;
	__le16 name_len;
	__le16 param_count;
	__le16 result_count;
	char name[];
} __attribute__((packed));

/**
 * struct wasm_stats_reply - the body of a STATS reply
 * @modules: modules loaded now
 * @instances: instances alive now
 * @uploads: uploads in progress now
 * @module_bytes: bytes of the modules loaded now
 * @memory_pages: 64 KiB pages of the instances' memories now
 * @loads: modules loaded since the driver started
 * @load_failures: uploads that failed since the driver started
 * @instantiations: instances created since the driver started
 * @invocations: invocations since the driver started
 * @traps: invocations and start functions that trapped
 * @fuel_used: fuel consumed by all invocations
 * @denied: requests refused with WASM_STATUS_PERMISSION_DENIED
 * @kernel_bytes: bytes of kernel memory the runtime holds for its users now
 */
struct wasm_stats_reply {
	__le64 modules;
	__le64 instances;
	__le64 uploads;
	__le64 module_bytes;
	__le64 memory_pages;
	__le64 loads;
	__le64 load_failures;
	__le64 instantiations;
	__le64 invocations;
	__le64 traps;
	__le64 fuel_used;
	__le64 denied;
	__le64 kernel_bytes;
} __attribute__((packed));

/**
 * struct wasm_invalid_module_reply - the body of an INVALID_MODULE reply
 * @offset: the byte offset in the module where it is invalid
 */
struct wasm_invalid_module_reply {
	__le64 offset;
} __attribute__((packed));

/**
 * struct wasm_trap_reply - the body of a TRAP reply
 * @code: an enum wasm_trap_code
 * @func: the index of the function that trapped, or WASM_UNKNOWN_INDEX
 * @offset: the byte offset in the module of the instruction that trapped,
 *	or WASM_UNKNOWN_INDEX
 * @host_code: the host function's code (WASM_TRAP_HOST), the exit status
 *	(WASM_TRAP_EXIT), else 0; a two's complement __s32
 */
struct wasm_trap_reply {
	__le16 code;
	__le32 func;
	__le32 offset;
	__le32 host_code;
} __attribute__((packed));

/**
 * struct wasm_attach_info_reply - the body of an ATTACH_INFO reply
 * @source: what the attachment is attached to
 * @events: events the handler ran for
 * @busy: events dropped because the handler was running already
 * @traps: events whose handler trapped
 * @out_of_fuel: events whose handler ran out of fuel
 * @emitted: records sent to listeners
 * @emit_dropped: records dropped
 * @total_ns: nanoseconds spent in the handler, all events together
 * @max_ns: the longest event, in nanoseconds
 * @fuel: the fuel of each event
 */
struct wasm_attach_info_reply {
	struct wasm_attach_source source;
	__le64 events;
	__le64 busy;
	__le64 traps;
	__le64 out_of_fuel;
	__le64 emitted;
	__le64 emit_dropped;
	__le64 total_ns;
	__le64 max_ns;
	__le64 fuel;
} __attribute__((packed));

/**
 * struct wasm_output_msg - an OUTPUT message: what a running program wrote
 * @hdr: a reply header: command WASM_CMD_OUTPUT, status OK, no message
 * @fd: the file descriptor, 1 (standard output) or 2 (standard error)
 * @data: the bytes written
 */
struct wasm_output_msg {
	struct wasm_reply_header hdr;
	__le32 fd;
	__u8 data[];
} __attribute__((packed));

/**
 * struct wasm_event_msg - an EVENT message: a record an attached program emitted
 * @hdr: a reply header: command WASM_CMD_EVENT, status OK, no message
 * @handle: the attachment's handle
 * @seq: the record's number, from 1, per attachment; a gap means lost records
 * @record: the record, at most WASM_MAX_EVENT_RECORD bytes
 */
struct wasm_event_msg {
	struct wasm_reply_header hdr;
	__le64 handle;
	__le64 seq;
	__u8 record[];
} __attribute__((packed));

#endif /* _UAPI_LINUX_WASM_H */
