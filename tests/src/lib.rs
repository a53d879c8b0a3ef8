//! Helpers shared by the cross-process tests and the worker binary they spawn.

/// Deterministic artifact content for write number `i`: `size` bytes, different for each `i`.
pub fn content(i: u64, size: usize) -> Vec<u8> {
    let seed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..size as u64)
        .map(|j| (seed.wrapping_add(j.wrapping_mul(31)) >> 7) as u8)
        .collect()
}
