// SPDX-License-Identifier: GPL-2.0

//! The embedder's side: host functions and the interrupt hook.

use crate::error::{Trap, TrapKind};
use crate::store::MemoryInst;
use crate::value::Value;

/// A host function: reads its arguments, writes its results (already sized to the
/// function type's results and zero-initialised), or traps.
pub type HostFunc<T> =
    dyn Fn(&mut Caller<'_, T>, &[Value], &mut [Value]) -> Result<(), Trap> + Send + Sync;

/// What a host function sees of the wasm instance calling it: the store's data and the
/// caller's memory 0. Host functions cannot call back into wasm, which keeps the engine's
/// stacks the only stacks that grow with wasm input.
pub struct Caller<'a, T> {
    pub(crate) data: &'a mut T,
    pub(crate) memory: Option<&'a mut MemoryInst>,
}

impl<T> Caller<'_, T> {
    /// The store's data.
    pub fn data(&self) -> &T {
        self.data
    }

    /// The store's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.data
    }

    /// The calling instance's linear memory, if it has one. Host functions index it with
    /// `get`/`get_mut`: an out-of-bounds range is the wasm program's fault and should be
    /// answered with a [`TrapKind::MemoryOutOfBounds`] trap.
    pub fn memory(&mut self) -> Option<&mut [u8]> {
        self.memory.as_mut().map(|m| m.data.as_mut_slice())
    }
}

/// Called regularly while wasm code runs (every [`crate::Config::interrupt_interval`] calls
/// and loop iterations): the embedder yields the CPU here, and stops the run by returning
/// an error such as [`TrapKind::Interrupted`].
pub trait InterruptHook: Send {
    /// Returns `Err` to stop the running invocation with that trap.
    fn check(&mut self) -> Result<(), TrapKind>;
}
