// SPDX-License-Identifier: GPL-2.0

//! Limits and knobs of the engine.

/// Configuration of modules and stores.
///
/// Every limit is enforced: exceeding a stack limit is a trap, exceeding a size limit makes
/// loading or instantiation fail with [`crate::Error::Limit`] or `memory.grow`/`table.grow`
/// return -1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Maximum number of 64-bit value slots on the value stack (locals and operands of all
    /// active frames). Default 131 072 (1 MiB). The stack starts small and grows
    /// geometrically on demand.
    pub max_value_stack: usize,
    /// Maximum number of active wasm and host frames. Default 16 384.
    pub max_call_depth: usize,
    /// Maximum size of any linear memory, in 64 KiB pages. Default 16 384 (1 GiB).
    pub max_memory_pages: u32,
    /// Maximum number of table elements of an instance, all its tables together.
    /// Default 1 048 576.
    pub max_table_elements: u32,
    /// Maximum bytes an instance may allocate: its memories, tables, globals and
    /// bookkeeping. Default 1 GiB + 64 MiB.
    pub max_instance_bytes: usize,
    /// Maximum bytes a store may allocate for all its instances and its stacks.
    /// Default 4 GiB.
    pub max_store_bytes: usize,
    /// Maximum size of a module's binary, in bytes. Default 64 MiB.
    pub max_module_size: usize,
    /// Maximum bytes of translated code of a module. Default 256 MiB.
    pub max_code_bytes: usize,
    /// Fuel of each invocation (and of each start function); `None` is unlimited. Fuel
    /// measures work: about one unit per executed instruction, more for expensive ones (see
    /// `ir::Op::weight`), and one unit per [`crate::exec::BULK_BYTES_PER_FUEL`] bytes of bulk
    /// memory operations. Running out is an "out of fuel" trap. Default `None`.
    pub fuel: Option<u64>,
    /// How much fuel is used between two calls of the store's interrupt hook; it bounds the
    /// time between two calls whatever the code does. Default 65 536 (well under a
    /// millisecond of work on a current CPU).
    pub interrupt_interval: u32,
    /// How the interpreter goes from one instruction to the next. Default
    /// [`Dispatch::Match`].
    pub dispatch: Dispatch,
}

/// How the interpreter goes from one instruction to the next. Both run the same code for
/// each instruction, with the same results, traps and fuel; only the cost differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dispatch {
    /// A `match` on the instruction, in one loop. Where the compiler emits jump tables that is
    /// one indirect jump; the kernel's x86 builds have none (retpolines, IBT), and there it is
    /// a tree of about eight comparisons.
    #[default]
    Match,
    /// A call per instruction, through a table of handlers indexed by the instruction (call
    /// threading): one indirect call and return instead of the comparisons. Faster than the
    /// tree where indirect calls and returns are plain instructions; slower where the kernel
    /// sends them through retpolines or return thunks.
    Threaded,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_value_stack: 128 * 1024,
            max_call_depth: 16 * 1024,
            max_memory_pages: 16 * 1024,
            max_table_elements: 1 << 20,
            max_instance_bytes: (1 << 30) + (64 << 20),
            max_store_bytes: 4 << 30,
            max_module_size: 64 << 20,
            max_code_bytes: 256 << 20,
            fuel: None,
            interrupt_interval: 1 << 16,
            dispatch: Dispatch::Match,
        }
    }
}
