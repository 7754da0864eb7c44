//! [`Once`], the cell a tensor's metadata is kept in: `OnceLock` without
//! `std::sync::Once`'s machinery, which cost more instructions than reading
//! the metadata itself (~90 per first use; every op result is read once).

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const READY: u8 = 2;

/// A value computed on first use and then kept. Threads that ask at once
/// may each compute it (it must not matter which result is kept: here, the
/// same metadata read from the same tensor); one stores its value and the
/// others wait the few nanoseconds that store takes.
pub(crate) struct Once<T> {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, by the one thread that moved `state`
// from EMPTY to WRITING, and read only after `state` is READY (Release
// store, Acquire loads); it is then shared immutably, so `T: Send + Sync`
// suffices for both.
unsafe impl<T: Send + Sync> Sync for Once<T> {}
unsafe impl<T: Send> Send for Once<T> {}

impl<T> Once<T> {
    /// An empty cell.
    pub(crate) const fn new() -> Self {
        Once {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// A cell holding `v`.
    pub(crate) fn ready(v: T) -> Self {
        Once {
            state: AtomicU8::new(READY),
            value: UnsafeCell::new(MaybeUninit::new(v)),
        }
    }

    /// The value, if computed.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) == READY {
            // SAFETY: READY (Acquire) means the value was written and is
            // never written again.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// The value, computed by `f` on first use (only the check is
    /// inlined into the caller).
    #[inline(always)]
    pub(crate) fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        match self.get() {
            Some(v) => v,
            None => self.init(f),
        }
    }

    #[cold]
    #[inline(never)]
    fn init(&self, f: impl FnOnce() -> T) -> &T {
        let v = f();
        match self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => {
                // SAFETY: only this thread got from EMPTY to WRITING, and
                // nothing reads before READY.
                unsafe { (*self.value.get()).write(v) };
                self.state.store(READY, Ordering::Release);
            }
            Err(_) => {
                // Another thread is storing its value (or has): keep that.
                drop(v);
                while self.state.load(Ordering::Acquire) != READY {
                    std::hint::spin_loop();
                }
            }
        }
        // SAFETY: READY from here on.
        unsafe { (*self.value.get()).assume_init_ref() }
    }
}

impl<T: Clone> Clone for Once<T> {
    fn clone(&self) -> Self {
        match self.get() {
            Some(v) => Once::ready(v.clone()),
            None => Once::new(),
        }
    }
}

impl<T> Drop for Once<T> {
    fn drop(&mut self) {
        if *self.state.get_mut() == READY {
            // SAFETY: READY: initialized, and dropped only here.
            unsafe { self.value.get_mut().assume_init_drop() }
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Once<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.get() {
            Some(v) => write!(f, "Once({v:?})"),
            None => f.write_str("Once(<not read>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn computes_once_keeps_one_value_and_drops_it() {
        let c = Once::new();
        assert!(c.get().is_none());
        assert_eq!(*c.get_or_init(|| vec![1, 2]), vec![1, 2]);
        assert_eq!(*c.get_or_init(|| unreachable!()), vec![1, 2]);
        let d = c.clone();
        assert_eq!(d.get(), Some(&vec![1, 2]));
        assert!(Once::<Vec<u8>>::new().clone().get().is_none());

        // Many threads at once: every one sees the same stored value, and
        // every value made is dropped exactly once.
        let live = Arc::new(AtomicUsize::new(0));
        struct Counted(Arc<AtomicUsize>, usize);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        for _ in 0..50 {
            let cell = Arc::new(Once::new());
            let seen: Vec<usize> = (0..4)
                .map(|i| {
                    let (cell, live) = (cell.clone(), live.clone());
                    std::thread::spawn(move || {
                        cell.get_or_init(|| {
                            live.fetch_add(1, Ordering::SeqCst);
                            Counted(live.clone(), i)
                        })
                        .1
                    })
                })
                .map(|h| h.join().unwrap())
                .collect();
            assert!(seen.iter().all(|&s| s == seen[0]), "{seen:?}");
            assert_eq!(live.load(Ordering::SeqCst), 1);
            drop(cell);
            assert_eq!(live.load(Ordering::SeqCst), 0);
        }
    }
}
