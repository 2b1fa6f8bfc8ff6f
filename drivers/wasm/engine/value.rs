// SPDX-License-Identifier: GPL-2.0

//! Values and types.

use crate::error::Error;
use crate::store::FuncAddr;
use alloc::vec::Vec;

/// A value type (WebAssembly 2.0 without `v128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE 754 float.
    F32,
    /// 64-bit IEEE 754 float.
    F64,
    /// Nullable function reference.
    FuncRef,
    /// Nullable opaque host reference.
    ExternRef,
}

impl ValType {
    /// Converts a validated `wasmparser` type; `None` for types the engine does not support.
    pub(crate) fn from_parser(ty: wasmparser::ValType) -> Option<Self> {
        match ty {
            wasmparser::ValType::I32 => Some(Self::I32),
            wasmparser::ValType::I64 => Some(Self::I64),
            wasmparser::ValType::F32 => Some(Self::F32),
            wasmparser::ValType::F64 => Some(Self::F64),
            wasmparser::ValType::Ref(r) => Self::from_ref(r),
            wasmparser::ValType::V128 => None,
        }
    }

    /// Converts a `wasmparser` reference type (only the two of WebAssembly 2.0).
    pub(crate) fn from_ref(ty: wasmparser::RefType) -> Option<Self> {
        if ty == wasmparser::RefType::FUNCREF {
            Some(Self::FuncRef)
        } else if ty == wasmparser::RefType::EXTERNREF {
            Some(Self::ExternRef)
        } else {
            None
        }
    }
}

/// A WebAssembly value. Floats are kept as their IEEE 754 bit patterns, so that NaN payloads
/// survive unchanged and no floating-point register is needed to hold them.
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
    /// A function reference, `None` for null.
    FuncRef(Option<FuncAddr>),
    /// An extern reference (an opaque host number), `None` for null.
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

    /// The zero value (or null) of `ty`.
    pub fn default_of(ty: ValType) -> Self {
        match ty {
            ValType::I32 => Self::I32(0),
            ValType::I64 => Self::I64(0),
            ValType::F32 => Self::F32(0),
            ValType::F64 => Self::F64(0),
            ValType::FuncRef => Self::FuncRef(None),
            ValType::ExternRef => Self::ExternRef(None),
        }
    }

    /// Encodes the value into one untyped stack slot: integers zero-extended, floats as
    /// bits, references as their address or number plus one (0 is null).
    pub(crate) fn to_slot(self) -> u64 {
        match self {
            Self::I32(v) => u64::from(v as u32),
            Self::I64(v) => v as u64,
            Self::F32(v) => u64::from(v),
            Self::F64(v) => v,
            Self::FuncRef(None) | Self::ExternRef(None) => 0,
            Self::FuncRef(Some(f)) => u64::from(f.0) + 1,
            Self::ExternRef(Some(n)) => u64::from(n) + 1,
        }
    }

    /// Decodes a slot written by [`Value::to_slot`] for a value of type `ty`.
    pub(crate) fn from_slot(ty: ValType, slot: u64) -> Self {
        match ty {
            ValType::I32 => Self::I32(slot as u32 as i32),
            ValType::I64 => Self::I64(slot as i64),
            ValType::F32 => Self::F32(slot as u32),
            ValType::F64 => Self::F64(slot),
            ValType::FuncRef => Self::FuncRef(
                slot.checked_sub(1)
                    .and_then(|a| u32::try_from(a).ok())
                    .map(FuncAddr),
            ),
            ValType::ExternRef => {
                Self::ExternRef(slot.checked_sub(1).and_then(|a| u32::try_from(a).ok()))
            }
        }
    }
}

/// A function type.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FuncType {
    /// Parameters then results, in one allocation.
    types: Vec<ValType>,
    /// How many of `types` are parameters.
    num_params: usize,
}

impl FuncType {
    /// Builds a function type.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Result<Self, Error> {
        let (params, results) = (params.into_iter(), results.into_iter());
        // One allocation when the iterators know their length (a module's types do): a type
        // section of 100 000 types otherwise made half a million growing reallocations.
        let mut types = Vec::new();
        types.try_reserve_exact(params.size_hint().0.saturating_add(results.size_hint().0))?;
        for ty in params {
            types.try_reserve(1)?;
            types.push(ty);
        }
        let num_params = types.len();
        for ty in results {
            types.try_reserve(1)?;
            types.push(ty);
        }
        Ok(Self { types, num_params })
    }

    /// The parameter types.
    pub fn params(&self) -> &[ValType] {
        self.types.get(..self.num_params).unwrap_or(&[])
    }

    /// The result types.
    pub fn results(&self) -> &[ValType] {
        self.types.get(self.num_params..).unwrap_or(&[])
    }

    /// Converts a validated `wasmparser` function type.
    pub(crate) fn from_parser(ty: &wasmparser::FuncType) -> Result<Self, Error> {
        let convert = |t: &wasmparser::ValType| {
            ValType::from_parser(*t).ok_or_else(|| Error::Unsupported("value type".into()))
        };
        let mut types = Vec::new();
        types.try_reserve_exact(ty.params().len() + ty.results().len())?;
        for t in ty.params() {
            types.push(convert(t)?);
        }
        for t in ty.results() {
            types.push(convert(t)?);
        }
        Ok(Self {
            types,
            num_params: ty.params().len(),
        })
    }

    /// A fallible copy.
    pub(crate) fn try_clone(&self) -> Result<Self, Error> {
        let mut types = Vec::new();
        types.try_reserve_exact(self.types.len())?;
        types.extend_from_slice(&self.types);
        Ok(Self {
            types,
            num_params: self.num_params,
        })
    }
}

/// Size limits of a memory (in pages) or a table (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Initial size.
    pub min: u32,
    /// Maximum size, if any.
    pub max: Option<u32>,
}

impl Limits {
    /// Whether limits `self` (of an import's actual object) match the required `other`,
    /// per the spec's import subtyping.
    pub fn matches(&self, required: &Limits) -> bool {
        self.min >= required.min
            && match (self.max, required.max) {
                (_, None) => true,
                (Some(have), Some(want)) => have <= want,
                (None, Some(_)) => false,
            }
    }
}

/// A linear memory's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryType {
    /// Limits in 64 KiB pages.
    pub limits: Limits,
}

/// A table's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableType {
    /// The element type, `FuncRef` or `ExternRef`.
    pub element: ValType,
    /// Limits in elements.
    pub limits: Limits,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    /// The value's type.
    pub content: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}
