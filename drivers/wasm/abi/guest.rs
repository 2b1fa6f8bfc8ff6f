// SPDX-License-Identifier: GPL-2.0

//! Bounds-checked access to a program's linear memory: what every pointer and length a
//! program passes goes through.

/// The bytes `[ptr, ptr + len)` of `memory`, if they are all inside it.
///
/// # Examples
///
/// ```
/// use wasm_abi::guest::slice;
///
/// let memory = [1u8, 2, 3, 4];
/// assert_eq!(slice(&memory, 1, 2), Some(&[2u8, 3][..]));
/// assert_eq!(slice(&memory, 4, 0), Some(&[][..]));
/// assert_eq!(slice(&memory, 3, 2), None);
/// assert_eq!(slice(&memory, u32::MAX, 2), None);
/// ```
pub fn slice(memory: &[u8], ptr: u32, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(ptr).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    memory.get(start..end)
}

/// The bytes `[ptr, ptr + len)` of `memory`, mutably, if they are all inside it.
pub fn slice_mut(memory: &mut [u8], ptr: u32, len: u64) -> Option<&mut [u8]> {
    let start = usize::try_from(ptr).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    memory.get_mut(start..end)
}

/// The little-endian `u32` at `ptr`, if it is inside `memory`.
pub fn u32_at(memory: &[u8], ptr: u32) -> Option<u32> {
    let bytes = slice(memory, ptr, 4)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}
