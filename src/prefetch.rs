//! Cache prefetch hints, for where memory latency dominates: the stream
//! table, whose lines the tracker reads a few packets from now.

/// Fetch the line holding `p` for reading.
#[inline]
pub fn read<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Every line of the value `v` (a stream or frame read a few iterations from now).
#[inline]
pub fn value<T>(v: &T) {
    span((v as *const T).cast(), std::mem::size_of::<T>());
}

/// Every line of the `size` bytes at `p`.
#[inline]
pub fn span(p: *const u8, size: usize) {
    let mut off = 0;
    while off < size {
        read(p.wrapping_add(off));
        off += 64;
    }
}
