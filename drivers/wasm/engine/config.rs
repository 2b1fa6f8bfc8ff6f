// SPDX-License-Identifier: GPL-2.0

//! Limits and knobs of the engine.

/// Configuration of modules and stores.
///
/// Every limit is enforced: exceeding a stack limit is a trap, exceeding a size limit makes
/// instantiation fail or `memory.grow`/`table.grow` return -1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Maximum number of 64-bit value slots on the value stack (locals and operands of all
    /// active frames). Default 131 072 (1 MiB). The stack starts small and grows on demand.
    pub max_value_stack: usize,
    /// Maximum number of active wasm and host frames. Default 16 384.
    pub max_call_depth: usize,
    /// Maximum size of any linear memory, in 64 KiB pages. Default 16 384 (1 GiB).
    pub max_memory_pages: u32,
    /// Maximum number of elements of any table. Default 1 048 576.
    pub max_table_elements: u32,
    /// Maximum size of a module's binary, in bytes. Default 64 MiB.
    pub max_module_size: usize,
    /// Fuel of each invocation, in units of one call or one loop iteration; `None` is
    /// unlimited. Running out is an "out of fuel" trap. Default `None`.
    pub fuel: Option<u64>,
    /// How many calls and loop iterations run between two calls of the store's interrupt
    /// hook. Default 65 536: small enough to yield often, large enough to cost nothing.
    pub interrupt_interval: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_value_stack: 128 * 1024,
            max_call_depth: 16 * 1024,
            max_memory_pages: 16 * 1024,
            max_table_elements: 1 << 20,
            max_module_size: 64 << 20,
            fuel: None,
            interrupt_interval: 1 << 16,
        }
    }
}
