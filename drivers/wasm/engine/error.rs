// SPDX-License-Identifier: GPL-2.0

//! Errors and traps.

use alloc::{borrow::Cow, string::String};
use core::fmt::{self, Write};

/// The text of an [`Error`]: a literal, or a message formatted at run time (see
/// [`format_message`]).
pub type Message = Cow<'static, str>;

/// What a formatted message becomes when there is no memory for its text.
const MESSAGE_LOST: &str = "(details lost: out of memory)";

/// Formats an error message without aborting when memory runs out, unlike `format!`: the text
/// is measured first, then written into an exactly sized, fallibly reserved `String`; without
/// memory for it, the message says so instead.
pub fn format_message(args: fmt::Arguments<'_>) -> Message {
    if let Some(text) = args.as_str() {
        return Cow::Borrowed(text);
    }
    struct Measure(usize);
    impl Write for Measure {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 = self.0.saturating_add(s.len());
            Ok(())
        }
    }
    /// Writes into the reserved capacity only, so that writing never reallocates.
    struct Fill<'a>(&'a mut String);
    impl Write for Fill<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            if self.0.capacity() - self.0.len() < s.len() {
                return Err(fmt::Error);
            }
            self.0.push_str(s);
            Ok(())
        }
    }
    let mut len = Measure(0);
    let mut text = String::new();
    if len.write_fmt(args).is_err()
        || text.try_reserve_exact(len.0).is_err()
        || Fill(&mut text).write_fmt(args).is_err()
    {
        return Cow::Borrowed(MESSAGE_LOST);
    }
    Cow::Owned(text)
}

/// [`format_message`] with `format!`'s syntax.
macro_rules! message {
    ($($arg:tt)*) => {
        $crate::error::format_message(format_args!($($arg)*))
    };
}
pub(crate) use message;

/// Why a WebAssembly computation stopped abnormally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrapKind {
    /// `unreachable` was executed.
    Unreachable,
    /// A memory access or bulk memory operation was out of bounds.
    MemoryOutOfBounds,
    /// A table access or bulk table operation was out of bounds.
    TableOutOfBounds,
    /// `call_indirect` found a null reference in the table.
    UninitializedElement,
    /// `call_indirect` found a function of another type.
    IndirectCallTypeMismatch,
    /// `call_indirect` indexed past the end of the table.
    UndefinedElement,
    /// Integer division or remainder by zero.
    IntegerDivideByZero,
    /// Signed division overflow, or a float-to-int truncation out of range.
    IntegerOverflow,
    /// Float-to-int truncation of a NaN.
    InvalidConversionToInteger,
    /// The call depth limit was reached.
    CallStackExhausted,
    /// The value stack limit was reached.
    ValueStackExhausted,
    /// The invocation's fuel ran out.
    OutOfFuel,
    /// The embedder's interrupt hook asked to stop (e.g. a fatal signal).
    Interrupted,
    /// A host function failed; the code is the host's.
    Host(i32),
    /// The program asked to end, with this exit status (WASI's `proc_exit`). Not an error of
    /// the program: the embedder reports the status.
    Exit(i32),
    /// An internal invariant did not hold; the engine refused to go on rather than panic.
    Internal,
}

impl TrapKind {
    /// The trap's message, as the WebAssembly testsuite spells it.
    pub fn message(&self) -> &'static str {
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
            Self::Host(_) => "host function failed",
            Self::Exit(_) => "exit",
            Self::Internal => "internal engine error",
        }
    }
}

/// A trap: its kind and where it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What went wrong.
    pub kind: TrapKind,
    /// Index of the function (in its module's function index space) that trapped.
    pub func: Option<u32>,
    /// Byte offset, in the module binary, of the instruction that trapped.
    pub offset: Option<u32>,
}

impl Trap {
    /// A trap of `kind` at no particular place.
    pub const fn new(kind: TrapKind) -> Self {
        Self {
            kind,
            func: None,
            offset: None,
        }
    }
}

impl From<TrapKind> for Trap {
    fn from(kind: TrapKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.message())?;
        match self.kind {
            TrapKind::Host(code) => write!(f, " (code {code})")?,
            TrapKind::Exit(status) => write!(f, " with status {status}")?,
            _ => {}
        }
        if let Some(func) = self.func {
            write!(f, " in function {func}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " at offset {offset:#x}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The module is malformed or invalid.
    Validation {
        /// Byte offset in the module binary.
        offset: usize,
        /// What is wrong.
        message: Message,
    },
    /// The module uses something the engine does not support.
    Unsupported(Message),
    /// Instantiation failed because an import is missing or of the wrong type.
    Link(Message),
    /// Execution trapped.
    Trap(Trap),
    /// The arguments of an invocation do not match the function's type.
    Invoke(Message),
    /// A configured limit would be exceeded.
    Limit(Message),
    /// An allocation failed.
    OutOfMemory,
}

impl From<Trap> for Error {
    fn from(trap: Trap) -> Self {
        Self::Trap(trap)
    }
}

impl From<TrapKind> for Error {
    fn from(kind: TrapKind) -> Self {
        Self::Trap(Trap::new(kind))
    }
}

impl From<alloc::collections::TryReserveError> for Error {
    fn from(_: alloc::collections::TryReserveError) -> Self {
        Self::OutOfMemory
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Validation { offset, message } => {
                write!(f, "invalid module at offset {offset:#x}: {message}")
            }
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::Link(what) => write!(f, "link error: {what}"),
            Self::Trap(trap) => write!(f, "trap: {trap}"),
            Self::Invoke(what) => write!(f, "invalid invocation: {what}"),
            Self::Limit(what) => write!(f, "limit exceeded: {what}"),
            Self::OutOfMemory => f.write_str("out of memory"),
        }
    }
}

/// The longest prefix of a name, quoted in error messages, of at most 64 bytes ending at a
/// character boundary: names come from modules and may be huge.
pub(crate) fn quote(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}
