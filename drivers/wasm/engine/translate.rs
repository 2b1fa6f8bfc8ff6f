// SPDX-License-Identifier: GPL-2.0

//! Translation of validated function bodies into the register form of [`crate::ir`].
//!
//! The translator runs right after the validator has accepted each operator, in one pass,
//! and mirrors the wasm operand stack with `Operand`s that say where a value is: in the
//! temporary slot of its stack position, in a local, or a constant not yet written anywhere.
//! Operators then read their operands from wherever they are, so `local.get` and constants
//! emit nothing. The one hazard of that laziness — a local changed while the stack still
//! refers to it — is handled by copying such references into their temporaries first, and at
//! every block boundary (so that all paths into a label agree on where values are).
//!
//! Control flow: every label's values live in the temporaries of the label's stack height;
//! branches copy there when the values are elsewhere. Forward branches are patched through
//! per-label lists when the label is bound. Fuel regions are cut here (see [`crate::ir`]
//! and the `fuel` submodule); what each operator becomes is in `forms`, which instructions
//! fuse in `fuse`; `verify` checks the result against what the interpreter relies on.
//!
//! Nothing recurses: the control stack is a heap vector. Every vector is grown fallibly.

use crate::error::{message, Error};
use crate::ir::{FuncCode, Op, Slot};
use crate::value::FuncType;
use alloc::vec::Vec;
use wasmparser::{BlockType, FuncValidator, Operator, ValidatorResources};

mod forms;
mod fuel;
mod fuse;
mod verify;

// The operator table in `Translator::simple` names the constructors `forms` generates.
use forms::*;
use fuel::Region;
use fuse::{fuse_branch, fuse_f64, fuse_int};
pub(crate) use verify::verify;

/// What the translator needs to know about the module.
pub(crate) struct ModuleContext<'a> {
    /// The module's types.
    pub(crate) types: &'a [FuncType],
    /// The type index of every function, imported ones first.
    pub(crate) func_types: &'a [u32],
    /// How many functions are imported.
    pub(crate) num_imported_funcs: u32,
}

impl ModuleContext<'_> {
    fn func_type(&self, index: u32) -> Result<&FuncType, Error> {
        self.types
            .get(index as usize)
            .ok_or_else(|| internal("type index"))
    }
}

/// How often (in operators) translation calls the interrupt callback.
pub const YIELD_INTERVAL: u32 = 1 << 14;

/// The most value copies one `br_table` may need (targets that need copies times their
/// arity), so that translating a module stays linear in its size.
pub(crate) const MAX_BR_TABLE_COPIES: u64 = 1 << 16;

/// The most `br_table` entries times label arity the validator may be asked to check in one
/// `br_table`, which costs that much work in the validator.
pub(crate) const MAX_BR_TABLE_WORK: u64 = 1 << 20;

fn internal(what: &'static str) -> Error {
    Error::Unsupported(message!("internal translation error: {what}"))
}

fn too_big() -> Error {
    Error::Limit("function needs more than 65535 value slots".into())
}

fn try_push<T>(v: &mut Vec<T>, item: T) -> Result<(), Error> {
    v.try_reserve(1)?;
    v.push(item);
    Ok(())
}

/// Where a value of the wasm operand stack is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operand {
    /// In the temporary slot of its stack position.
    Temp,
    /// In this local (not copied yet).
    Local(u32),
    /// This constant, as a slot (not written anywhere yet).
    Const(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Block,
    Loop,
    If,
    Else,
    Function,
}

#[derive(Clone, Copy, Debug)]
struct Ctrl {
    kind: Kind,
    /// Stack height at entry, below the block's parameters.
    height: u32,
    params: u32,
    results: u32,
    /// The label branches to this block go to (forward for blocks, backward for loops).
    label: u32,
    /// For `if`: where the false branch goes.
    else_label: u32,
}

impl Ctrl {
    /// The number of values a branch to this block's label carries.
    fn arity(&self) -> u32 {
        if self.kind == Kind::Loop {
            self.params
        } else {
            self.results
        }
    }
}

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Label {
    /// The instruction the label is bound to, or `NONE`.
    pc: u32,
    /// The fuel region it is bound in.
    region: u32,
    /// First pending branch to it (index into `patches`), or `NONE`.
    head: u32,
}

#[derive(Clone, Copy, Debug)]
struct Patch {
    op: u32,
    region: u32,
    next: u32,
}

/// Translates one function body: validates every operator with `validator` and emits code.
pub(crate) fn translate_function(
    ctx: &ModuleContext<'_>,
    func_index: u32,
    ty: &FuncType,
    body: &wasmparser::FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
    scratch: &mut Scratch,
    yield_now: &mut dyn FnMut() -> Result<(), Error>,
) -> Result<FuncCode, Error> {
    let mut locals_reader = body
        .get_locals_reader()
        .map_err(crate::module::parse_error)?;
    let mut num_locals = u32::try_from(ty.params().len()).map_err(|_| too_big())?;
    for _ in 0..locals_reader.get_count() {
        let offset = locals_reader.original_position();
        let (count, vt) = locals_reader.read().map_err(crate::module::parse_error)?;
        validator
            .define_locals(offset, count, vt)
            .map_err(crate::module::parse_error)?;
        num_locals = num_locals.checked_add(count).ok_or_else(too_big)?;
        if num_locals > u32::from(Slot::MAX) {
            return Err(too_big());
        }
    }
    let mut since_yield = 0u32;
    let mut buffers = core::mem::take(scratch);
    buffers.clear();
    loop_constants(body, &mut buffers.pool, &mut since_yield, yield_now)?;
    let mut t = Translator::new(ctx, ty, num_locals, buffers)?;
    let mut reader = body
        .get_operators_reader()
        .map_err(crate::module::parse_error)?;
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read().map_err(crate::module::parse_error)?;
        if let Operator::BrTable { targets } = &op {
            check_br_table_work(ctx, validator, targets, offset as usize)?;
        }
        validator
            .op(offset, &op)
            .map_err(crate::module::parse_error)?;
        t.offset = u32::try_from(offset).unwrap_or(u32::MAX);
        t.operator(op)?;
        since_yield += 1;
        if since_yield >= YIELD_INTERVAL {
            since_yield = 0;
            yield_now()?;
        }
    }
    reader.finish().map_err(crate::module::parse_error)?;
    let code = t.finish(func_index)?;
    *scratch = t.into_scratch();
    verify(&code)?;
    Ok(code)
}

/// The working buffers of a translation, kept from one function to the next. Without them a
/// module of many small functions makes ten growing vectors per function: 100 000
/// functions made over a million allocations, each one saving stack traces in a KASAN and
/// kmemleak kernel. The translated code and offsets are copied out of them at their exact
/// size, which is what `max_code_bytes` counts with the constants and the function record
/// (growing vectors held up to twice that).
/// Their capacity is that of the largest function so far, and they are freed when the
/// module is loaded.
#[derive(Default)]
pub(crate) struct Scratch {
    ops: Vec<Op>,
    offsets: Vec<u32>,
    stack: Vec<Operand>,
    ctrl: Vec<Ctrl>,
    local_refs: Vec<u32>,
    labels: Vec<Label>,
    patches: Vec<Patch>,
    regions: Vec<Region>,
    cost_links: Vec<(u32, u32)>,
    pool: Vec<u64>,
}

impl Scratch {
    /// Empties every buffer, keeping its capacity.
    fn clear(&mut self) {
        self.ops.clear();
        self.offsets.clear();
        self.stack.clear();
        self.ctrl.clear();
        self.local_refs.clear();
        self.labels.clear();
        self.patches.clear();
        self.regions.clear();
        self.cost_links.clear();
        self.pool.clear();
    }
}

/// A copy of `items` in an allocation of exactly their size.
fn exact_copy<T: Copy>(items: &[T]) -> Result<Vec<T>, Error> {
    let mut copy = Vec::new();
    copy.try_reserve_exact(items.len())?;
    copy.extend_from_slice(items);
    Ok(copy)
}

/// The most constants a function keeps in its frame (see [`FuncCode::consts`]).
pub const MAX_FRAME_CONSTS: usize = 32;

/// The constants used inside the loops of `body` that an instruction may not be able to take
/// as an immediate (floats, and integers beyond 16 bits), at most [`MAX_FRAME_CONSTS`] of them:
/// they get slots of their own in the frame, written once on function entry, so that a loop
/// does not rewrite them into a temporary on every iteration. Constants outside loops run
/// once per call either way and stay instructions. A read error ends the scan; the
/// translation that follows reports it.
fn loop_constants(
    body: &wasmparser::FunctionBody<'_>,
    pool: &mut Vec<u64>,
    since_yield: &mut u32,
    yield_now: &mut dyn FnMut() -> Result<(), Error>,
) -> Result<(), Error> {
    let Ok(mut reader) = body.get_operators_reader() else {
        return Ok(());
    };
    // Block nesting, and the depth of the outermost open loop.
    let mut depth = 0u32;
    let mut outer_loop: Option<u32> = None;
    while !reader.eof() {
        let Ok(op) = reader.read() else {
            break;
        };
        *since_yield += 1;
        if *since_yield >= YIELD_INTERVAL {
            *since_yield = 0;
            yield_now()?;
        }
        let v = match op {
            Operator::Block { .. } | Operator::If { .. } => {
                depth = depth.saturating_add(1);
                continue;
            }
            Operator::Loop { .. } => {
                depth = depth.saturating_add(1);
                outer_loop.get_or_insert(depth);
                continue;
            }
            Operator::End => {
                if outer_loop == Some(depth) {
                    outer_loop = None;
                }
                depth = depth.saturating_sub(1);
                continue;
            }
            _ if outer_loop.is_none() => continue,
            Operator::I32Const { value } if i16::try_from(value).is_err() => {
                u64::from(value as u32)
            }
            Operator::I64Const { value } if i16::try_from(value).is_err() => value as u64,
            Operator::F32Const { value } => u64::from(value.bits()),
            Operator::F64Const { value } => value.bits(),
            _ => continue,
        };
        if !pool.contains(&v) {
            if pool.len() >= MAX_FRAME_CONSTS {
                break;
            }
            try_push(pool, v)?;
        }
    }
    Ok(())
}

/// Refuses a `br_table` whose validation alone would be unreasonably slow: the validator
/// checks the carried values against every target, so its work is targets times arity. Asked
/// of the validator's control stack, which (unlike the translator's) covers dead code too.
fn check_br_table_work(
    ctx: &ModuleContext<'_>,
    validator: &FuncValidator<ValidatorResources>,
    targets: &wasmparser::BrTable<'_>,
    offset: usize,
) -> Result<(), Error> {
    let arity = validator
        .get_control_frame(targets.default() as usize)
        .map_or(0, |frame| {
            let (params, results) = match frame.block_type {
                BlockType::Empty => (0, 0),
                BlockType::Type(_) => (0, 1),
                BlockType::FuncType(index) => ctx
                    .func_type(index)
                    .map_or((0, 0), |t| (t.params().len(), t.results().len())),
            };
            if frame.kind == wasmparser::FrameKind::Loop {
                params
            } else {
                results
            }
        });
    let work = u64::from(targets.len()).saturating_mul(arity.max(1) as u64);
    if work > MAX_BR_TABLE_WORK {
        return Err(Error::Limit(message!(
            "br_table at offset {offset:#x} with {} targets of {arity} values each exceeds the \
             limit of {MAX_BR_TABLE_WORK} target values",
            targets.len()
        )));
    }
    Ok(())
}

struct Translator<'a> {
    ctx: &'a ModuleContext<'a>,
    ops: Vec<Op>,
    offsets: Vec<u32>,
    stack: Vec<Operand>,
    ctrl: Vec<Ctrl>,
    /// Parameters and declared locals.
    num_locals: u32,
    /// The constants in the frame, in the slots from `num_locals` on.
    pool: Vec<u64>,
    /// The first temporary's slot: after the locals and the constants.
    temp_base: u32,
    num_params: u32,
    num_results: u32,
    /// How many `Operand::Local(i)` are on the stack, per local.
    local_refs: Vec<u32>,
    /// No stack position below this holds an `Operand::Local`.
    lazy_floor: usize,
    max_height: u32,
    /// The current code is unreachable; `dead_depth` counts blocks opened inside it.
    unreachable: bool,
    dead_depth: u32,
    /// Byte offset of the operator being translated.
    offset: u32,
    /// The last instruction may be rewritten (its result retargeted, or fused with a branch)
    /// only if it is at or after this index: no label is bound after it.
    fuse_floor: usize,
    labels: Vec<Label>,
    patches: Vec<Patch>,
    regions: Vec<Region>,
    cost_links: Vec<(u32, u32)>,
    region: u32,
}

impl<'a> Translator<'a> {
    fn new(
        ctx: &'a ModuleContext<'a>,
        ty: &FuncType,
        num_locals: u32,
        scratch: Scratch,
    ) -> Result<Self, Error> {
        let Scratch {
            ops,
            offsets,
            stack,
            ctrl,
            mut local_refs,
            labels,
            patches,
            regions,
            cost_links,
            pool,
        } = scratch;
        let temp_base = num_locals
            .checked_add(pool.len() as u32)
            .filter(|&n| n <= u32::from(Slot::MAX))
            .ok_or_else(too_big)?;
        local_refs.try_reserve(num_locals as usize)?;
        local_refs.resize(num_locals as usize, 0);
        let mut t = Self {
            ctx,
            ops,
            offsets,
            stack,
            ctrl,
            num_locals,
            pool,
            temp_base,
            num_params: ty.params().len() as u32,
            num_results: ty.results().len() as u32,
            local_refs,
            lazy_floor: 0,
            max_height: 0,
            unreachable: false,
            dead_depth: 0,
            offset: 0,
            fuse_floor: 0,
            labels,
            patches,
            regions,
            cost_links,
            region: 0,
        };
        try_push(
            &mut t.regions,
            Region {
                anchor: NONE,
                payer: NONE,
                weight: 0,
                closed: false,
                cost_head: NONE,
            },
        )?;
        let label = t.new_label()?;
        try_push(
            &mut t.ctrl,
            Ctrl {
                kind: Kind::Function,
                height: 0,
                params: 0,
                results: t.num_results,
                label,
                else_label: NONE,
            },
        )?;
        Ok(t)
    }

    fn finish(&mut self, func_index: u32) -> Result<FuncCode, Error> {
        if !self.ctrl.is_empty() {
            return Err(internal("unbalanced blocks"));
        }
        let last = self.regions.len() as u32 - 1;
        self.close_region(last)?;
        let entry_cost = self.regions.first().map_or(0, |r| r.weight);
        // Results are returned in the first slots of the frame.
        let num_slots = self
            .temp_base
            .checked_add(self.max_height)
            .map(|n| n.max(self.num_results))
            .filter(|&n| n <= u32::from(Slot::MAX))
            .ok_or_else(too_big)?;
        Ok(FuncCode {
            ops: exact_copy(&self.ops)?,
            offsets: exact_copy(&self.offsets)?,
            func_index,
            num_params: self.num_params as u16,
            num_locals: self.num_locals as u16,
            num_results: self.num_results as u16,
            num_slots: num_slots as u16,
            entry_cost,
            consts: exact_copy(&self.pool)?,
        })
    }

    /// Gives the buffers back for the next function.
    fn into_scratch(self) -> Scratch {
        Scratch {
            ops: self.ops,
            offsets: self.offsets,
            stack: self.stack,
            ctrl: self.ctrl,
            local_refs: self.local_refs,
            labels: self.labels,
            patches: self.patches,
            regions: self.regions,
            cost_links: self.cost_links,
            pool: self.pool,
        }
    }

    // ---- instructions and fuel regions ----

    fn pc(&self) -> u32 {
        self.ops.len() as u32
    }

    fn emit(&mut self, op: Op) -> Result<u32, Error> {
        let pc = self.emit_raw(op)?;
        self.maybe_new_region()?;
        Ok(pc)
    }

    /// Emits without ever starting a region after it: for instructions followed by words
    /// that must stay next to them (`Aux`, `br_table` entries).
    fn emit_raw(&mut self, op: Op) -> Result<u32, Error> {
        let pc = self.pc();
        if pc >= i32::MAX as u32 {
            return Err(Error::Limit("function too large".into()));
        }
        self.ops.try_reserve(1)?;
        self.offsets.try_reserve(1)?;
        self.ops.push(op);
        self.offsets.push(self.offset);
        let region = self
            .regions
            .get_mut(self.region as usize)
            .ok_or_else(|| internal("region"))?;
        region.weight += op.weight();
        Ok(pc)
    }

    fn new_label(&mut self) -> Result<u32, Error> {
        try_push(
            &mut self.labels,
            Label {
                pc: NONE,
                region: 0,
                head: NONE,
            },
        )?;
        Ok(self.labels.len() as u32 - 1)
    }

    /// Binds a forward label here, patching the branches to it.
    fn bind(&mut self, label: u32) -> Result<(), Error> {
        let pc = self.pc();
        let region = self.region;
        let l = self
            .labels
            .get_mut(label as usize)
            .ok_or_else(|| internal("label"))?;
        l.pc = pc;
        l.region = region;
        let mut p = l.head;
        l.head = NONE;
        while p != NONE {
            let patch = *self
                .patches
                .get(p as usize)
                .ok_or_else(|| internal("patch"))?;
            self.set_offset(patch.op, pc)?;
            if patch.region != region {
                self.charge_region(patch.op, region)?;
            }
            p = patch.next;
        }
        self.fuse_floor = self.ops.len();
        Ok(())
    }

    /// Binds a loop's label here.
    fn bind_loop(&mut self, label: u32) -> Result<(), Error> {
        let pc = self.pc();
        let region = self.region;
        let l = self
            .labels
            .get_mut(label as usize)
            .ok_or_else(|| internal("label"))?;
        l.pc = pc;
        l.region = region;
        self.fuse_floor = self.ops.len();
        Ok(())
    }

    /// Points branch `op` at `label`: now if it is bound (a loop), else when it is.
    fn link(&mut self, op: u32, label: u32) -> Result<(), Error> {
        let l = *self
            .labels
            .get(label as usize)
            .ok_or_else(|| internal("label"))?;
        if l.pc != NONE {
            // Backward: always pays for the loop header's region.
            self.set_offset(op, l.pc)?;
            return self.charge_region(op, l.region);
        }
        try_push(
            &mut self.patches,
            Patch {
                op,
                region: self.region,
                next: l.head,
            },
        )?;
        let head = self.patches.len() as u32 - 1;
        if let Some(l) = self.labels.get_mut(label as usize) {
            l.head = head;
        }
        Ok(())
    }

    fn set_offset(&mut self, op: u32, target: u32) -> Result<(), Error> {
        let delta = i64::from(target) - i64::from(op);
        let delta = i32::try_from(delta).map_err(|_| Error::Limit("function too large".into()))?;
        let op = self
            .ops
            .get_mut(op as usize)
            .ok_or_else(|| internal("branch index"))?;
        if let Some(short) = short_branch_offset(op) {
            *short = i16::try_from(delta).map_err(|_| internal("short branch offset"))?;
            return Ok(());
        }
        *branch_offset(op).ok_or_else(|| internal("not a branch"))? = delta;
        Ok(())
    }

    // ---- the operand stack ----

    fn height(&self) -> u32 {
        self.stack.len() as u32
    }

    /// The temporary slot of stack position `pos`.
    fn temp(&self, pos: u32) -> Result<Slot, Error> {
        let slot = self.temp_base.checked_add(pos).ok_or_else(too_big)?;
        Slot::try_from(slot).map_err(|_| too_big())
    }

    /// The frame slot holding constant `v`, if it has one.
    fn pool_slot(&self, v: u64) -> Option<Slot> {
        let i = self.pool.iter().position(|&c| c == v)?;
        Slot::try_from(self.num_locals as usize + i).ok()
    }

    fn push(&mut self, operand: Operand) -> Result<(), Error> {
        if let Operand::Local(i) = operand {
            let refs = self
                .local_refs
                .get_mut(i as usize)
                .ok_or_else(|| internal("local"))?;
            *refs += 1;
            self.lazy_floor = self.lazy_floor.min(self.stack.len());
        }
        try_push(&mut self.stack, operand)?;
        let h = self.height();
        if h > self.max_height {
            self.max_height = h;
            // Checked here so that every slot the code names fits in a `Slot`.
            self.temp(h)?;
        }
        Ok(())
    }

    /// Pushes a result and returns the slot to write it to.
    fn push_temp(&mut self) -> Result<Slot, Error> {
        let slot = self.temp(self.height())?;
        self.push(Operand::Temp)?;
        Ok(slot)
    }

    fn pop(&mut self) -> Result<Operand, Error> {
        let operand = self.stack.pop().ok_or_else(|| internal("operand stack"))?;
        if let Operand::Local(i) = operand {
            if let Some(refs) = self.local_refs.get_mut(i as usize) {
                *refs = refs.saturating_sub(1);
            }
        }
        self.lazy_floor = self.lazy_floor.min(self.stack.len());
        Ok(operand)
    }

    /// Copies slot `s` to slot `d`; two copies in a row (the arguments of a call, the values
    /// of a branch, swaps) are one instruction, and so is a copy of what an add of a
    /// constant just computed (a counter kept in two locals, `local.tee x` `local.set y`).
    fn emit_copy(&mut self, d: Slot, s: Slot) -> Result<(), Error> {
        if let Some(last) = self.fusable() {
            let fused = match self.ops.get(last) {
                Some(&Op::Copy { d: d1, s: s1 }) => Some(Op::Copy2 {
                    d1,
                    s1,
                    d2: d,
                    s2: s,
                }),
                Some(&Op::I32AddImm { d: d1, a, imm }) if d1 == s => Some(Op::I32AddImmCopy {
                    d: d1,
                    d2: d,
                    a,
                    imm,
                }),
                _ => None,
            };
            if let Some(fused) = fused {
                return self.replace_last(last, fused);
            }
        }
        self.emit(Op::Copy { d, s })?;
        Ok(())
    }

    /// Writes a constant to a slot.
    fn emit_const(&mut self, d: Slot, v: u64) -> Result<(), Error> {
        if v <= u64::from(u32::MAX) {
            self.emit(Op::Const32 { d, v: v as u32 })?;
        } else {
            self.emit(Op::Const64 {
                d,
                lo: v as u32,
                hi: (v >> 32) as u32,
            })?;
        }
        Ok(())
    }

    /// Copies the value at stack position `pos` into its temporary, if it is elsewhere.
    fn materialize(&mut self, pos: usize) -> Result<(), Error> {
        let operand = *self
            .stack
            .get(pos)
            .ok_or_else(|| internal("operand stack"))?;
        let d = self.temp(pos as u32)?;
        match operand {
            Operand::Temp => return Ok(()),
            Operand::Local(i) => {
                self.emit_copy(d, i as Slot)?;
                if let Some(refs) = self.local_refs.get_mut(i as usize) {
                    *refs = refs.saturating_sub(1);
                }
            }
            Operand::Const(v) => self.emit_const(d, v)?,
        }
        if let Some(slot) = self.stack.get_mut(pos) {
            *slot = Operand::Temp;
        }
        Ok(())
    }

    /// Copies every reference to a local on the stack into its temporary.
    fn materialize_locals(&mut self) -> Result<(), Error> {
        for pos in self.lazy_floor..self.stack.len() {
            if matches!(self.stack.get(pos), Some(Operand::Local(_))) {
                self.materialize(pos)?;
            }
        }
        self.lazy_floor = self.stack.len();
        Ok(())
    }

    /// Copies the references to local `x` on the stack into their temporaries, before `x`
    /// changes.
    fn preserve_local(&mut self, x: u32) -> Result<(), Error> {
        let mut pos = self.stack.len();
        while self.local_refs.get(x as usize).is_some_and(|&n| n > 0) && pos > self.lazy_floor {
            pos -= 1;
            if self.stack.get(pos) == Some(&Operand::Local(x)) {
                self.materialize(pos)?;
            }
        }
        Ok(())
    }

    /// Materialises the top `n` values (all of them, constants too).
    fn materialize_top(&mut self, n: u32) -> Result<(), Error> {
        let len = self.stack.len();
        let start = len
            .checked_sub(n as usize)
            .ok_or_else(|| internal("operand stack"))?;
        for pos in start..len {
            self.materialize(pos)?;
        }
        Ok(())
    }

    /// Pops a value and returns a slot holding it (materialising a constant).
    fn pop_slot(&mut self) -> Result<Slot, Error> {
        let pos = self
            .stack
            .len()
            .checked_sub(1)
            .ok_or_else(|| internal("operand stack"))?;
        match *self
            .stack
            .get(pos)
            .ok_or_else(|| internal("operand stack"))?
        {
            Operand::Const(v) => match self.pool_slot(v) {
                Some(slot) => {
                    self.pop()?;
                    return Ok(slot);
                }
                None => self.materialize(pos)?,
            },
            Operand::Local(i) => {
                self.pop()?;
                return Ok(i as Slot);
            }
            Operand::Temp => {}
        }
        self.pop()?;
        self.temp(pos as u32)
    }

    /// The index of the last instruction if it may still be rewritten.
    fn fusable(&self) -> Option<usize> {
        let last = self.ops.len().checked_sub(1)?;
        (last >= self.fuse_floor).then_some(last)
    }

    /// If the value on top of the stack is a temporary that the last instruction just wrote,
    /// returns that instruction's index.
    fn producer_of_top(&self) -> Option<usize> {
        let pos = self.stack.len().checked_sub(1)?;
        if self.stack.get(pos) != Some(&Operand::Temp) {
            return None;
        }
        let slot = self.temp(pos as u32).ok()?;
        let last = self.fusable()?;
        let mut op = *self.ops.get(last)?;
        (value_slot_mut(&mut op).copied() == Some(slot)).then_some(last)
    }

    // ---- operators ----

    fn set_unreachable(&mut self) -> Result<(), Error> {
        self.unreachable = true;
        let height = self.ctrl.last().map_or(0, |c| c.height);
        while self.height() > height {
            self.pop()?;
        }
        Ok(())
    }

    fn frame(&self, depth: u32) -> Result<Ctrl, Error> {
        let i = self
            .ctrl
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or_else(|| internal("branch depth"))?;
        self.ctrl
            .get(i)
            .copied()
            .ok_or_else(|| internal("branch depth"))
    }

    fn block_type(&self, ty: BlockType) -> Result<(u32, u32), Error> {
        Ok(match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(index) => {
                let ty = self.ctx.func_type(index)?;
                (ty.params().len() as u32, ty.results().len() as u32)
            }
        })
    }

    fn open(&mut self, kind: Kind, ty: BlockType) -> Result<Ctrl, Error> {
        let (params, results) = self.block_type(ty)?;
        // All paths into a label must agree on where values are: nothing may refer to a
        // local that the block could change.
        self.materialize_locals()?;
        if params > 0 {
            self.materialize_top(params)?;
        }
        let height = self
            .height()
            .checked_sub(params)
            .ok_or_else(|| internal("block parameters"))?;
        let label = self.new_label()?;
        let frame = Ctrl {
            kind,
            height,
            params,
            results,
            label,
            else_label: NONE,
        };
        Ok(frame)
    }

    fn operator(&mut self, op: Operator<'_>) -> Result<(), Error> {
        if self.unreachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                Operator::End if self.dead_depth > 0 => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                Operator::Else if self.dead_depth > 0 => return Ok(()),
                Operator::End | Operator::Else => {}
                _ => return Ok(()),
            }
        }
        if self.simple(&op)? {
            return Ok(());
        }
        match op {
            Operator::Unreachable => {
                self.emit(Op::Unreachable)?;
                self.set_unreachable()?;
            }
            Operator::Nop => {}
            Operator::Block { blockty } => {
                let frame = self.open(Kind::Block, blockty)?;
                try_push(&mut self.ctrl, frame)?;
            }
            Operator::Loop { blockty } => {
                let frame = self.open(Kind::Loop, blockty)?;
                self.new_loop_region()?;
                self.bind_loop(frame.label)?;
                try_push(&mut self.ctrl, frame)?;
            }
            Operator::If { blockty } => {
                let cond = self.pop()?;
                let mut frame = self.open(Kind::If, blockty)?;
                frame.else_label = self.new_label()?;
                // Branch to the false arm if the condition is zero.
                let br = self.branch_unless(cond)?;
                try_push(&mut self.ctrl, frame)?;
                self.link(br, frame.else_label)?;
            }
            Operator::Else => {
                let frame = self.frame(0)?;
                if !self.unreachable {
                    self.materialize_top(frame.results)?;
                    let br = self.emit(Op::Br { cost: 0, offset: 0 })?;
                    self.link(br, frame.label)?;
                }
                self.bind(frame.else_label)?;
                self.unreachable = false;
                while self.height() > frame.height {
                    self.pop()?;
                }
                // The parameters are in their temporaries (`open` made sure).
                for _ in 0..frame.params {
                    self.push(Operand::Temp)?;
                }
                if let Some(f) = self.ctrl.last_mut() {
                    f.kind = Kind::Else;
                    f.else_label = NONE;
                }
            }
            Operator::End => self.end()?,
            Operator::Br { relative_depth } => {
                self.br(relative_depth)?;
                self.set_unreachable()?;
            }
            Operator::BrIf { relative_depth } => self.br_if(relative_depth)?,
            Operator::BrTable { targets } => self.br_table(&targets)?,
            Operator::Return => {
                self.ret()?;
                self.set_unreachable()?;
            }
            Operator::Call { function_index } => self.call(function_index)?,
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            Operator::Drop => {
                self.pop()?;
            }
            Operator::Select | Operator::TypedSelect { .. } => self.select()?,
            Operator::LocalGet { local_index } => self.push(Operand::Local(local_index))?,
            Operator::LocalSet { local_index } => self.local_set(local_index, false)?,
            Operator::LocalTee { local_index } => self.local_set(local_index, true)?,
            Operator::GlobalGet { global_index } => {
                let d = self.push_temp()?;
                self.emit(Op::GlobalGet {
                    d,
                    global: global_index,
                })?;
            }
            Operator::GlobalSet { global_index } => {
                let s = self.pop_slot()?;
                self.emit(Op::GlobalSet {
                    s,
                    global: global_index,
                })?;
            }
            Operator::I32Const { value } => self.push(Operand::Const(u64::from(value as u32)))?,
            Operator::I64Const { value } => self.push(Operand::Const(value as u64))?,
            Operator::F32Const { value } => self.push(Operand::Const(u64::from(value.bits())))?,
            Operator::F64Const { value } => self.push(Operand::Const(value.bits()))?,
            Operator::RefNull { .. } => self.push(Operand::Const(0))?,
            Operator::RefFunc { function_index } => {
                let d = self.push_temp()?;
                self.emit(Op::RefFunc {
                    d,
                    func: function_index,
                })?;
            }
            Operator::TableGet { table } => {
                let i = self.pop_slot()?;
                let d = self.push_temp()?;
                self.emit(Op::TableGet { d, i, table })?;
            }
            Operator::TableSet { table } => {
                let v = self.pop_slot()?;
                let i = self.pop_slot()?;
                self.emit(Op::TableSet { i, v, table })?;
            }
            Operator::TableSize { table } => {
                let d = self.push_temp()?;
                self.emit(Op::TableSize { d, table })?;
            }
            Operator::TableGrow { table } => {
                let base = self.bulk_operands(2)?;
                let d = self.push_temp()?;
                self.emit(Op::TableGrow { d, base, table })?;
            }
            Operator::TableFill { table } => {
                let base = self.bulk_operands(3)?;
                self.emit(Op::TableFill { base, table })?;
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let base = self.bulk_operands(3)?;
                self.emit(Op::TableCopy {
                    base,
                    dst: dst_table,
                    src: src_table,
                })?;
            }
            Operator::TableInit { elem_index, table } => {
                let base = self.bulk_operands(3)?;
                self.emit(Op::TableInit {
                    base,
                    table,
                    elem: elem_index,
                })?;
            }
            Operator::ElemDrop { elem_index } => {
                self.emit(Op::ElemDrop { elem: elem_index })?;
            }
            Operator::MemorySize { .. } => {
                let d = self.push_temp()?;
                self.emit(Op::MemorySize { d })?;
            }
            Operator::MemoryGrow { .. } => self.unary(|d, s| Op::MemoryGrow { d, s })?,
            Operator::MemoryFill { .. } => {
                let base = self.bulk_operands(3)?;
                self.emit(Op::MemoryFill { base })?;
            }
            Operator::MemoryCopy { .. } => {
                let base = self.bulk_operands(3)?;
                self.emit(Op::MemoryCopy { base })?;
            }
            Operator::MemoryInit { data_index, .. } => {
                let base = self.bulk_operands(3)?;
                self.emit(Op::MemoryInit {
                    base,
                    data: data_index,
                })?;
            }
            Operator::DataDrop { data_index } => {
                self.emit(Op::DataDrop { data: data_index })?;
            }
            other => {
                return Err(Error::Validation {
                    offset: self.offset as usize,
                    message: message!("unsupported instruction {other:?}"),
                })
            }
        }
        Ok(())
    }

    /// Operators that are a single instruction of a fixed shape. Returns whether `op` was one.
    fn simple(&mut self, op: &Operator<'_>) -> Result<bool, Error> {
        macro_rules! un {
            ($($w:ident => $o:ident),* $(,)?) => {
                match op {
                    $(Operator::$w => { self.unary(|d, s| Op::$o { d, s })?; return Ok(true); })*
                    _ => {}
                }
            };
        }
        un! {
            I32Eqz => I32Eqz, I64Eqz => I64Eqz, RefIsNull => RefIsNull,
            I32Clz => I32Clz, I32Ctz => I32Ctz, I32Popcnt => I32Popcnt,
            I64Clz => I64Clz, I64Ctz => I64Ctz, I64Popcnt => I64Popcnt,
            F32Abs => F32Abs, F32Neg => F32Neg, F32Ceil => F32Ceil, F32Floor => F32Floor,
            F32Trunc => F32Trunc, F32Nearest => F32Nearest, F32Sqrt => F32Sqrt,
            F64Abs => F64Abs, F64Neg => F64Neg, F64Ceil => F64Ceil, F64Floor => F64Floor,
            F64Trunc => F64Trunc, F64Nearest => F64Nearest, F64Sqrt => F64Sqrt,
            I32WrapI64 => I32WrapI64, I32TruncF32S => I32TruncF32S,
            I32TruncF32U => I32TruncF32U, I32TruncF64S => I32TruncF64S,
            I32TruncF64U => I32TruncF64U, I64ExtendI32S => I64ExtendI32S,
            I64ExtendI32U => I64ExtendI32U, I64TruncF32S => I64TruncF32S,
            I64TruncF32U => I64TruncF32U, I64TruncF64S => I64TruncF64S,
            I64TruncF64U => I64TruncF64U, F32ConvertI32S => F32ConvertI32S,
            F32ConvertI32U => F32ConvertI32U, F32ConvertI64S => F32ConvertI64S,
            F32ConvertI64U => F32ConvertI64U, F32DemoteF64 => F32DemoteF64,
            F64ConvertI32S => F64ConvertI32S, F64ConvertI32U => F64ConvertI32U,
            F64ConvertI64S => F64ConvertI64S, F64ConvertI64U => F64ConvertI64U,
            F64PromoteF32 => F64PromoteF32, I32Extend8S => I32Extend8S,
            I32Extend16S => I32Extend16S, I64Extend8S => I64Extend8S,
            I64Extend16S => I64Extend16S, I64Extend32S => I64Extend32S,
            I32TruncSatF32S => I32TruncSatF32S, I32TruncSatF32U => I32TruncSatF32U,
            I32TruncSatF64S => I32TruncSatF64S, I32TruncSatF64U => I32TruncSatF64U,
            I64TruncSatF32S => I64TruncSatF32S, I64TruncSatF32U => I64TruncSatF32U,
            I64TruncSatF64S => I64TruncSatF64S, I64TruncSatF64U => I64TruncSatF64U,
        }
        // Reinterpretations change only the static type: the bits stay.
        if matches!(
            op,
            Operator::I32ReinterpretF32
                | Operator::F32ReinterpretI32
                | Operator::I64ReinterpretF64
                | Operator::F64ReinterpretI64
        ) {
            return Ok(true);
        }
        use BinForm::*;
        macro_rules! bin {
            ($($w:ident => $form:expr),* $(,)?) => {
                match op {
                    $(Operator::$w => { self.binary($form)?; return Ok(true); })*
                    _ => {}
                }
            };
        }
        bin! {
            I32Eq => Cmp32(CmpKind::Eq), I32Ne => Cmp32(CmpKind::Ne),
            I32LtS => Cmp32(CmpKind::LtS), I32LtU => Cmp32(CmpKind::LtU),
            I32GtS => Cmp32(CmpKind::GtS), I32GtU => Cmp32(CmpKind::GtU),
            I32LeS => Cmp32(CmpKind::LeS), I32LeU => Cmp32(CmpKind::LeU),
            I32GeS => Cmp32(CmpKind::GeS), I32GeU => Cmp32(CmpKind::GeU),
            I64Eq => Cmp64(CmpKind::Eq), I64Ne => Cmp64(CmpKind::Ne),
            I64LtS => Cmp64(CmpKind::LtS), I64LtU => Cmp64(CmpKind::LtU),
            I64GtS => Cmp64(CmpKind::GtS), I64GtU => Cmp64(CmpKind::GtU),
            I64LeS => Cmp64(CmpKind::LeS), I64LeU => Cmp64(CmpKind::LeU),
            I64GeS => Cmp64(CmpKind::GeS), I64GeU => Cmp64(CmpKind::GeU),
            F32Eq => Plain(mk_f32_eq), F32Ne => Plain(mk_f32_ne), F32Lt => Plain(mk_f32_lt),
            F32Gt => Plain(mk_f32_gt), F32Le => Plain(mk_f32_le), F32Ge => Plain(mk_f32_ge),
            F64Eq => Plain(mk_f64_eq), F64Ne => Plain(mk_f64_ne), F64Lt => Plain(mk_f64_lt),
            F64Gt => Plain(mk_f64_gt), F64Le => Plain(mk_f64_le), F64Ge => Plain(mk_f64_ge),
            I32Add => Arith32(ArithKind::Add), I32Sub => Arith32(ArithKind::Sub),
            I32Mul => Arith32(ArithKind::Mul), I32DivS => Arith32(ArithKind::DivS),
            I32DivU => Arith32(ArithKind::DivU), I32RemS => Arith32(ArithKind::RemS),
            I32RemU => Arith32(ArithKind::RemU), I32And => Arith32(ArithKind::And),
            I32Or => Arith32(ArithKind::Or), I32Xor => Arith32(ArithKind::Xor),
            I32Shl => Arith32(ArithKind::Shl), I32ShrS => Arith32(ArithKind::ShrS),
            I32ShrU => Arith32(ArithKind::ShrU), I32Rotl => Arith32(ArithKind::Rotl),
            I32Rotr => Arith32(ArithKind::Rotr),
            I64Add => Arith64(ArithKind::Add), I64Sub => Arith64(ArithKind::Sub),
            I64Mul => Arith64(ArithKind::Mul), I64DivS => Arith64(ArithKind::DivS),
            I64DivU => Arith64(ArithKind::DivU), I64RemS => Arith64(ArithKind::RemS),
            I64RemU => Arith64(ArithKind::RemU), I64And => Arith64(ArithKind::And),
            I64Or => Arith64(ArithKind::Or), I64Xor => Arith64(ArithKind::Xor),
            I64Shl => Arith64(ArithKind::Shl), I64ShrS => Arith64(ArithKind::ShrS),
            I64ShrU => Arith64(ArithKind::ShrU), I64Rotl => Arith64(ArithKind::Rotl),
            I64Rotr => Arith64(ArithKind::Rotr),
            F32Add => Plain(mk_f32_add), F32Sub => Plain(mk_f32_sub),
            F32Mul => Plain(mk_f32_mul), F32Div => Plain(mk_f32_div),
            F32Min => Plain(mk_f32_min), F32Max => Plain(mk_f32_max),
            F32Copysign => Plain(mk_f32_copysign),
            F64Add => Plain(mk_f64_add), F64Sub => Plain(mk_f64_sub),
            F64Mul => Plain(mk_f64_mul), F64Div => Plain(mk_f64_div),
            F64Min => Plain(mk_f64_min), F64Max => Plain(mk_f64_max),
            F64Copysign => Plain(mk_f64_copysign),
        }
        macro_rules! memarg {
            ($memarg:expr) => {
                u32::try_from($memarg.offset)
                    .map_err(|_| Error::Unsupported("64-bit memory offset".into()))?
            };
        }
        macro_rules! load {
            ($($w:ident => $o:ident $(/ $abs:ident)?),* $(,)?) => {
                match op {
                    $(Operator::$w { memarg } => {
                        let offset = memarg!(memarg);
                        #[allow(unused_mut, unused_assignments)]
                        let mut abs: Option<fn(Slot, u32) -> Op> = None;
                        $(abs = Some(|d, addr| Op::$abs { d, addr });)?
                        self.load(offset, |d, addr, offset| Op::$o { d, addr, offset }, abs)?;
                        return Ok(true);
                    })*
                    _ => {}
                }
            };
        }
        load! {
            I32Load => I32Load / I32LoadAbs, F32Load => I32Load / I32LoadAbs,
            I64Load => I64Load / I64LoadAbs, F64Load => I64Load / I64LoadAbs,
            I32Load8S => I32Load8S, I32Load8U => I32Load8U, I32Load16S => I32Load16S,
            I32Load16U => I32Load16U, I64Load8S => I64Load8S, I64Load8U => I32Load8U,
            I64Load16S => I64Load16S, I64Load16U => I32Load16U, I64Load32S => I64Load32S,
            I64Load32U => I64Load32U,
        }
        macro_rules! store {
            ($($w:ident => $o:ident / $imm:ident $(/ $abs:ident)?),* $(,)?) => {
                match op {
                    $(Operator::$w { memarg } => {
                        let offset = memarg!(memarg);
                        #[allow(unused_mut, unused_assignments)]
                        let mut abs: Option<fn(Slot, u32) -> Op> = None;
                        $(abs = Some(|v, addr| Op::$abs { v, addr });)?
                        self.store(
                            offset,
                            |addr, v, offset| Op::$o { addr, v, offset },
                            |addr, v, offset| Op::$imm { addr, v, offset },
                            abs,
                        )?;
                        return Ok(true);
                    })*
                    _ => {}
                }
            };
        }
        store! {
            I32Store => I32Store / I32StoreImm / I32StoreAbs,
            F32Store => I32Store / I32StoreImm / I32StoreAbs,
            I64Store => I64Store / I64StoreImm / I64StoreAbs,
            F64Store => I64Store / I64StoreImm / I64StoreAbs,
            I32Store8 => I32Store8 / I32Store8Imm, I64Store8 => I32Store8 / I32Store8Imm,
            I32Store16 => I32Store16 / I32Store16Imm,
            I64Store16 => I32Store16 / I32Store16Imm,
            I64Store32 => I32Store / I32StoreImm,
        }
        Ok(false)
    }

    /// `select`, absorbing an `i32.eqz` or `i64.eqz` that just computed the condition (a
    /// select on `x == 0` is one on `x` with its operands swapped) and an `and` with a small
    /// constant that computed `x` or the condition itself.
    fn select(&mut self) -> Result<(), Error> {
        let cond = self.producer_of_top().and_then(|last| {
            let op = *self.ops.get(last)?;
            match op {
                Op::I32Eqz { s, .. } => Some((last, s, false, true)),
                Op::I64Eqz { s, .. } => Some((last, s, true, true)),
                Op::I32AndImm { d, .. } | Op::I64AndImm { d, .. } => Some((last, d, false, false)),
                _ => None,
            }
        });
        let c = self.pop_slot()?;
        let b = self.pop_slot()?;
        let a = self.pop_slot()?;
        let d = self.push_temp()?;
        // Only if nothing was emitted after the `eqz` or `and` since (a constant operand
        // written into its temporary): then nothing has changed its operand either.
        let Some((last, x, wide, eqz)) = cond.filter(|&(last, ..)| last + 1 == self.ops.len())
        else {
            self.emit(Op::Select { d, c, a, b })?;
            return Ok(());
        };
        let (a, b) = if eqz { (b, a) } else { (a, b) };
        // The `and` that computed `x`, if `x` is a temporary that dies here (above the
        // stack now) and the `and` is right before: `x`'s other readers are gone with it.
        let and = last
            .checked_sub(usize::from(eqz))
            .filter(|&at| at >= self.fuse_floor)
            .filter(|_| x >= self.temp(self.height()).unwrap_or(Slot::MAX))
            .and_then(|at| match *self.ops.get(at)? {
                Op::I32AndImm { d, a: y, imm } | Op::I64AndImm { d, a: y, imm } if d == x => {
                    Some((at, y, i16::try_from(imm).ok()?))
                }
                _ => None,
            });
        if let Some((at, y, imm)) = and {
            if eqz {
                self.drop_last()?;
            }
            let fused = Op::SelectAndImm { d, c: y, a, b, imm };
            return self.replace_last(at, fused);
        }
        if !eqz {
            self.emit(Op::Select { d, c, a, b })?;
            return Ok(());
        }
        let fused = if wide {
            Op::Select64 { d, c: x, a, b }
        } else {
            Op::Select { d, c: x, a, b }
        };
        self.replace_last(last, fused)
    }

    /// Removes the last instruction, which a fusion absorbed into the one before it.
    fn drop_last(&mut self) -> Result<(), Error> {
        let op = self
            .ops
            .pop()
            .ok_or_else(|| internal("no instruction to drop"))?;
        self.offsets.pop();
        if let Some(r) = self.regions.get_mut(self.region as usize) {
            r.weight -= op.weight();
        }
        Ok(())
    }

    fn unary(&mut self, make: impl FnOnce(Slot, Slot) -> Op) -> Result<(), Error> {
        let s = self.pop_slot()?;
        let d = self.push_temp()?;
        self.emit(make(d, s))?;
        Ok(())
    }

    fn binary(&mut self, form: BinForm) -> Result<(), Error> {
        let b = self.pop()?;
        let a = self.pop()?;
        let h = self.height();
        let wide = matches!(form, BinForm::Cmp64(_) | BinForm::Arith64(_));
        let imm_of = |v: u64| imm32(v, wide);
        // Try an immediate form: constant on the right, or on the left of a commutative or
        // flippable operation.
        // (the other operand, its stack position, the immediate, the instruction)
        let imm_op: Option<(Operand, u32, i32, Option<MakeImm>)> = match (a, b) {
            (_, Operand::Const(c)) if !matches!(a, Operand::Const(_)) => {
                imm_of(c).map(|imm| (a, h, imm, form.imm_rhs(imm)))
            }
            (Operand::Const(c), _) if !matches!(b, Operand::Const(_)) => {
                imm_of(c).map(|imm| (b, h + 1, imm, form.imm_lhs(imm)))
            }
            _ => None,
        };
        // A comparison with an immediate beyond 16 bits cannot fuse with a branch (see
        // `fuse_branch`); with the constant in the frame, the plain form can.
        let cmp = matches!(form, BinForm::Cmp32(_) | BinForm::Cmp64(_));
        let pooled = |v: Operand| matches!(v, Operand::Const(c) if self.pool_slot(c).is_some());
        let imm_op = imm_op.filter(|&(_, _, imm, _)| {
            !(cmp && i16::try_from(imm).is_err() && (pooled(a) || pooled(b)))
        });
        let emitted = self.ops.len();
        if let Some((x, pos, imm, Some(make))) = imm_op {
            let s = self.operand_slot(x, pos)?;
            let d = self.push_temp()?;
            let op = make(d, s, imm);
            let reads = [(x == Operand::Temp).then_some((s, false))];
            return self.emit_fused(op, emitted, reads);
        }
        let sa = self.operand_slot(a, h)?;
        let sb = self.operand_slot(b, h + 1)?;
        let d = self.push_temp()?;
        let op = form.plain()(d, sa, sb);
        let reads = [
            (a == Operand::Temp).then_some((sa, false)),
            (b == Operand::Temp).then_some((sb, true)),
        ];
        self.emit_fused(op, emitted, reads)
    }

    /// Emits `op`, or fuses it with the last instruction if that is an operation `op` reads
    /// the result of (see `fuse_f64` and `fuse_int`): `reads` are the temporaries `op`
    /// reads, each with whether it is its right operand. Only if nothing was emitted since
    /// `emitted` (a constant operand written into its temporary): then nothing has changed
    /// the first instruction's operands either. The temporary is read only by `op`: it leaves
    /// the operand stack with it.
    fn emit_fused<const N: usize>(
        &mut self,
        op: Op,
        emitted: usize,
        reads: [Option<(Slot, bool)>; N],
    ) -> Result<(), Error> {
        if self.ops.len() == emitted {
            if let Some(last) = self.fusable() {
                let first = self.ops.get(last).copied();
                let fused = first.and_then(|first| {
                    let t = result_slot(&first)?;
                    let (_, rev) = reads.iter().flatten().find(|&&(s, _)| s == t)?;
                    fuse_f64(first, op, *rev).or_else(|| fuse_int(first, op, t))
                });
                if let Some(fused) = fused {
                    return self.replace_last(last, fused);
                }
            }
        }
        self.emit(op)?;
        Ok(())
    }

    /// The slot of an operand just popped from stack position `pos` (materialising a
    /// constant into that position's temporary).
    fn operand_slot(&mut self, operand: Operand, pos: u32) -> Result<Slot, Error> {
        match operand {
            Operand::Temp => self.temp(pos),
            Operand::Local(i) => Ok(i as Slot),
            Operand::Const(v) => {
                if let Some(slot) = self.pool_slot(v) {
                    return Ok(slot);
                }
                let d = self.temp(pos)?;
                self.emit_const(d, v)?;
                Ok(d)
            }
        }
    }

    fn load(
        &mut self,
        offset: u32,
        make: fn(Slot, Slot, u32) -> Op,
        abs: Option<fn(Slot, u32) -> Op>,
    ) -> Result<(), Error> {
        if let (Some(abs), Some(&Operand::Const(addr))) = (abs, self.stack.last()) {
            if let Some(ea) = (addr as u32).checked_add(offset) {
                self.pop()?;
                let d = self.push_temp()?;
                self.emit(abs(d, ea))?;
                return Ok(());
            }
        }
        if offset == 0 {
            // An element of an array of i32s, `(a << k) + imm` (C's static arrays: `imm` is
            // the array's address), read: one instruction in place of the three.
            if let (Op::I32Load { .. }, Some(last)) = (make(0, 0, 0), self.producer_of_top()) {
                if let Some(&Op::I32ShlImmAddImm { a, k, imm, .. }) = self.ops.get(last) {
                    self.pop()?;
                    let d = self.push_temp()?;
                    return self.replace_last(last, Op::I32LoadScaledW { d, a, k, imm });
                }
            }
            self.split_shl_add_of_top()?;
            if let Some((last, a, imm)) = self.add_imm_of_top() {
                // `i32.add (a, imm)` then an access at offset 0: one access at `a + imm`
                // modulo 2^32, in place of the add.
                self.pop()?;
                let d = self.push_temp()?;
                return self.fuse_wrapped(last, make(d, a, imm));
            }
        }
        if let Some((last, a, b)) = self.add_of_top() {
            // `i32.add (a, b)` then an access: one indexed access.
            self.pop()?;
            let d = self.push_temp()?;
            return self.fuse_indexed(last, make(d, 0, offset), a, b);
        }
        let top = self.stack.last().copied();
        let addr = self.pop_slot()?;
        let d = self.push_temp()?;
        let access = make(d, addr, offset);
        // A local just advanced by a constant (`p += k`), then read through: one instruction
        // that advances it and loads.
        if let (Some(Operand::Local(_)), Some(last)) = (top, self.fusable()) {
            if let Some(&Op::I32AddImm { d: p, a, imm }) = self.ops.get(last) {
                if p == addr && a == addr {
                    if let (Ok(k), Some(fused)) = (i16::try_from(imm), advancing(access)) {
                        return self.replace_last(last, fused(k));
                    }
                }
            }
        }
        self.emit(access)?;
        Ok(())
    }

    /// If the value on top of the stack is a temporary the last instruction computed as
    /// `i32.add` of a slot and a constant, returns that instruction and its operands.
    fn add_imm_of_top(&self) -> Option<(usize, Slot, u32)> {
        let last = self.producer_of_top()?;
        match *self.ops.get(last)? {
            Op::I32AddImm { a, imm, .. } => Some((last, a, imm as u32)),
            _ => None,
        }
    }

    /// If the value on top of the stack is a temporary the last instruction computed as
    /// `(a << k) + imm`, splits that instruction back into the shift and the add, so that an
    /// access at offset 0 can take the add's constant as its offset (`...W`): the fused
    /// instruction only pays when its result is kept, in a local.
    fn split_shl_add_of_top(&mut self) -> Result<(), Error> {
        let Some(last) = self.producer_of_top() else {
            return Ok(());
        };
        let Some(&fused @ Op::I32ShlImmAddImm { d, a, k, imm }) = self.ops.get(last) else {
            return Ok(());
        };
        let shift = Op::I32ShlImm {
            d,
            a,
            imm: i32::from(k),
        };
        if let Some(o) = self.ops.get_mut(last) {
            *o = shift;
        }
        if let Some(r) = self.regions.get_mut(self.region as usize) {
            r.weight = r.weight - fused.weight() + shift.weight();
        }
        // Raw: no region starts between the two, so the add still fuses into the access.
        self.emit_raw(Op::I32AddImm { d, a: d, imm })?;
        Ok(())
    }

    /// If the value on top of the stack is a temporary the last instruction computed as
    /// `i32.add` of two slots, returns that instruction and its operands.
    fn add_of_top(&self) -> Option<(usize, Slot, Slot)> {
        let last = self.producer_of_top()?;
        match *self.ops.get(last)? {
            Op::I32Add { a, b, .. } => Some((last, a, b)),
            _ => None,
        }
    }

    /// Replaces the address computation `a + b` at `last` by `access` (a load or store whose
    /// address operand is ignored) in its indexed form.
    fn fuse_indexed(&mut self, last: usize, access: Op, a: Slot, b: Slot) -> Result<(), Error> {
        let fused = indexed(access, a, b).ok_or_else(|| internal("indexed access"))?;
        self.replace_last(last, fused)
    }

    /// Puts `fused` in place of the instruction at `last`, which it absorbs together with
    /// the operator being translated.
    fn replace_last(&mut self, last: usize, fused: Op) -> Result<(), Error> {
        let old = self.ops.get(last).map_or(0, Op::weight);
        if let Some(o) = self.ops.get_mut(last) {
            *o = fused;
        }
        // A trap is the access's, at its offset.
        if let Some(o) = self.offsets.get_mut(last) {
            *o = self.offset;
        }
        if let Some(r) = self.regions.get_mut(self.region as usize) {
            r.weight = r.weight - old + fused.weight();
        }
        Ok(())
    }

    /// Replaces the address computation at `last` by `access` (a load or store at offset 0,
    /// with the add's constant as its offset) in its wrapping form.
    fn fuse_wrapped(&mut self, last: usize, access: Op) -> Result<(), Error> {
        let fused = wrapped(access).ok_or_else(|| internal("wrapped access"))?;
        self.replace_last(last, fused)
    }

    fn store(
        &mut self,
        offset: u32,
        make: fn(Slot, Slot, u32) -> Op,
        make_imm: fn(Slot, i16, u32) -> Op,
        abs: Option<fn(Slot, u32) -> Op>,
    ) -> Result<(), Error> {
        let v = self.pop()?;
        let h = self.height();
        if let Operand::Const(c) = v {
            // An i32 constant is zero-extended in its slot; as a sign-extended immediate,
            // only its low 32 bits matter for 32-bit and narrower stores.
            let imm = i16::try_from(c as i64).ok().or_else(|| {
                i16::try_from(c as u32 as i32)
                    .ok()
                    .filter(|&imm| !matches!(make_imm(0, imm, offset), Op::I64StoreImm { .. }))
            });
            if let Some(imm) = imm {
                if offset == 0 {
                    self.split_shl_add_of_top()?;
                    if let Some((last, a, k)) = self.add_imm_of_top() {
                        self.pop()?;
                        return self.fuse_wrapped(last, make_imm(a, imm, k));
                    }
                }
                if let Some((last, a, b)) = self.add_of_top() {
                    self.pop()?;
                    return self.fuse_indexed(last, make_imm(0, imm, offset), a, b);
                }
                let addr = self.pop_slot()?;
                self.emit(make_imm(addr, imm, offset))?;
                return Ok(());
            }
        }
        // A value in a local needs no instruction: the address's may still be the last one.
        if let Operand::Local(x) = v {
            if offset == 0 {
                self.split_shl_add_of_top()?;
                if let Some((last, a, k)) = self.add_imm_of_top() {
                    self.pop()?;
                    return self.fuse_wrapped(last, make(a, x as Slot, k));
                }
            }
            if let Some((last, a, b)) = self.add_of_top() {
                self.pop()?;
                return self.fuse_indexed(last, make(0, x as Slot, offset), a, b);
            }
        }
        // A value the last instruction computed, at an address the one before computed by
        // adding a constant: the add fuses into the access, which follows the value.
        if v == Operand::Temp && offset == 0 {
            if let Some((at, a, k)) = self.add_imm_below_value(h)? {
                self.pop()?;
                let access =
                    wrapped(make(a, self.temp(h)?, k)).ok_or_else(|| internal("wrapped access"))?;
                let value_op = *self.ops.get(at + 1).ok_or_else(|| internal("value"))?;
                let value_offset = *self.offsets.get(at + 1).ok_or_else(|| internal("value"))?;
                // The value's instruction moves up, in place of the add: it neither reads the
                // add's result (a temporary below its operands) nor writes the add's operand
                // (it writes only its own result, a temporary above). The two weigh what the
                // add and the access did.
                if let (Some(o), Some(off)) = (self.ops.get_mut(at), self.offsets.get_mut(at)) {
                    *o = value_op;
                    *off = value_offset;
                }
                if let (Some(o), Some(off)) =
                    (self.ops.get_mut(at + 1), self.offsets.get_mut(at + 1))
                {
                    *o = access;
                    *off = self.offset;
                }
                return Ok(());
            }
        }
        let sv = self.operand_slot(v, h)?;
        // A constant address, the offset folded in (C's static variables).
        if let (Some(abs), Some(&Operand::Const(addr))) = (abs, self.stack.last()) {
            if let Some(ea) = (addr as u32).checked_add(offset) {
                self.pop()?;
                self.emit(abs(sv, ea))?;
                return Ok(());
            }
        }
        let addr = self.pop_slot()?;
        self.emit(make(addr, sv, offset))?;
        Ok(())
    }

    /// For a store whose value (just popped from position `h`) is a temporary that the last
    /// instruction wrote, and whose address (now on top) is a temporary the instruction
    /// before it wrote with an `i32.add` of a constant: the add's index, operand and
    /// constant. Both must be after the last label.
    fn add_imm_below_value(&self, h: u32) -> Result<Option<(usize, Slot, u32)>, Error> {
        let Some(last) = self.fusable() else {
            return Ok(None);
        };
        let Some(at) = last.checked_sub(1).filter(|&at| at >= self.fuse_floor) else {
            return Ok(None);
        };
        let (Some(value_op), Some(add)) = (self.ops.get(last), self.ops.get(at)) else {
            return Ok(None);
        };
        if result_slot(value_op) != Some(self.temp(h)?)
            || h == 0
            || self.stack.last() != Some(&Operand::Temp)
        {
            return Ok(None);
        }
        match *add {
            Op::I32AddImm { d, a, imm } if d == self.temp(h - 1)? => Ok(Some((at, a, imm as u32))),
            _ => Ok(None),
        }
    }

    /// Pops `n` operands of a bulk operation into consecutive temporaries; returns the first.
    fn bulk_operands(&mut self, n: u32) -> Result<Slot, Error> {
        self.materialize_top(n)?;
        for _ in 0..n {
            self.pop()?;
        }
        self.temp(self.height())
    }

    fn local_set(&mut self, x: u32, tee: bool) -> Result<(), Error> {
        let top = *self.stack.last().ok_or_else(|| internal("operand stack"))?;
        if top == Operand::Local(x) {
            if !tee {
                self.pop()?;
            }
            return Ok(());
        }
        let producer = self.producer_of_top();
        self.pop()?;
        let xs = x as Slot;
        // Retarget the instruction that produced the value, unless the stack still refers to
        // `x`: those references must be copied before `x` changes.
        let untouched = self.local_refs.get(x as usize).is_some_and(|&n| n == 0);
        match (producer, untouched) {
            (Some(i), true) => {
                if let Some(d) = self.ops.get_mut(i).and_then(value_slot_mut) {
                    *d = xs;
                }
            }
            _ => {
                self.preserve_local(x)?;
                let h = self.height();
                match top {
                    Operand::Temp => {
                        let s = self.temp(h)?;
                        self.emit_copy(xs, s)?;
                    }
                    Operand::Local(y) => {
                        self.emit_copy(xs, y as Slot)?;
                    }
                    Operand::Const(v) => self.emit_const(xs, v)?,
                }
            }
        }
        if tee {
            self.push(Operand::Local(x))?;
        }
        Ok(())
    }

    // ---- control ----

    /// Copies the top `arity` values to the slots of the label of `frame`. Returns whether
    /// anything had to be copied (`dry` only tells).
    fn branch_copies(&mut self, frame: &Ctrl, dry: bool) -> Result<bool, Error> {
        let arity = frame.arity();
        let h = self.height();
        let src = h
            .checked_sub(arity)
            .ok_or_else(|| internal("branch values"))?;
        let mut copied = false;
        for i in 0..arity {
            let operand = *self
                .stack
                .get((src + i) as usize)
                .ok_or_else(|| internal("branch values"))?;
            let d = self.temp(frame.height + i)?;
            let same = operand == Operand::Temp && src == frame.height;
            if same {
                continue;
            }
            copied = true;
            if dry {
                return Ok(true);
            }
            match operand {
                Operand::Temp => {
                    let s = self.temp(src + i)?;
                    self.emit_copy(d, s)?;
                }
                Operand::Local(y) => {
                    self.emit_copy(d, y as Slot)?;
                }
                Operand::Const(v) => self.emit_const(d, v)?,
            }
        }
        Ok(copied)
    }

    /// An unconditional branch to the label at `depth` (with its values).
    fn br(&mut self, depth: u32) -> Result<(), Error> {
        let frame = self.frame(depth)?;
        if frame.kind == Kind::Function {
            return self.ret();
        }
        self.branch_copies(&frame, false)?;
        let br = self.emit(Op::Br { cost: 0, offset: 0 })?;
        self.link(br, frame.label)
    }

    fn ret(&mut self) -> Result<(), Error> {
        let n = self.num_results;
        match n {
            0 => {
                self.emit(Op::Return0)?;
            }
            1 => {
                let top = *self.stack.last().ok_or_else(|| internal("return value"))?;
                let h = self.height() - 1;
                match top {
                    Operand::Const(v) if v <= u64::from(u32::MAX) => {
                        self.emit(Op::ReturnImm32 { v: v as u32 })?;
                    }
                    _ => {
                        let s = self.operand_slot(top, h)?;
                        self.emit(Op::Return1 { s })?;
                    }
                }
            }
            _ => {
                self.materialize_top(n)?;
                let first = self.temp(self.height() - n)?;
                self.emit(Op::ReturnN { first, n: n as u16 })?;
            }
        }
        Ok(())
    }

    /// Emits a branch taken when `cond` (just popped) is zero, fusing the comparison that
    /// produced it. Returns the branch to link.
    fn branch_unless(&mut self, cond: Operand) -> Result<u32, Error> {
        self.cond_branch(cond, true)
    }

    /// Emits a conditional branch on `cond` (just popped from position `height()`): taken if
    /// the condition is true, or false when `negate`.
    fn cond_branch(&mut self, cond: Operand, negate: bool) -> Result<u32, Error> {
        let pos = self.height();
        if cond == Operand::Temp {
            let slot = self.temp(pos)?;
            if let Some(last) = self.fusable() {
                if let Some(op) = self.ops.get(last).copied() {
                    if result_slot(&op) == Some(slot) {
                        if let Some(fused) = fuse_branch(&op, negate) {
                            let old = op.weight();
                            if let Some(o) = self.ops.get_mut(last) {
                                *o = fused;
                            }
                            if let Some(r) = self.regions.get_mut(self.region as usize) {
                                r.weight = r.weight - old + fused.weight();
                            }
                            return Ok(last as u32);
                        }
                    }
                }
            }
        }
        let c = self.operand_slot(cond, pos)?;
        let op = if negate {
            Op::BrEqz {
                c,
                cost: 0,
                offset: 0,
            }
        } else {
            Op::BrNez {
                c,
                cost: 0,
                offset: 0,
            }
        };
        self.emit(op)
    }

    fn br_if(&mut self, depth: u32) -> Result<(), Error> {
        let cond = self.pop()?;
        let frame = self.frame(depth)?;
        if frame.kind == Kind::Function || self.branch_copies(&frame, true)? {
            // Skip the copies and the branch unless the condition holds.
            let skip = self.cond_branch(cond, true)?;
            let after = self.new_label()?;
            self.link(skip, after)?;
            if frame.kind == Kind::Function {
                self.ret()?;
            } else {
                self.branch_copies(&frame, false)?;
                let br = self.emit(Op::Br { cost: 0, offset: 0 })?;
                self.link(br, frame.label)?;
            }
            self.bind(after)?;
            return Ok(());
        }
        let br = self.cond_branch(cond, false)?;
        let br = self.fuse_back_edge(br, frame.label)?;
        self.link(br, frame.label)
    }

    /// A conditional branch `br` (the last instruction) back to `label` that tests a counter
    /// the instruction before it advanced in place (`i = i + k; br_if (i != n)`, the back
    /// edge of most counted loops) becomes one instruction with that add, if the target is
    /// near enough for its 16-bit offset. Returns the branch to link.
    fn fuse_back_edge(&mut self, br: u32, label: u32) -> Result<u32, Error> {
        let target = self.labels.get(label as usize).map_or(NONE, |l| l.pc);
        let Some(at) = (br as usize)
            .checked_sub(1)
            .filter(|&at| at >= self.fuse_floor && br as usize + 1 == self.ops.len())
        else {
            return Ok(br);
        };
        // Backward, and in reach from the add's position.
        if target == NONE || i16::try_from(i64::from(target) - at as i64).is_err() {
            return Ok(br);
        }
        let (Some(&add), Some(&branch)) = (self.ops.get(at), self.ops.get(br as usize)) else {
            return Ok(br);
        };
        // The counter, what is added (an immediate or a slot).
        let (i, step) = match add {
            Op::I32AddImm { d, a, imm } if d == a => match i16::try_from(imm) {
                Ok(imm) => (d, Ok(imm)),
                Err(_) => return Ok(br),
            },
            Op::I32Add { d, a, b } if d == a => (d, Err(b)),
            Op::I32Add { d, a, b } if d == b => (d, Err(a)),
            _ => return Ok(br),
        };
        #[derive(Clone, Copy)]
        enum Test {
            Ne,
            LtU,
            LtS,
            Nez,
        }
        // The test, the bound; `n > i` is `i < n`.
        let (test, n) = match branch {
            Op::BrI32Ne { a, b, .. } if a == i => (Test::Ne, b),
            Op::BrI32Ne { a, b, .. } if b == i => (Test::Ne, a),
            Op::BrI32LtU { a, b, .. } if a == i => (Test::LtU, b),
            Op::BrI32GtU { a, b, .. } if b == i => (Test::LtU, a),
            Op::BrI32LtS { a, b, .. } if a == i => (Test::LtS, b),
            Op::BrI32GtS { a, b, .. } if b == i => (Test::LtS, a),
            Op::BrNez { c, .. } if c == i => (Test::Nez, i),
            _ => return Ok(br),
        };
        let (cost, offset) = (0, 0);
        let fused = match (step, test) {
            (Ok(imm), Test::Ne) => Op::BrI32AddImmNe {
                a: i,
                imm,
                b: n,
                cost,
                offset,
            },
            (Ok(imm), Test::LtU) => Op::BrI32AddImmLtU {
                a: i,
                imm,
                b: n,
                cost,
                offset,
            },
            (Ok(imm), Test::LtS) => Op::BrI32AddImmLtS {
                a: i,
                imm,
                b: n,
                cost,
                offset,
            },
            (Ok(imm), Test::Nez) => Op::BrI32AddImmNez {
                a: i,
                imm,
                cost,
                offset,
            },
            (Err(x), Test::Ne) => Op::BrI32AddNe {
                a: i,
                x,
                b: n,
                cost,
                offset,
            },
            (Err(x), Test::LtU) => Op::BrI32AddLtU {
                a: i,
                x,
                b: n,
                cost,
                offset,
            },
            (Err(x), Test::LtS) => Op::BrI32AddLtS {
                a: i,
                x,
                b: n,
                cost,
                offset,
            },
            (Err(_), Test::Nez) => return Ok(br),
        };
        self.drop_last()?;
        self.replace_last(at, fused)?;
        Ok(at as u32)
    }

    fn br_table(&mut self, targets: &wasmparser::BrTable<'_>) -> Result<(), Error> {
        let index = self.pop()?;
        let index = self.operand_slot(index, self.height())?;
        let len = targets.len();
        let mut depths = Vec::new();
        depths.try_reserve_exact(len as usize + 1)?;
        for depth in targets.targets() {
            depths.push(depth.map_err(crate::module::parse_error)?);
        }
        depths.push(targets.default());
        // Every target carries the same number of values, the top `arity` ones: they are
        // where a label wants them if they all sit in their temporaries at its height.
        let arity = self.frame(targets.default())?.arity();
        let src = self
            .height()
            .checked_sub(arity)
            .ok_or_else(|| internal("br_table"))?;
        let start = src as usize;
        let in_temps = self
            .stack
            .get(start..)
            .is_some_and(|top| top.iter().all(|o| *o == Operand::Temp));
        let needs_trampoline = |frame: &Ctrl| {
            frame.kind == Kind::Function || (arity > 0 && !(in_temps && frame.height == src))
        };
        // Targets that need copies go through one trampoline per label.
        let mut tramps: Vec<u32> = Vec::new();
        for &depth in &depths {
            if needs_trampoline(&self.frame(depth)?) {
                try_push(&mut tramps, depth)?;
            }
        }
        tramps.sort_unstable();
        tramps.dedup();
        let copies = (tramps.len() as u64).saturating_mul(u64::from(arity.max(1)));
        if copies > MAX_BR_TABLE_COPIES {
            return Err(Error::Limit(message!(
                "br_table at offset {:#x} needs more than {MAX_BR_TABLE_COPIES} value copies",
                self.offset
            )));
        }
        let mut tramp_labels = Vec::new();
        tramp_labels.try_reserve_exact(tramps.len())?;
        for _ in 0..tramps.len() {
            tramp_labels.push(self.new_label()?);
        }
        self.emit_raw(Op::BrTable { s: index, len })?;
        for &depth in &depths {
            let entry = self.emit_raw(Op::Br { cost: 0, offset: 0 })?;
            let frame = self.frame(depth)?;
            let label = match tramps.binary_search(&depth) {
                Ok(k) => *tramp_labels.get(k).ok_or_else(|| internal("br_table"))?,
                Err(_) => frame.label,
            };
            self.link(entry, label)?;
        }
        self.maybe_new_region()?;
        for (k, &depth) in tramps.iter().enumerate() {
            let label = *tramp_labels.get(k).ok_or_else(|| internal("br_table"))?;
            self.bind(label)?;
            self.br(depth)?;
        }
        self.set_unreachable()
    }

    fn end(&mut self) -> Result<(), Error> {
        let frame = *self.ctrl.last().ok_or_else(|| internal("unbalanced end"))?;
        if frame.kind == Kind::Function {
            if !self.unreachable {
                self.ret()?;
            }
            self.ctrl.pop();
            return Ok(());
        }
        if !self.unreachable {
            self.materialize_top(frame.results)?;
        }
        self.ctrl.pop();
        match frame.kind {
            Kind::Loop => {
                // The code after a loop is a region of its own, so that the loop does not
                // pay for it on every iteration.
                self.new_region()?;
            }
            Kind::If => {
                self.bind(frame.else_label)?;
                self.bind(frame.label)?;
            }
            _ => self.bind(frame.label)?,
        }
        self.unreachable = false;
        while self.height() > frame.height {
            self.pop()?;
        }
        for _ in 0..frame.results {
            self.push(Operand::Temp)?;
        }
        Ok(())
    }

    fn call_args(&mut self, ty_params: u32) -> Result<Slot, Error> {
        self.materialize_top(ty_params)?;
        for _ in 0..ty_params {
            self.pop()?;
        }
        self.temp(self.height())
    }

    fn call_results(&mut self, results: u32) -> Result<(), Error> {
        for _ in 0..results {
            self.push(Operand::Temp)?;
        }
        Ok(())
    }

    fn call(&mut self, func: u32) -> Result<(), Error> {
        let type_index = *self
            .ctx
            .func_types
            .get(func as usize)
            .ok_or_else(|| internal("function index"))?;
        let ty = self.ctx.func_type(type_index)?;
        let (params, results) = (ty.params().len() as u32, ty.results().len() as u32);
        let base = self.call_args(params)?;
        if func < self.ctx.num_imported_funcs {
            self.emit(Op::CallImport { base, func })?;
        } else {
            self.emit(Op::Call {
                base,
                func: func - self.ctx.num_imported_funcs,
            })?;
            self.cut_after_call()?;
        }
        self.call_results(results)
    }

    /// Ends the region after a call that may run wasm code: the code after it is a region of
    /// its own, paid for when the call returns (the interpreter's `ret` charges the `Fuel`
    /// instruction it returns to), not with the code before the call. Otherwise every frame
    /// of a deep call stack would have paid in advance for its code after the call, and
    /// unwinding the stack would run all of it between two interrupt checks: 29 ms for
    /// 15 000 frames of 1 000 units each (`examples/hook_interval.rs`).
    fn cut_after_call(&mut self) -> Result<(), Error> {
        if !matches!(self.ops.last(), Some(Op::Fuel { .. })) {
            self.new_region()?;
        }
        Ok(())
    }

    fn call_indirect(&mut self, ty: u32, table: u32) -> Result<(), Error> {
        let fty = self.ctx.func_type(ty)?;
        let (params, results) = (fty.params().len() as u32, fty.results().len() as u32);
        // The index sits just above the arguments; the call reads it before the callee's
        // frame (which starts at the arguments) is touched.
        let index = self.pop()?;
        let index = self.operand_slot(index, self.height())?;
        let base = self.call_args(params)?;
        if table == 0 {
            self.emit(Op::CallIndirect { base, index, ty })?;
        } else {
            self.emit_raw(Op::CallIndirectTable { base, index, ty })?;
            self.emit(Op::Aux { a: table, b: 0 })?;
        }
        self.cut_after_call()?;
        self.call_results(results)
    }
}
