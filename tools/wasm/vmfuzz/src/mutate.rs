// SPDX-License-Identifier: GPL-2.0

//! Byte-level mutations of modules: flips, overwrites with boundary values, insertions,
//! deletions, duplications, splices with another module and truncations. Mutations keep the
//! 8-byte header most of the time, so that the driver's decoder gets past it.

use crate::rng::Rng;

/// The magic number and version of a WebAssembly binary.
pub const HEADER: [u8; 8] = *b"\0asm\x01\0\0\0";

/// Values that sit on encoding boundaries: LEB128 continuation bits, section and type codes,
/// sign bits.
const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x60, 0x70, 0x0b, 0xfc];

/// Applies `count` random mutations to `module`, splicing from `other` at times; the result
/// has at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, module: &mut Vec<u8>, other: &[u8], count: usize, max_len: usize) {
    for _ in 0..count {
        // Past the header, unless one time in twenty.
        let start = if rng.chance(1, 20) || module.len() <= HEADER.len() {
            0
        } else {
            HEADER.len()
        };
        let len = module.len();
        let at = start + rng.index(len.saturating_sub(start).max(1));
        match rng.below(8) {
            0 if at < len => module[at] ^= 1 << rng.below(8),
            1 if at < len => module[at] = *rng.pick(&INTERESTING).unwrap_or(&0),
            2 if at < len => module[at] = rng.next_u64() as u8,
            3 => {
                let n = rng.range(1, 16) as usize;
                let bytes = rng.bytes(n);
                let at = at.min(len);
                module.splice(at..at, bytes);
            }
            4 if at < len => {
                let end = (at + rng.range(1, 16) as usize).min(len);
                module.drain(at..end);
            }
            5 if at < len => {
                let end = (at + rng.range(1, 64) as usize).min(len);
                let piece = module[at..end].to_vec();
                let to = start + rng.index(module.len().saturating_sub(start).max(1));
                let to = to.min(module.len());
                module.splice(to..to, piece);
            }
            6 if !other.is_empty() => {
                // The head of this module, the tail of the other.
                let from = rng.index(other.len());
                module.truncate(at.min(len));
                module.extend_from_slice(&other[from..]);
            }
            7 if at < len && rng.chance(1, 4) => module.truncate(at),
            _ => {
                if let Some(b) = module.get_mut(at) {
                    *b = b.wrapping_add(rng.range(1, 3) as u8);
                }
            }
        }
        module.truncate(max_len);
    }
}

/// Random bytes behind a valid header: what a module of garbage looks like.
pub fn random_bytes(rng: &mut Rng, max_len: usize) -> Vec<u8> {
    let mut module = if rng.chance(3, 4) {
        HEADER.to_vec()
    } else {
        Vec::new()
    };
    let n = rng.index(max_len.saturating_sub(module.len()).max(1));
    module.extend(rng.bytes(n));
    module
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_change_modules_within_bounds() {
        let mut rng = Rng::new(1);
        let seed: Vec<u8> = HEADER.iter().copied().chain(0..200).collect();
        let mut changed = 0;
        let mut header_kept = 0;
        for _ in 0..1000 {
            let mut m = seed.clone();
            mutate(&mut rng, &mut m, &seed, 3, 300);
            assert!(m.len() <= 300);
            changed += usize::from(m != seed);
            header_kept += usize::from(m.starts_with(&HEADER));
        }
        assert!(changed > 950, "only {changed} of 1000 mutated");
        assert!(header_kept > 700, "header kept only {header_kept} times");
        let r = random_bytes(&mut rng, 64);
        assert!(r.len() <= 64);
    }
}
