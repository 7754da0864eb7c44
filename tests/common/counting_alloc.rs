//! A counting global allocator, shared by the allocation tests and the
//! benches (included by `#[path]`): a test or bench declares
//! `#[global_allocator] static A: CountingAlloc = CountingAlloc;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // `const` and without `Drop`: no lazy registration, so the allocator
    // can touch it from any point of a thread's life.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting this thread's allocations (`alloc`,
/// `alloc_zeroed` and `realloc` calls) in a thread-local counter: other
/// threads (tests running in parallel, a framework's own threads) do not
/// disturb a count, and counting costs no atomic.
#[allow(dead_code)]
pub struct CountingAlloc;

#[allow(dead_code)]
fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

/// Allocations made by this thread so far (0 without [`CountingAlloc`]).
#[allow(dead_code)]
pub fn allocations() -> u64 {
    ALLOCATIONS.try_with(|c| c.get()).unwrap_or(0)
}

// SAFETY: every call forwards to `System` with the caller's arguments; the
// counter is a thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (same contract).
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (same contract).
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (same contract).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (same contract).
        unsafe { System.dealloc(ptr, layout) }
    }
}
