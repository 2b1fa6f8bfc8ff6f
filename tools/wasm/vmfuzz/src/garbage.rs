// SPDX-License-Identifier: GPL-2.0

//! Protocol messages that no well-behaved client sends: random bytes, a valid header over a
//! random body, well-formed requests with random fields (handles near the ones in use, so
//! that they hit other clients' uploads, modules and instances), and mutations of those.

use wasm_protocol::{
    Request, Value, Values, MAGIC, MAX_CHUNK_LEN, MAX_PAYLOAD_LEN, PROTOCOL_VERSION,
};

use crate::{mutate, rng::Rng};

/// Export names that the seeds use, so that random INVOKEs and GETs find something.
const NAMES: [&str; 10] = [
    "run", "f", "g", "grow", "fill", "sum", "rec", "main", "add", "mem",
];

/// A random handle: usually close below `recent` (the newest handle a client saw), at times
/// 0, huge or anything.
pub fn handle(rng: &mut Rng, recent: u64) -> u64 {
    match rng.below(8) {
        0 => 0,
        1 => u64::MAX - rng.below(4),
        2 => rng.next_u64(),
        _ => recent
            .saturating_sub(rng.below(16))
            .saturating_add(rng.below(2)),
    }
}

/// A random name: usually one the seeds export, at times random bytes made UTF-8, at times
/// long.
pub fn name(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => {
            let n = rng.index(12);
            String::from_utf8_lossy(&rng.bytes(n)).into_owned()
        }
        1 => "x".repeat(rng.range(1, 1100) as usize),
        2 => String::new(),
        _ => rng.pick(&NAMES).copied().unwrap_or("f").to_string(),
    }
}

/// A random value of type `ty` (as an INVOKE argument): boundary values and small numbers
/// more often than others.
pub fn value(rng: &mut Rng, ty: wasm_protocol::ValType) -> Value {
    use wasm_protocol::ValType;
    let bits = match rng.below(4) {
        0 => rng.below(65),
        1 => *rng
            .pick(&[
                0,
                1,
                u64::MAX,
                0x7fff_ffff,
                0x8000_0000,
                0xffff_ffff,
                65535,
                65536,
                0x7ff8_0000_0000_0000,
                0x7fc0_0000,
            ])
            .unwrap_or(&0),
        _ => rng.next_u64(),
    };
    match ty {
        ValType::I32 => Value::I32(bits as i32),
        ValType::I64 => Value::I64(bits as i64),
        ValType::F32 => Value::F32(bits as u32),
        ValType::F64 => Value::F64(bits),
        ValType::FuncRef => Value::FuncRef(None),
        ValType::ExternRef => Value::ExternRef(rng.chance(1, 2).then_some(bits as u32)),
    }
}

/// A random value of a random type.
pub fn any_value(rng: &mut Rng) -> Value {
    let ty = *rng
        .pick(&wasm_protocol::ValType::ALL)
        .unwrap_or(&wasm_protocol::ValType::I32);
    value(rng, ty)
}

/// One garbage request payload; `recent` is the newest handle a client saw.
pub fn message(rng: &mut Rng, recent: u64) -> Vec<u8> {
    match rng.below(10) {
        // Random bytes, mostly short.
        0 => {
            let n = if rng.chance(1, 8) {
                rng.index(MAX_PAYLOAD_LEN + 1)
            } else {
                rng.index(40)
            };
            rng.bytes(n)
        }
        // A valid header, a random (or wrong-version) command and a random body.
        1 | 2 => {
            let mut m = Vec::new();
            m.extend(MAGIC.to_le_bytes());
            let version = if rng.chance(1, 6) {
                rng.next_u64() as u16
            } else {
                PROTOCOL_VERSION
            };
            m.extend(version.to_le_bytes());
            m.extend((rng.below(16) as u16).to_le_bytes());
            let n = rng.index(64);
            m.extend(rng.bytes(n));
            m
        }
        // A well-formed request with random fields, mutated at times.
        _ => {
            let mut m = request(rng, recent);
            if rng.chance(1, 3) {
                let count = rng.range(1, 4) as usize;
                mutate::mutate(rng, &mut m, &[], count, MAX_PAYLOAD_LEN);
            }
            m
        }
    }
}

/// A well-formed request with random fields, encoded.
pub fn request(rng: &mut Rng, recent: u64) -> Vec<u8> {
    let name = name(rng);
    let n = rng.range(1, 64) as usize;
    let data = rng.bytes(n);
    let values: Vec<Value> = (0..rng.below(5)).map(|_| any_value(rng)).collect();
    let values = Values::new(&values);
    let h = handle(rng, recent);
    let request = match rng.below(13) {
        0 => Request::Version,
        1 => Request::LoadBegin {
            total_size: rng.below(1 << 20) as u32,
            name: &name,
        },
        2 => Request::LoadChunk {
            handle: h,
            offset: rng.below(4) as u32 * MAX_CHUNK_LEN as u32,
            data: &data,
        },
        3 => Request::LoadEnd { handle: h },
        4 => Request::Instantiate {
            module: h,
            fuel: rng.range(1, 100_000),
            max_memory_pages: rng.range(1, 16) as u32,
            link: 0,
        },
        5 => Request::Instantiate {
            module: h,
            fuel: 0,
            max_memory_pages: 0,
            link: handle(rng, recent),
        },
        6 => Request::Invoke {
            instance: h,
            name: &name,
            args: values.list(),
        },
        7 => Request::Unload {
            handle: h,
            cascade: rng.chance(1, 2),
        },
        8 => Request::List {
            cursor: rng.below(recent.saturating_add(2)),
            max_entries: rng.below(4) as u16,
        },
        9 => Request::Exports {
            handle: h,
            cursor: rng.below(3),
        },
        10 => Request::Register {
            instance: h,
            name: &name,
        },
        11 => Request::Get {
            instance: h,
            name: &name,
        },
        _ => Request::Transient { handle: h },
    };
    let mut buf = vec![0; MAX_PAYLOAD_LEN];
    match request.encode(&mut buf) {
        Ok(len) => {
            buf.truncate(len);
            buf
        }
        // A name too long to encode: send the header alone.
        Err(_) => buf[..8].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_mostly_decode() {
        let mut rng = Rng::new(5);
        let mut decoded = 0;
        for _ in 0..1000 {
            let m = request(&mut rng, 100);
            decoded += usize::from(Request::decode(&m).is_ok());
            let g = message(&mut rng, 100);
            assert!(g.len() <= MAX_PAYLOAD_LEN);
        }
        // Only the names too long for the protocol fail to encode.
        assert!(decoded > 800, "{decoded} of 1000 decode");
    }
}
