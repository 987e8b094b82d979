//! A global allocator that counts, per thread, the live heap bytes and their peak, so that a
//! test asserts "bounded memory" instead of assuming it. Parallel tests run on their own
//! threads, so their counts do not mix.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;
//!
//! let (value, peak_bytes) = testkit::peak_during(|| parse(input));
//! ```

#![allow(
    unsafe_code,
    reason = "`GlobalAlloc` is an unsafe trait; every call forwards unchanged to the system allocator"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting this thread's live bytes and their peak. Install it with
/// `#[global_allocator]` in a test binary; read it with [`peak_during`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

thread_local! {
    /// Bytes allocated and not yet freed by this thread. Freeing another thread's memory makes
    /// it drift, which is why a measurement starts from its own base.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` since the last measurement started.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: never panic in the allocator, even while the thread is being torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(delta);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn signed(size: usize) -> isize {
    isize::try_from(size).unwrap_or(isize::MAX)
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the counting
// only touches thread-local `Cell`s, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(signed(layout.size()));
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-signed(layout.size()));
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(signed(layout.size()));
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as if both blocks were held for a moment: an upper bound of the peak.
        note(signed(new_size));
        note(-signed(layout.size()));
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Panics unless the [`CountingAllocator`] is the global allocator: a bound checked against a
/// count that never moves would pass whatever the code under test allocates.
fn assert_counting() {
    let before = LIVE.with(Cell::get);
    let probe = std::hint::black_box(Box::new([0u8; 64]));
    let counted = LIVE.with(Cell::get) > before;
    drop(probe);
    assert!(
        counted,
        "install testkit::CountingAllocator as the #[global_allocator] to measure memory"
    );
}

/// Runs `f` and returns its result with the peak of live heap bytes it added on this thread.
///
/// # Panics
///
/// When the [`CountingAllocator`] is not the global allocator: a bound checked against a
/// count that never moves would pass whatever `f` allocates.
pub fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    assert_counting();
    let base = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get).saturating_sub(base);
    (out, usize::try_from(peak).unwrap_or(0))
}

/// Runs `f` and returns its result with the heap bytes this thread still holds afterwards,
/// beyond what it held before: what the value `f` built keeps allocated.
///
/// # Panics
///
/// As [`peak_during`], when the counting allocator is not installed.
pub fn held_after<T>(f: impl FnOnce() -> T) -> (T, usize) {
    assert_counting();
    let base = LIVE.with(Cell::get);
    let out = f();
    let held = LIVE.with(Cell::get).saturating_sub(base);
    (out, usize::try_from(held).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    #[test]
    fn the_peak_is_what_the_closure_held_at_most() {
        let (len, peak) = peak_during(|| {
            let big = vec![7u8; 1 << 20];
            let len = big.len();
            drop(big);
            let small = vec![1u8; 1000];
            len + small.len()
        });
        assert_eq!(len, (1 << 20) + 1000);
        assert!((1 << 20..(1 << 20) + 64 * 1024).contains(&peak), "{peak}");
        // Nothing held: a peak near zero (the check that counting works is not part of it).
        let ((), idle) = peak_during(|| ());
        assert!(idle < 1024, "{idle}");
        // What a value keeps, not what building it cost on the way.
        let (kept, held) = held_after(|| {
            drop(vec![0u8; 1 << 20]);
            vec![0u8; 4096]
        });
        assert_eq!(kept.len(), 4096);
        assert!((4096..4096 + 1024).contains(&held), "{held}");
    }
}
