// SPDX-License-Identifier: GPL-2.0

//! The embedder's side: host functions, the interrupt hook and where float arithmetic runs.

use crate::error::{Trap, TrapKind};
use crate::store::MemoryInst;
use crate::value::Value;

/// A host function: reads its arguments, writes its results (already sized to the
/// function type's results and zero-initialised), or traps.
///
/// A plain function pointer, so that adding one allocates nothing; what a host function
/// needs lives in the store's data `T` (see [`Caller::data_mut`]) and in its
/// [`Caller::func_data`].
pub type HostFn<T> = fn(&mut Caller<'_, T>, &[Value], &mut [Value]) -> Result<(), Trap>;

/// What a host function sees of the wasm instance calling it: the store's data and the
/// caller's memory 0. Host functions cannot call back into wasm, which keeps the engine's
/// stacks the only stacks that grow with wasm input.
pub struct Caller<'a, T> {
    pub(crate) data: &'a mut T,
    pub(crate) memory: Option<&'a mut MemoryInst>,
    pub(crate) func_data: u64,
    /// Fuel the host function asked to be charged for its work.
    pub(crate) fuel: u64,
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

    /// The value given to [`crate::Store::add_host_func_with`] for this function.
    pub fn func_data(&self) -> u64 {
        self.func_data
    }

    /// Charges `units` of fuel for work the call did, on top of the fixed cost of a host
    /// call: the running code pays it when the host function returns (and runs out of fuel
    /// then if it has too little). Bulk work should cost what the engine's own bulk
    /// operations cost ([`crate::exec::BULK_BYTES_PER_FUEL`]). Since the charge comes after
    /// the work, a host function must also bound the work one call does.
    pub fn consume_fuel(&mut self, units: u64) {
        self.fuel = self.fuel.saturating_add(units);
    }

    /// The calling instance's linear memory, if it has one. Host functions index it with
    /// `get`/`get_mut`: an out-of-bounds range is the wasm program's fault and should be
    /// answered with a [`TrapKind::MemoryOutOfBounds`] trap.
    pub fn memory(&mut self) -> Option<&mut [u8]> {
        self.memory.as_mut().map(|m| m.data.as_mut_slice())
    }

    /// The store's data and the calling instance's memory at once.
    pub fn data_and_memory(&mut self) -> (&mut T, Option<&mut [u8]>) {
        (
            self.data,
            self.memory.as_mut().map(|m| m.data.as_mut_slice()),
        )
    }
}

/// Called regularly while wasm code runs (every [`crate::Config::interrupt_interval`] units
/// of fuel) and while modules are validated and instantiated: the embedder yields the CPU
/// here, and stops the work by returning an error such as [`TrapKind::Interrupted`].
pub trait InterruptHook: Send {
    /// Returns `Err` to stop the running invocation with that trap.
    fn check(&mut self) -> Result<(), TrapKind>;
}

/// A hook in a one-element array: what [`crate::Store::try_set_interrupt_hook`] boxes, since
/// stable Rust can box an array fallibly (through a `Vec`) but not a single value.
impl<H: InterruptHook> InterruptHook for [H; 1] {
    fn check(&mut self) -> Result<(), TrapKind> {
        let [hook] = self;
        hook.check()
    }
}

/// Boxes `hook`, failing with [`crate::Error::OutOfMemory`] instead of aborting.
pub(crate) fn try_box_hook<H: InterruptHook + 'static>(
    hook: H,
) -> Result<alloc::boxed::Box<dyn InterruptHook>, crate::Error> {
    let mut one = alloc::vec::Vec::new();
    one.try_reserve_exact(1)?;
    one.push(hook);
    // Exactly one element in an exactly sized allocation: neither call reallocates, and the
    // conversion to an array of one cannot fail.
    let boxed: alloc::boxed::Box<[H; 1]> = one
        .into_boxed_slice()
        .try_into()
        .map_err(|_| crate::Error::OutOfMemory)?;
    Ok(boxed)
}

/// Where the interpreter's floating-point arithmetic runs.
///
/// Every method has a default, the engine's own arithmetic: compiler-builtins' soft-float
/// routines and [`crate::float`]'s integer square roots in the kernel (the kernel's Rust target
/// has no FPU), the CPU's on the host (square roots only with the `std` feature, which the host
/// tools enable). An embedder overrides them to run the same operations on
/// hardware the engine cannot reach in safe code, such as the kernel's FPU sections
/// (`kernel_fpu_begin()`). The choice must not be observable: an override returns the default's
/// bit pattern for every input, NaN payloads included. Only the basic operations are here,
/// where hardware is much faster than integer code; the rest of [`crate::float`] stays integer
/// code on every path.
///
/// Values are IEEE bit patterns: `f32` as `u32`, `f64` as `u64`.
///
/// The interpreter calls [`FloatUnit::release`] before everything that may sleep or take long
/// (a host call, an allocation, a table or bulk memory operation, the interrupt hook at the end
/// of every fuel slice) and before it returns, so that a unit holding a non-preemptible FPU
/// section never holds it for longer than one fuel slice ([`crate::Config::interrupt_interval`])
/// of straight wasm code.
pub trait FloatUnit {
    /// Ends whatever the unit holds to run its operations (the FPU section).
    fn release(&mut self) {}

    /// `f32.add`.
    fn f32_add(&mut self, a: u32, b: u32) -> u32 {
        crate::exec::numeric::f32_add(a.into(), b.into()) as u32
    }
    /// `f32.sub`.
    fn f32_sub(&mut self, a: u32, b: u32) -> u32 {
        crate::exec::numeric::f32_sub(a.into(), b.into()) as u32
    }
    /// `f32.mul`.
    fn f32_mul(&mut self, a: u32, b: u32) -> u32 {
        crate::exec::numeric::f32_mul(a.into(), b.into()) as u32
    }
    /// `f32.div`.
    fn f32_div(&mut self, a: u32, b: u32) -> u32 {
        crate::exec::numeric::f32_div(a.into(), b.into()) as u32
    }
    /// `f32.sqrt`.
    fn f32_sqrt(&mut self, a: u32) -> u32 {
        crate::exec::numeric::f32_sqrt(a)
    }
    /// `f32.eq`.
    fn f32_eq(&mut self, a: u32, b: u32) -> bool {
        crate::exec::numeric::f32_eq(a.into(), b.into())
    }
    /// `f32.lt`.
    fn f32_lt(&mut self, a: u32, b: u32) -> bool {
        crate::exec::numeric::f32_lt(a.into(), b.into())
    }
    /// `f32.le`.
    fn f32_le(&mut self, a: u32, b: u32) -> bool {
        crate::exec::numeric::f32_le(a.into(), b.into())
    }
    /// `f32.convert_i64_s`, which also converts `i32` and `u32` exactly.
    fn f32_from_i64(&mut self, a: i64) -> u32 {
        crate::exec::numeric::f32_from_i64(a as u64) as u32
    }
    /// `f64.add`.
    fn f64_add(&mut self, a: u64, b: u64) -> u64 {
        crate::exec::numeric::f64_add(a, b)
    }
    /// `f64.sub`.
    fn f64_sub(&mut self, a: u64, b: u64) -> u64 {
        crate::exec::numeric::f64_sub(a, b)
    }
    /// `f64.mul`.
    fn f64_mul(&mut self, a: u64, b: u64) -> u64 {
        crate::exec::numeric::f64_mul(a, b)
    }
    /// `f64.div`.
    fn f64_div(&mut self, a: u64, b: u64) -> u64 {
        crate::exec::numeric::f64_div(a, b)
    }
    /// `f64.sqrt`.
    fn f64_sqrt(&mut self, a: u64) -> u64 {
        crate::exec::numeric::f64_sqrt(a)
    }
    /// `f64.eq`.
    fn f64_eq(&mut self, a: u64, b: u64) -> bool {
        crate::exec::numeric::f64_eq(a, b)
    }
    /// `f64.lt`.
    fn f64_lt(&mut self, a: u64, b: u64) -> bool {
        crate::exec::numeric::f64_lt(a, b)
    }
    /// `f64.le`.
    fn f64_le(&mut self, a: u64, b: u64) -> bool {
        crate::exec::numeric::f64_le(a, b)
    }
    /// `f64.convert_i64_s`, which also converts `i32` and `u32` exactly.
    fn f64_from_i64(&mut self, a: i64) -> u64 {
        crate::exec::numeric::f64_from_i64(a as u64)
    }
}

/// The engine's own float arithmetic: every [`FloatUnit`] method's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct SoftFloat;

impl FloatUnit for SoftFloat {}
