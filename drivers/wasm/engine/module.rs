// SPDX-License-Identifier: GPL-2.0

//! Modules: decoding and validation (by `wasmparser`) and translation of their code.

use crate::config::Config;
use crate::error::{message, Error, Trap};
use crate::host::InterruptHook;
use crate::ir::{FuncCode, Op};
use crate::translate::{translate_function, ModuleContext, Scratch};
use crate::value::{ExternType, FuncType, GlobalType, Limits, MemoryType, TableType, ValType};
use alloc::string::String;
use alloc::vec::Vec;
use wasmparser::{
    FuncValidatorAllocations, Parser, Payload, ValidPayload, Validator, WasmFeatures,
};

/// The WebAssembly features the engine accepts: WebAssembly 2.0 without SIMD (the MVP,
/// sign-extension, non-trapping float-to-int conversions, multi-value, bulk memory,
/// reference types, mutable globals).
pub fn features() -> WasmFeatures {
    let mut features = WasmFeatures::WASM2;
    features.remove(WasmFeatures::SIMD);
    features
}

/// The kind of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternKind {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A memory.
    Memory,
    /// A global.
    Global,
}

/// A constant expression (WebAssembly 2.0 has single-instruction ones only).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ConstExpr {
    /// A number or null, already as a slot.
    Slot(u64),
    /// `ref.func`, by module function index.
    RefFunc(u32),
    /// `global.get`, by module global index.
    GlobalGet(u32),
}

pub(crate) struct Import {
    pub(crate) module: String,
    pub(crate) name: String,
    pub(crate) ty: ExternType,
}

pub(crate) struct Export {
    pub(crate) name: String,
    pub(crate) kind: ExternKind,
    pub(crate) index: u32,
}

pub(crate) enum SegmentMode {
    Passive,
    Active { index: u32, offset: ConstExpr },
    Declared,
}

pub(crate) struct ElemSegment {
    pub(crate) mode: SegmentMode,
    pub(crate) items: Vec<ConstExpr>,
}

pub(crate) struct DataSegment {
    pub(crate) mode: SegmentMode,
    pub(crate) bytes: Vec<u8>,
}

/// A validated and translated module, ready to be instantiated in a [`crate::Store`].
pub struct Module {
    pub(crate) types: Vec<FuncType>,
    pub(crate) imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub(crate) func_types: Vec<u32>,
    pub(crate) num_imported_funcs: u32,
    pub(crate) tables: Vec<(TableType, ConstExpr)>,
    pub(crate) memories: Vec<MemoryType>,
    pub(crate) globals: Vec<(GlobalType, ConstExpr)>,
    pub(crate) exports: Vec<Export>,
    pub(crate) start: Option<u32>,
    pub(crate) elems: Vec<ElemSegment>,
    pub(crate) datas: Vec<DataSegment>,
    pub(crate) code: Vec<FuncCode>,
    /// Indices into `exports`, sorted by name, for lookups by binary search.
    pub(crate) export_order: Vec<u32>,
    pub(crate) num_imported_tables: u32,
    pub(crate) num_imported_memories: u32,
    pub(crate) num_imported_globals: u32,
    /// Bytes of translated code, counted against [`Config::max_code_bytes`].
    pub(crate) code_bytes: usize,
}

pub(crate) fn parse_error(err: wasmparser::BinaryReaderError) -> Error {
    Error::Validation {
        offset: usize::try_from(err.offset()).unwrap_or(usize::MAX),
        message: message!("{}", err.message()),
    }
}

fn unsupported(what: &'static str) -> Error {
    Error::Unsupported(what.into())
}

fn try_push<T>(v: &mut Vec<T>, item: T) -> Result<(), Error> {
    v.try_reserve(1)?;
    v.push(item);
    Ok(())
}

fn try_string(s: &str) -> Result<String, Error> {
    let mut out = String::new();
    out.try_reserve_exact(s.len())?;
    out.push_str(s);
    Ok(out)
}

fn limits(initial: u64, maximum: Option<u64>) -> Result<Limits, Error> {
    let min = u32::try_from(initial).map_err(|_| unsupported("64-bit limits"))?;
    let max = match maximum {
        Some(m) => Some(u32::try_from(m).map_err(|_| unsupported("64-bit limits"))?),
        None => None,
    };
    Ok(Limits { min, max })
}

fn table_type(ty: &wasmparser::TableType) -> Result<TableType, Error> {
    if ty.table64 || ty.shared {
        return Err(unsupported("64-bit or shared table"));
    }
    Ok(TableType {
        element: ValType::from_ref(ty.element_type).ok_or_else(|| unsupported("table type"))?,
        limits: limits(ty.initial, ty.maximum)?,
    })
}

fn memory_type(ty: &wasmparser::MemoryType) -> Result<MemoryType, Error> {
    if ty.memory64 || ty.shared || ty.page_size_log2.is_some() {
        return Err(unsupported("64-bit, shared or custom-page memory"));
    }
    Ok(MemoryType {
        limits: limits(ty.initial, ty.maximum)?,
    })
}

fn global_type(ty: &wasmparser::GlobalType) -> Result<GlobalType, Error> {
    if ty.shared {
        return Err(unsupported("shared global"));
    }
    Ok(GlobalType {
        content: ValType::from_parser(ty.content_type).ok_or_else(|| unsupported("v128"))?,
        mutable: ty.mutable,
    })
}

fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, Error> {
    use wasmparser::Operator;
    let mut reader = expr.get_operators_reader();
    let value = match reader.read().map_err(parse_error)? {
        Operator::I32Const { value } => ConstExpr::Slot(u64::from(value as u32)),
        Operator::I64Const { value } => ConstExpr::Slot(value as u64),
        Operator::F32Const { value } => ConstExpr::Slot(u64::from(value.bits())),
        Operator::F64Const { value } => ConstExpr::Slot(value.bits()),
        Operator::RefNull { .. } => ConstExpr::Slot(0),
        Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        _ => return Err(unsupported("constant expression")),
    };
    match reader.read().map_err(parse_error)? {
        Operator::End => Ok(value),
        _ => Err(unsupported("extended constant expression")),
    }
}

impl Module {
    /// Decodes, validates and translates a binary module.
    pub fn new(config: &Config, bytes: &[u8]) -> Result<Self, Error> {
        Self::new_with_hook(config, bytes, None)
    }

    /// As [`Module::new`], calling `hook` regularly (at least every
    /// [`crate::translate::YIELD_INTERVAL`] operators and between functions and segments), so
    /// that the embedder can yield the CPU and stop the work (the hook's error ends it).
    pub fn new_with_hook(
        config: &Config,
        bytes: &[u8],
        mut hook: Option<&mut dyn InterruptHook>,
    ) -> Result<Self, Error> {
        if bytes.len() > config.max_module_size {
            return Err(Error::Limit(message!(
                "module of {} bytes exceeds the limit of {}",
                bytes.len(),
                config.max_module_size
            )));
        }
        let mut yield_now = || -> Result<(), Error> {
            match hook.as_mut() {
                Some(h) => h.check().map_err(|k| Error::Trap(Trap::new(k))),
                None => Ok(()),
            }
        };
        let mut module = Module {
            types: Vec::new(),
            imports: Vec::new(),
            func_types: Vec::new(),
            num_imported_funcs: 0,
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            exports: Vec::new(),
            start: None,
            elems: Vec::new(),
            datas: Vec::new(),
            code: Vec::new(),
            export_order: Vec::new(),
            num_imported_tables: 0,
            num_imported_memories: 0,
            num_imported_globals: 0,
            code_bytes: 0,
        };
        // Validation and translation go together, payload by payload and function by
        // function, so that the work can be interrupted between steps.
        let mut validator = Validator::new_with_features(features());
        let mut allocations = FuncValidatorAllocations::default();
        let mut scratch = Scratch::default();
        let mut parser = Parser::new(0);
        // The decoder must reject the encodings of proposals the engine does not accept
        // (e.g. multi-memory indices), not only the validator.
        parser.set_features(features());
        for payload in parser.parse_all(bytes) {
            let payload = payload.map_err(parse_error)?;
            if let ValidPayload::Func(func, body) =
                validator.payload(&payload).map_err(parse_error)?
            {
                let mut func_validator = func.into_validator(core::mem::take(&mut allocations));
                module.function(
                    config,
                    &body,
                    &mut func_validator,
                    &mut scratch,
                    &mut yield_now,
                )?;
                allocations = func_validator.into_allocations();
                if module.code.len().is_multiple_of(256) {
                    yield_now()?;
                }
                continue;
            }
            module.payload(payload)?;
        }
        module.sort_exports()?;
        Ok(module)
    }

    fn function(
        &mut self,
        config: &Config,
        body: &wasmparser::FunctionBody<'_>,
        validator: &mut wasmparser::FuncValidator<wasmparser::ValidatorResources>,
        scratch: &mut Scratch,
        yield_now: &mut dyn FnMut() -> Result<(), Error>,
    ) -> Result<(), Error> {
        let func_index = self
            .num_imported_funcs
            .checked_add(u32::try_from(self.code.len()).unwrap_or(u32::MAX))
            .ok_or_else(|| unsupported("function count"))?;
        let type_index = *self
            .func_types
            .get(func_index as usize)
            .ok_or_else(|| unsupported("function without a type"))?;
        let ty = self
            .types
            .get(type_index as usize)
            .ok_or_else(|| unsupported("type index"))?;
        let ctx = ModuleContext {
            types: &self.types,
            func_types: &self.func_types,
            num_imported_funcs: self.num_imported_funcs,
        };
        let code = translate_function(&ctx, func_index, ty, body, validator, scratch, yield_now)?;
        // Everything the function keeps: its record, instructions, offsets and the constants
        // it writes into its frame.
        // (Each product is the size of an allocation that exists, so it cannot overflow.)
        let bytes = core::mem::size_of::<FuncCode>()
            .saturating_add(code.ops.len() * core::mem::size_of::<Op>())
            .saturating_add(code.offsets.len() * core::mem::size_of::<u32>())
            .saturating_add(code.consts.len() * core::mem::size_of::<u64>());
        self.code_bytes = self.code_bytes.saturating_add(bytes);
        if self.code_bytes > config.max_code_bytes {
            return Err(Error::Limit(message!(
                "translated code exceeds the limit of {} bytes (at function {func_index})",
                config.max_code_bytes
            )));
        }
        try_push(&mut self.code, code)
    }

    fn sort_exports(&mut self) -> Result<(), Error> {
        let mut order = Vec::new();
        order.try_reserve_exact(self.exports.len())?;
        order.extend(0..self.exports.len() as u32);
        let exports = &self.exports;
        order.sort_unstable_by(|&a, &b| {
            let name = |i: u32| exports.get(i as usize).map_or("", |e| e.name.as_str());
            name(a).cmp(name(b))
        });
        self.export_order = order;
        Ok(())
    }

    /// The export called `name` (export names are unique).
    pub(crate) fn find_export(&self, name: &str) -> Option<&Export> {
        let i = self
            .export_order
            .binary_search_by(|&i| {
                self.exports
                    .get(i as usize)
                    .map_or("", |e| e.name.as_str())
                    .cmp(name)
            })
            .ok()?;
        self.exports.get(*self.export_order.get(i)? as usize)
    }

    /// Tables, imported ones included.
    pub(crate) fn num_tables(&self) -> usize {
        self.num_imported_tables as usize + self.tables.len()
    }

    /// Memories, imported ones included.
    pub(crate) fn num_memories(&self) -> usize {
        self.num_imported_memories as usize + self.memories.len()
    }

    /// Globals, imported ones included.
    pub(crate) fn num_globals(&self) -> usize {
        self.num_imported_globals as usize + self.globals.len()
    }

    /// The translated code of the module's functions (for debugging and tests).
    #[doc(hidden)]
    pub fn translated(&self) -> &[FuncCode] {
        &self.code
    }

    /// Bytes of translated code.
    pub fn code_bytes(&self) -> usize {
        self.code_bytes
    }

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), Error> {
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.map_err(parse_error)?.into_types() {
                        let wasmparser::CompositeInnerType::Func(ty) = &sub.composite_type.inner
                        else {
                            return Err(unsupported("non-function type"));
                        };
                        try_push(&mut self.types, FuncType::from_parser(ty)?)?;
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(parse_error)?;
                    let ty = match import.ty {
                        wasmparser::TypeRef::Func(index) => {
                            try_push(&mut self.func_types, index)?;
                            self.num_imported_funcs += 1;
                            let ty = self
                                .types
                                .get(index as usize)
                                .ok_or_else(|| unsupported("type index"))?;
                            ExternType::Func(ty.try_clone()?)
                        }
                        wasmparser::TypeRef::Table(ty) => {
                            self.num_imported_tables += 1;
                            ExternType::Table(table_type(&ty)?)
                        }
                        wasmparser::TypeRef::Memory(ty) => {
                            self.num_imported_memories += 1;
                            ExternType::Memory(memory_type(&ty)?)
                        }
                        wasmparser::TypeRef::Global(ty) => {
                            self.num_imported_globals += 1;
                            ExternType::Global(global_type(&ty)?)
                        }
                        _ => return Err(unsupported("import kind")),
                    };
                    let import = Import {
                        module: try_string(import.module)?,
                        name: try_string(import.name)?,
                        ty,
                    };
                    try_push(&mut self.imports, import)?;
                }
            }
            Payload::FunctionSection(reader) => {
                for index in reader {
                    try_push(&mut self.func_types, index.map_err(parse_error)?)?;
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(parse_error)?;
                    let init = match &table.init {
                        wasmparser::TableInit::RefNull => ConstExpr::Slot(0),
                        wasmparser::TableInit::Expr(expr) => const_expr(expr)?,
                    };
                    try_push(&mut self.tables, (table_type(&table.ty)?, init))?;
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    try_push(
                        &mut self.memories,
                        memory_type(&memory.map_err(parse_error)?)?,
                    )?;
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global.map_err(parse_error)?;
                    let item = (global_type(&global.ty)?, const_expr(&global.init_expr)?);
                    try_push(&mut self.globals, item)?;
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(parse_error)?;
                    let kind = match export.kind {
                        wasmparser::ExternalKind::Func => ExternKind::Func,
                        wasmparser::ExternalKind::Table => ExternKind::Table,
                        wasmparser::ExternalKind::Memory => ExternKind::Memory,
                        wasmparser::ExternalKind::Global => ExternKind::Global,
                        _ => return Err(unsupported("export kind")),
                    };
                    let export = Export {
                        name: try_string(export.name)?,
                        kind,
                        index: export.index,
                    };
                    try_push(&mut self.exports, export)?;
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    let elem = elem.map_err(parse_error)?;
                    let mode = match elem.kind {
                        wasmparser::ElementKind::Passive => SegmentMode::Passive,
                        wasmparser::ElementKind::Declared => SegmentMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    let mut items = Vec::new();
                    match elem.items {
                        wasmparser::ElementItems::Functions(funcs) => {
                            items.try_reserve_exact(funcs.count() as usize)?;
                            for func in funcs {
                                items.push(ConstExpr::RefFunc(func.map_err(parse_error)?));
                            }
                        }
                        wasmparser::ElementItems::Expressions(_, exprs) => {
                            items.try_reserve_exact(exprs.count() as usize)?;
                            for expr in exprs {
                                items.push(const_expr(&expr.map_err(parse_error)?)?);
                            }
                        }
                    }
                    try_push(&mut self.elems, ElemSegment { mode, items })?;
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(parse_error)?;
                    let mode = match data.kind {
                        wasmparser::DataKind::Passive => SegmentMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    let mut bytes = Vec::new();
                    bytes.try_reserve_exact(data.data.len())?;
                    bytes.extend_from_slice(data.data);
                    try_push(&mut self.datas, DataSegment { mode, bytes })?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The module's imports, in order: module name, field name, type.
    pub fn imports(&self) -> impl Iterator<Item = (&str, &str, &ExternType)> {
        self.imports
            .iter()
            .map(|i| (i.module.as_str(), i.name.as_str(), &i.ty))
    }

    /// The module's exports: name and kind.
    pub fn exports(&self) -> impl Iterator<Item = (&str, ExternKind)> {
        self.exports.iter().map(|e| (e.name.as_str(), e.kind))
    }

    /// The type of the exported function `name`, if there is one.
    pub fn export_func_type(&self, name: &str) -> Option<&FuncType> {
        let export = self
            .find_export(name)
            .filter(|e| e.kind == ExternKind::Func)?;
        let type_index = *self.func_types.get(export.index as usize)?;
        self.types.get(type_index as usize)
    }
}
