// SPDX-License-Identifier: GPL-2.0

//! Module files: reading binary or text modules, and learning their exports' signatures.

use std::path::Path;

use wasm_protocol::{ExportKind, ValType, MAX_NAME_LEN};
use wasmparser::{ExternalKind, Parser, Payload, RefType, TypeRef};

use crate::error::Error;

/// An export and, for a function, its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The export's name.
    pub name: String,
    /// What it exports.
    pub kind: ExportKind,
    /// A function's parameter types.
    pub params: Vec<ValType>,
    /// A function's result types.
    pub results: Vec<ValType>,
}

impl Export {
    /// `func add (i32, i32) -> i32`, `memory memory`.
    pub fn describe(&self) -> String {
        if self.kind != ExportKind::Func {
            return format!("{} {}", self.kind.name(), self.name);
        }
        let list = |types: &[ValType]| {
            types
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut text = format!("func {} ({})", self.name, list(&self.params));
        if !self.results.is_empty() {
            text.push_str(&format!(" -> {}", list(&self.results)));
        }
        text
    }
}

/// Reads a module file: binary, or text (`.wat`) translated with the `wat` crate. Text is
/// recognized by its content, so the extension does not matter.
pub fn read_module(path: &Path) -> Result<Vec<u8>, Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    let module = match wat::parse_bytes(&bytes) {
        Ok(module) => module.into_owned(),
        Err(mut e) => {
            e.set_path(path);
            return Err(Error::InvalidModule(e.to_string()));
        }
    };
    if module.is_empty() {
        return Err(Error::InvalidModule(format!(
            "{}: empty file",
            path.display()
        )));
    }
    Ok(module)
}

/// A module name for listings, from the file name without extension: at most [`MAX_NAME_LEN`] bytes, control
/// characters replaced.
pub fn default_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    sanitize_name(&stem)
}

/// Makes `name` acceptable to the protocol: no control characters, at most [`MAX_NAME_LEN`]
/// bytes (cut at a character boundary).
pub fn sanitize_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().map(|c| if c.is_control() { '?' } else { c }) {
        if out.len() + c.len_utf8() > MAX_NAME_LEN {
            break;
        }
        out.push(c);
    }
    out
}

fn val_type(ty: wasmparser::ValType) -> Result<ValType, String> {
    Ok(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::Ref(r) if r == RefType::FUNCREF => ValType::FuncRef,
        wasmparser::ValType::Ref(r) if r == RefType::EXTERNREF => ValType::ExternRef,
        other => return Err(format!("unsupported value type {other}")),
    })
}

/// Whether the module is valid for the engine (the same validator and features as the
/// driver's).
pub fn is_valid(bytes: &[u8]) -> bool {
    wasmparser::Validator::new_with_features(wasm_engine::module::features())
        .validate_all(bytes)
        .is_ok()
}

/// The exports of a binary module with the signatures of the functions, read without
/// validating the module (the driver does that).
pub fn exports(bytes: &[u8]) -> Result<Vec<Export>, String> {
    let mut types = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    let ty = ty.map_err(|e| e.to_string())?;
                    let params = ty.params().iter().map(|t| val_type(*t));
                    let results = ty.results().iter().map(|t| val_type(*t));
                    types.push((
                        params.collect::<Result<Vec<_>, _>>()?,
                        results.collect::<Result<Vec<_>, _>>()?,
                    ));
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import.map_err(|e| e.to_string())?.ty {
                        TypeRef::Func(ty) | TypeRef::FuncExact(ty) => funcs.push(ty),
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    funcs.push(ty.map_err(|e| e.to_string())?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| e.to_string())?;
                    exports.push((export.name.to_string(), export.kind, export.index));
                }
            }
            _ => {}
        }
    }
    exports
        .into_iter()
        .filter_map(|(name, kind, index)| {
            let kind = match kind {
                ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                ExternalKind::Table => ExportKind::Table,
                ExternalKind::Memory => ExportKind::Memory,
                ExternalKind::Global => ExportKind::Global,
                ExternalKind::Tag => return None,
            };
            let (params, results) = if kind == ExportKind::Func {
                let signature = funcs
                    .get(index as usize)
                    .and_then(|&ty| types.get(ty as usize))
                    .cloned()
                    .ok_or_else(|| format!("export {name:?}: no such function {index}"));
                match signature {
                    Ok(signature) => signature,
                    Err(e) => return Some(Err(e)),
                }
            } else {
                (Vec::new(), Vec::new())
            };
            Some(Ok(Export {
                name,
                kind,
                params,
                results,
            }))
        })
        .collect()
}

/// The function to run when none is named: `_start`, else `main`.
pub fn default_export(exports: &[Export]) -> Result<String, Error> {
    for name in ["_start", "main"] {
        if exports
            .iter()
            .any(|e| e.name == name && e.kind == ExportKind::Func)
        {
            return Ok(name.to_string());
        }
    }
    let funcs: Vec<&str> = exports
        .iter()
        .filter(|e| e.kind == ExportKind::Func)
        .map(|e| e.name.as_str())
        .collect();
    Err(Error::Usage(if funcs.is_empty() {
        "the module exports no function".to_string()
    } else {
        format!(
            "the module exports neither _start nor main: choose one of {} with --invoke",
            funcs.join(", ")
        )
    }))
}

/// Finds the exported function `name`.
pub fn find_function<'e>(exports: &'e [Export], name: &str) -> Result<&'e Export, Error> {
    match exports.iter().find(|e| e.name == name) {
        Some(e) if e.kind == ExportKind::Func => Ok(e),
        Some(e) => Err(Error::Usage(format!(
            "export {name:?} is a {}, not a function",
            e.kind.name()
        ))),
        None => Err(Error::Usage(format!("no exported function {name:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAT: &str = r#"(module
        (import "env" "f" (func $imported (param i64)))
        (memory (export "memory") 1)
        (func (export "add") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.add)
        (func (export "mixed") (param f32 f64 externref funcref) (result i64 f32))
        (export "again" (func $imported))
        (global (export "g") i32 (i32.const 0)))"#;

    #[test]
    fn exports_with_signatures() {
        let bytes = wat::parse_str(WAT).unwrap();
        let exports = exports(&bytes).unwrap();
        let described: Vec<String> = exports.iter().map(Export::describe).collect();
        assert_eq!(
            described,
            [
                "memory memory",
                "func add (i32, i32) -> i32",
                "func mixed (f32, f64, externref, funcref) -> i64, f32",
                "func again (i64)",
                "global g",
            ]
        );
        assert_eq!(find_function(&exports, "add").unwrap().params.len(), 2);
        assert!(find_function(&exports, "memory").is_err());
        assert!(find_function(&exports, "nope").is_err());
        assert!(default_export(&exports)
            .unwrap_err()
            .to_string()
            .contains("add, mixed, again"));
    }

    #[test]
    fn default_exports() {
        let export = |name: &str| Export {
            name: name.into(),
            kind: ExportKind::Func,
            params: vec![],
            results: vec![],
        };
        assert_eq!(
            default_export(&[export("main"), export("_start")]).unwrap(),
            "_start"
        );
        assert_eq!(default_export(&[export("main")]).unwrap(), "main");
        assert!(default_export(&[]).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(exports(b"\0asm\x01\0\0\0\x01\xff").is_err());
        assert!(exports(b"garbage").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(sanitize_name("a\nb"), "a?b");
        // Cut at a character boundary: 2-byte characters into an even limit, then an odd one.
        let long = "\u{e9}".repeat(MAX_NAME_LEN);
        assert_eq!(sanitize_name(&long).len(), MAX_NAME_LEN / 2 * 2);
        assert_eq!(
            sanitize_name(&format!("x{long}")).len(),
            (MAX_NAME_LEN - 1) / 2 * 2 + 1
        );
        assert_eq!(default_name(Path::new("/x/add.wat")), "add");
    }
}
