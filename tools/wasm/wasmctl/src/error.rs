// SPDX-License-Identifier: GPL-2.0

//! Errors and the exit statuses they map to.

use std::fmt;

use wasm_protocol::{Command, Status, TrapInfo};

/// Exit statuses, as documented in `--help` and the README.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// An internal error, an I/O error, or a reply that breaks the protocol.
    pub const INTERNAL: u8 = 1;
    /// A usage error: bad options or arguments, no such export, arguments that do not match
    /// the function's signature.
    pub const USAGE: u8 = 2;
    /// The module is malformed, invalid, unsupported or cannot be linked.
    pub const INVALID_MODULE: u8 = 3;
    /// The function trapped.
    pub const TRAP: u8 = 4;
    /// The caller lacks `CAP_SYS_ADMIN`.
    pub const PERMISSION_DENIED: u8 = 5;
    /// The driver is not loaded, does not answer, or speaks another protocol version.
    pub const UNREACHABLE: u8 = 6;
    /// A limit was exceeded: size, memory, fuel, or the driver is busy or out of memory.
    pub const LIMIT: u8 = 7;
    /// No upload, module or instance has the handle.
    pub const NO_SUCH_HANDLE: u8 = 8;
}

/// The exit statuses, for `--help`.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success
  1  internal error (I/O, protocol violation)
  2  usage error (bad arguments, no such export, signature mismatch)
  3  invalid, unsupported or unlinkable module
  4  trap
  5  permission denied (CAP_SYS_ADMIN is required)
  6  driver not loaded, not answering, or of another protocol version
  7  limit exceeded (size, memory, fuel), busy or out of memory
  8  no such handle";

/// What a failed reply carried besides its status.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// Nothing.
    None,
    /// The byte offset of an invalid module's problem.
    Offset(u64),
    /// A trap.
    Trap(TrapInfo),
}

/// Everything that can go wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A usage error found by wasmctl itself.
    Usage(String),
    /// A module wasmctl could not read or translate from text.
    InvalidModule(String),
    /// The driver cannot be reached.
    Unreachable(String),
    /// The driver (or the local engine) answered with a failure status.
    Reply {
        /// The command that failed.
        command: Option<Command>,
        /// The status.
        status: Status,
        /// The driver's message.
        message: String,
        /// The status's body.
        detail: Detail,
    },
    /// Anything else.
    Internal(String),
}

impl Error {
    /// The exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => exit::USAGE,
            Self::InvalidModule(_) => exit::INVALID_MODULE,
            Self::Unreachable(_) => exit::UNREACHABLE,
            Self::Internal(_) => exit::INTERNAL,
            Self::Reply { status, .. } => status_exit_code(*status),
        }
    }

    /// The short name of the error's kind, for JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Usage(_) => "usage",
            Self::InvalidModule(_) => "invalid module",
            Self::Unreachable(_) => "unreachable",
            Self::Internal(_) => "internal",
            Self::Reply { status, .. } => status.description(),
        }
    }
}

/// The exit status for a failure status of the protocol.
pub fn status_exit_code(status: Status) -> u8 {
    match status {
        Status::Ok => exit::OK,
        Status::PermissionDenied => exit::PERMISSION_DENIED,
        Status::NoSuchHandle => exit::NO_SUCH_HANDLE,
        Status::InvalidModule | Status::Unsupported | Status::LinkError => exit::INVALID_MODULE,
        Status::Trap => exit::TRAP,
        Status::LimitExceeded | Status::OutOfMemory | Status::Busy => exit::LIMIT,
        Status::UnsupportedVersion => exit::UNREACHABLE,
        Status::NoSuchExport | Status::SignatureMismatch | Status::WrongHandleKind => exit::USAGE,
        Status::MalformedRequest | Status::UnknownCommand | Status::Internal => exit::INTERNAL,
    }
}

/// Describes a trap like the engine does: the message, then where.
pub fn describe_trap(trap: &TrapInfo, message: &str) -> String {
    let mut text = if message.is_empty() {
        trap.code.message().to_string()
    } else {
        message.to_string()
    };
    if trap.code == wasm_protocol::TrapCode::Host && !text.contains("code") {
        text.push_str(&format!(" (code {})", trap.host_code));
    }
    if let Some(func) = trap.func {
        if !text.contains(" in function ") {
            text.push_str(&format!(" in function {func}"));
        }
    }
    if let Some(offset) = trap.offset {
        if !text.contains(" at offset ") {
            text.push_str(&format!(" at offset {offset:#x}"));
        }
    }
    text
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(msg) | Self::InvalidModule(msg) | Self::Unreachable(msg) => {
                f.write_str(msg)
            }
            Self::Internal(msg) => write!(f, "internal error: {msg}"),
            Self::Reply {
                command,
                status,
                message,
                detail,
            } => {
                let what = command.map(Command::name).unwrap_or("request");
                match (status, detail) {
                    (Status::Trap, Detail::Trap(trap)) => {
                        write!(f, "trap: {}", describe_trap(trap, message))
                    }
                    (Status::InvalidModule, Detail::Offset(offset)) => {
                        let message = if message.is_empty() {
                            "invalid module"
                        } else {
                            message
                        };
                        write!(f, "invalid module at offset {offset:#x}: {message}")
                    }
                    (Status::PermissionDenied, _) => write!(
                        f,
                        "permission denied: {what} needs CAP_SYS_ADMIN in the initial user \
                         namespace (run as root)"
                    ),
                    _ if message.is_empty() => write!(f, "{what}: {status}"),
                    _ => write!(f, "{what}: {status}: {message}"),
                }
            }
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_protocol::TrapCode;

    #[test]
    fn every_status_has_an_exit_code() {
        for status in Status::ALL {
            let code = status_exit_code(status);
            assert_eq!(code == exit::OK, status == Status::Ok);
            assert!(code <= exit::NO_SUCH_HANDLE);
        }
        assert_eq!(status_exit_code(Status::Trap), 4);
        assert_eq!(status_exit_code(Status::PermissionDenied), 5);
        assert_eq!(status_exit_code(Status::InvalidModule), 3);
        assert_eq!(status_exit_code(Status::LimitExceeded), 7);
    }

    #[test]
    fn messages() {
        let trap = TrapInfo {
            code: TrapCode::IntegerDivideByZero,
            func: Some(2),
            offset: Some(0x30),
            host_code: 0,
        };
        assert_eq!(
            describe_trap(&trap, ""),
            "integer divide by zero in function 2 at offset 0x30"
        );
        let e = Error::Reply {
            command: Some(Command::LoadEnd),
            status: Status::InvalidModule,
            message: "type mismatch".into(),
            detail: Detail::Offset(0x1d),
        };
        assert_eq!(
            e.to_string(),
            "invalid module at offset 0x1d: type mismatch"
        );
        assert_eq!(e.exit_code(), 3);
        let e = Error::Reply {
            command: Some(Command::LoadBegin),
            status: Status::PermissionDenied,
            message: String::new(),
            detail: Detail::None,
        };
        assert!(e.to_string().contains("CAP_SYS_ADMIN"));
        assert_eq!(e.exit_code(), 5);
    }
}
