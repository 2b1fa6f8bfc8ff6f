// SPDX-License-Identifier: GPL-2.0

//! `wasm-hostile DIR`: writes the hostile modules of [`wasm_hostile::all`] to `DIR`.

use std::{env, fs, path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let Some(dir) = env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: wasm-hostile DIR");
        return ExitCode::from(2);
    };
    if let Err(e) = fs::create_dir_all(&dir) {
        eprintln!("wasm-hostile: {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    for (name, bytes) in wasm_hostile::all() {
        let path = dir.join(name);
        if let Err(e) = fs::write(&path, bytes) {
            eprintln!("wasm-hostile: {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
