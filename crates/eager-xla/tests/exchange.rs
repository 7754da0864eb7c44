//! Zero-copy exchange on the real PJRT CPU plugin: `lend_host` lends a
//! buffer's own memory, `adopt_host` makes a buffer over foreign memory and
//! keeps its owner until PJRT is done with it, and donation never writes
//! memory that someone else reads.
//!
//! The plugin is installed by scripts/setup-xla.sh (CI runs it); a machine
//! without it skips these tests with a message, never silently in CI.

use eager_core::ops::prelude::*;
use eager_core::{bf16, f16, BinaryOp, DType, HostBuffer, HostData, ReduceOp, UnaryOp};
use eager_xla::jit::Trace;
use eager_xla::XlaTensor;
use std::alloc::Layout;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::plugin;

/// Every dtype eager-tensor has: each crosses PJRT's buffer interface
/// (lending, adopting, donation) without a copy.
const DTYPES: [DType; 13] = [
    DType::F32,
    DType::F64,
    DType::I64,
    DType::U8,
    DType::Bool,
    DType::BF16,
    DType::F16,
    DType::I8,
    DType::I16,
    DType::I32,
    DType::U16,
    DType::U32,
    DType::U64,
];

/// `n` distinct-ish values of `d`, exact in every dtype.
fn sample(d: DType, n: usize) -> HostData {
    match d {
        DType::F32 => HostData::F32((0..n).map(|i| i as f32 * 0.5 - 3.0).collect()),
        DType::F64 => HostData::F64((0..n).map(|i| i as f64 * 0.25 - 7.0).collect()),
        DType::I64 => HostData::I64((0..n).map(|i| i as i64 * 3 - 100).collect()),
        DType::U8 => HostData::U8((0..n).map(|i| (i * 7 % 100) as u8).collect()),
        DType::Bool => HostData::Bool((0..n).map(|i| i % 3 == 0).collect()),
        DType::BF16 => HostData::BF16((0..n).map(|i| bf16::from_f32(i as f32 - 8.0)).collect()),
        DType::F16 => HostData::F16(
            (0..n)
                .map(|i| f16::from_f32(i as f32 * 0.5 - 4.0))
                .collect(),
        ),
        DType::I8 => HostData::I8((0..n).map(|i| (i % 50) as i8 - 25).collect()),
        DType::I16 => HostData::I16(
            (0..n)
                .map(|i| (i as i16).wrapping_mul(301).wrapping_sub(9000))
                .collect(),
        ),
        DType::I32 => HostData::I32(
            (0..n)
                .map(|i| (i as i32).wrapping_mul(70001).wrapping_sub(1_000_000))
                .collect(),
        ),
        DType::U16 => HostData::U16((0..n).map(|i| (i * 997 % 65536) as u16).collect()),
        DType::U32 => HostData::U32(
            (0..n)
                .map(|i| (i as u32).wrapping_mul(2_654_435_761))
                .collect(),
        ),
        // Values above i64::MAX too: the bits must cross unchanged.
        DType::U64 => HostData::U64((0..n).map(|i| (i as u64) << 59 | i as u64).collect()),
    }
}

/// An op that changes every value: `x + x`, or `not x` for bool.
fn op(x: &XlaTensor) -> XlaTensor {
    if x.dtype() == DType::Bool {
        x.unary(UnaryOp::LogicalNot).unwrap()
    } else {
        x.binary(BinaryOp::Add, x).unwrap()
    }
}

/// `op` on an independent upload of the same values: the reference.
fn reference(d: DType, shape: &[usize]) -> HostData {
    let n = shape.iter().product();
    op(&XlaTensor::from_host(sample(d, n), shape).unwrap())
        .to_host()
        .unwrap()
}

fn address(t: &XlaTensor) -> usize {
    t.buffer().unwrap().device_address().unwrap()
}

/// Host memory at a chosen offset from a 64-byte boundary, freed on drop.
struct Mem {
    base: *mut u8,
    layout: Layout,
    data: *mut u8,
    len: usize,
}

// SAFETY: plain heap memory, written only through `data` by its creator
// (before sharing) and by a scribbling `Lender` (see below).
unsafe impl Send for Mem {}
unsafe impl Sync for Mem {}

impl Mem {
    fn new(bytes: &[u8], offset: usize) -> Arc<Mem> {
        let layout = Layout::from_size_align(bytes.len() + offset + 64, 64).unwrap();
        // SAFETY: the layout's size is at least 64.
        let base = unsafe { std::alloc::alloc(layout) };
        assert!(!base.is_null());
        // SAFETY: `offset + len` bytes fit in the allocation.
        let data = unsafe { base.add(offset) };
        // SAFETY: as above; the source is a distinct slice.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len()) };
        Arc::new(Mem {
            base,
            layout,
            data,
            len: bytes.len(),
        })
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` initialized bytes at `data`, alive with `self`.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.base, self.layout) };
    }
}

/// The owner handed over with lent memory: counts its drops and, with
/// `scribble`, overwrites the memory as it goes (so anything that still
/// read it afterwards would see garbage, NaN for floats).
struct Lender {
    mem: Arc<Mem>,
    drops: Arc<AtomicUsize>,
    scribble: bool,
}

impl Drop for Lender {
    fn drop(&mut self) {
        if self.scribble {
            // SAFETY: the memory is alive (this `Arc`) and, the owner being
            // dropped, nobody may read it as data any more.
            unsafe { std::ptr::write_bytes(self.mem.data, 0xFF, self.mem.len) };
        }
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A `HostBuffer` over `mem`, owned by a counting `Lender`.
fn lent(
    mem: &Arc<Mem>,
    d: DType,
    shape: &[usize],
    scribble: bool,
) -> (HostBuffer, Arc<AtomicUsize>) {
    let drops = Arc::new(AtomicUsize::new(0));
    let owner = Lender {
        mem: mem.clone(),
        drops: drops.clone(),
        scribble,
    };
    // SAFETY: `mem` holds the shape's elements of `d` (from `sample`), is
    // aligned for every dtype (64 or 16 bytes), and the owner keeps it.
    let buf = unsafe { HostBuffer::new(mem.data, d, shape.to_vec(), Box::new(owner)) };
    (buf, drops)
}

/// Waits (PJRT may release memory on one of its threads) until `c` is `n`,
/// at most 5 s, and a little longer in case it goes past.
fn settle(c: &AtomicUsize, n: usize) -> usize {
    for _ in 0..500 {
        if c.load(Ordering::SeqCst) >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    held(c)
}

/// `c` after a pause long enough for a pending release to show.
fn held(c: &AtomicUsize) -> usize {
    std::thread::sleep(Duration::from_millis(50));
    c.load(Ordering::SeqCst)
}

/// A program `[op(x)]` whose input 0 is offered for donation.
fn donating_program(d: DType, shape: &[usize]) -> eager_xla::jit::Program {
    let tr = Trace::new();
    let x = tr.input(d, shape).unwrap();
    let y = op(&x);
    let p = tr.finish_donating(&[y], &[0]).unwrap();
    assert_eq!(p.aliased(), vec![0], "the input aliases the result");
    p
}

#[test]
fn a_lent_buffer_is_its_own_memory_at_a_stable_address() {
    if !plugin() {
        return;
    }
    let shape = [3, 5];
    for d in DTYPES {
        let t = XlaTensor::from_host(sample(d, 15), &shape).unwrap();
        let u = op(&t);
        let want = reference(d, &shape);
        let h1 = u
            .lend_host()
            .unwrap()
            .expect("a CPU buffer lends its memory");
        let h2 = u.lend_host().unwrap().unwrap();
        assert_eq!(h1.ptr(), h2.ptr(), "[{d}]");
        assert_eq!(h1.ptr() as usize, address(&u), "[{d}]");
        assert!(h1.is_aligned(64), "[{d}] PJRT aligns its buffers");
        assert_eq!((h1.dtype(), h1.shape()), (d, &shape[..]), "[{d}]");
        assert_eq!(h1.as_bytes(), want.as_bytes(), "[{d}]");
        assert!(!u.buffer().unwrap().is_donatable(), "[{d}] lent");
        // The loan keeps the memory after the tensor is gone.
        drop(u);
        drop(h2);
        let _noise: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 4096]).collect();
        assert_eq!(h1.as_bytes(), want.as_bytes(), "[{d}]");
        assert_eq!(HostBuffer::into_host_data(h1).0, want, "[{d}]");
        // An upload lends too.
        let h = t.lend_host().unwrap().unwrap();
        assert_eq!(h.ptr() as usize, address(&t), "[{d}]");
        assert_eq!(h.as_bytes(), sample(d, 15).as_bytes(), "[{d}]");
        drop(h);
        assert!(t.buffer().unwrap().is_on_cpu().unwrap());
        assert!(t.buffer().unwrap().is_dense_row_major().unwrap());
    }
}

#[test]
fn aligned_memory_is_adopted_without_a_copy_and_lent_back() {
    if !plugin() {
        return;
    }
    let shape = [4, 6];
    for d in DTYPES {
        let s = sample(d, 24);
        let mem = Mem::new(s.as_bytes(), 0);
        let (buf, drops) = lent(&mem, d, &shape, false);
        let t = XlaTensor::adopt_host(buf).unwrap();
        assert_eq!(address(&t), mem.data as usize, "[{d}] shared, not copied");
        assert!(!t.buffer().unwrap().is_donatable(), "[{d}] foreign memory");
        let h = t.lend_host().unwrap().unwrap();
        assert_eq!(h.ptr(), mem.data as *const u8, "[{d}] lent back");
        assert_eq!(t.to_host().unwrap(), s, "[{d}]");
        assert_eq!(op(&t).to_host().unwrap(), reference(d, &shape), "[{d}]");
        // The tensor goes; the loan still uses the memory.
        drop(t);
        assert_eq!(held(&drops), 0, "[{d}] dropped while lent");
        drop(h);
        assert_eq!(
            settle(&drops, 1),
            1,
            "[{d}] dropped once the buffer is freed"
        );
        assert_eq!(held(&drops), 1, "[{d}] dropped exactly once");
    }
}

#[test]
fn misaligned_memory_is_copied_and_its_owner_released_at_once() {
    if !plugin() {
        return;
    }
    for d in DTYPES {
        let s = sample(d, 10);
        let mem = Mem::new(s.as_bytes(), 16);
        let (buf, drops) = lent(&mem, d, &[10], false);
        assert!(!buf.is_aligned(64));
        let t = XlaTensor::adopt_host(buf).unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "[{d}] copied, owner gone");
        assert_ne!(address(&t), mem.data as usize, "[{d}]");
        assert!(t.buffer().unwrap().is_donatable(), "[{d}] PJRT's own copy");
        assert_eq!(t.to_host().unwrap(), s, "[{d}]");
    }
}

#[test]
fn adopted_values_survive_the_lender_and_memory_churn() {
    if !plugin() {
        return;
    }
    let shape = [8, 16];
    for d in DTYPES {
        // The owner holds the only reference to the memory.
        let (x, drops, ptr) = {
            let mem = Mem::new(sample(d, 128).as_bytes(), 0);
            let ptr = mem.data as usize;
            let (buf, drops) = lent(&mem, d, &shape, false);
            (XlaTensor::adopt_host(buf).unwrap(), drops, ptr)
        };
        assert_eq!(address(&x), ptr, "[{d}]");
        let y = op(&x);
        let r = x.reshape(&[16, 8]).unwrap().permute(&[1, 0]).unwrap();
        let total = if d == DType::Bool {
            x.reduce(ReduceOp::Any, &[0, 1], false).unwrap()
        } else {
            x.reduce(ReduceOp::Max, &[0, 1], false).unwrap()
        };
        // Allocate and fill plenty of memory: had the adopted memory been
        // freed, it would be reused and overwritten now.
        let churn: Vec<Vec<u8>> = (0..24)
            .map(|i| vec![0xA0 | i as u8; 4 << 20])
            .chain((0..2000).map(|i| vec![i as u8; 128 * d.size_of()]))
            .collect();
        assert!(churn.iter().all(|v| !v.is_empty()));
        assert_eq!(x.to_host().unwrap(), sample(d, 128), "[{d}]");
        assert_eq!(y.to_host().unwrap(), reference(d, &shape), "[{d}]");
        let want_r = XlaTensor::from_host(sample(d, 128), &shape)
            .unwrap()
            .reshape(&[16, 8])
            .unwrap()
            .permute(&[1, 0])
            .unwrap();
        assert_eq!(r.to_host().unwrap(), want_r.to_host().unwrap(), "[{d}]");
        assert_eq!(total.shape(), Vec::<usize>::new());
        // The owner goes with the last buffer over the memory.
        let x2 = x.clone();
        drop(x);
        drop(churn);
        assert_eq!(held(&drops), 0, "[{d}] a clone still uses it");
        assert_eq!(x2.to_host().unwrap(), sample(d, 128), "[{d}]");
        drop(x2);
        assert_eq!(settle(&drops, 1), 1, "[{d}]");
        // Results computed from it are independent of it.
        assert_eq!(y.to_host().unwrap(), reference(d, &shape), "[{d}]");
        assert_eq!(held(&drops), 1, "[{d}] exactly once");
    }
}

/// The owner is dropped only after queued work has read the memory: an
/// owner that scribbles NaN over it on drop would otherwise spoil the
/// results.
#[test]
fn queued_work_finishes_before_the_owner_goes() {
    if !plugin() {
        return;
    }
    let n = 256;
    let vals: Vec<f32> = (0..n * n).map(|i| ((i % 17) as f32 - 8.0) / 8.0).collect();
    let host = HostData::F32(vals.clone());
    for _ in 0..4 {
        let mem = Mem::new(host.as_bytes(), 0);
        let (buf, drops) = lent(&mem, DType::F32, &[n, n], true);
        drop(mem);
        let x = XlaTensor::adopt_host(buf).unwrap();
        let y = x.matmul(&x).unwrap();
        let z = y.reduce(ReduceOp::Sum, &[1], false).unwrap();
        let w = x.binary(BinaryOp::Mul, &x).unwrap();
        drop(x);
        let want = XlaTensor::from_host(host.clone(), &[n, n]).unwrap();
        let want_z = want
            .matmul(&want)
            .unwrap()
            .reduce(ReduceOp::Sum, &[1], false)
            .unwrap();
        assert_eq!(z.to_host().unwrap(), want_z.to_host().unwrap());
        let w = w.to_host().unwrap();
        let want_w: Vec<f32> = vals.iter().map(|v| v * v).collect();
        assert_eq!(w, HostData::F32(want_w));
        drop((y, z));
        assert_eq!(settle(&drops, 1), 1);
    }
}

#[test]
fn donating_an_adopted_buffer_never_writes_the_lenders_memory() {
    if !plugin() {
        return;
    }
    let shape = [2, 8];
    for d in DTYPES {
        let s = sample(d, 16);
        let p = donating_program(d, &shape);
        // Through `jit`'s donating run: the input is consumed, the memory
        // stays the lender's.
        let mem = Mem::new(s.as_bytes(), 0);
        let (buf, drops) = lent(&mem, d, &shape, false);
        let t = XlaTensor::adopt_host(buf).unwrap();
        assert_eq!(address(&t), mem.data as usize, "[{d}]");
        let out = p.run_donating(vec![t]).unwrap().remove(0);
        assert_eq!(out.to_host().unwrap(), reference(d, &shape), "[{d}]");
        assert_ne!(address(&out), mem.data as usize, "[{d}] a new buffer");
        assert_eq!(mem.bytes(), s.as_bytes(), "[{d}] the lender's data");
        assert_eq!(settle(&drops, 1), 1, "[{d}] released with the input");
        // Straight through PJRT, asking to donate everything: the buffer
        // is copied, stays valid and the memory unchanged.
        let (buf, _drops) = lent(&mem, d, &shape, false);
        let t = XlaTensor::adopt_host(buf).unwrap();
        let c = eager_xla::client().unwrap();
        let exe = c.compile(p.text()).unwrap();
        let outs = exe
            .execute_donating(&[t.buffer().unwrap()], p.output_types(), &[])
            .unwrap();
        let out = XlaTensor::adopt_host(
            HostBuffer::from_host_data(
                HostData::from_ne_bytes(d, outs[0].to_host().unwrap()),
                &shape,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(out.to_host().unwrap(), reference(d, &shape), "[{d}]");
        assert_eq!(t.to_host().unwrap(), s, "[{d}] the input is still valid");
        assert_eq!(mem.bytes(), s.as_bytes(), "[{d}] the lender's data");
    }
}

#[test]
fn donating_a_lent_buffer_never_changes_the_lent_memory() {
    if !plugin() {
        return;
    }
    let shape = [4, 4];
    for d in DTYPES {
        let p = donating_program(d, &shape);
        let fresh = || {
            let t = XlaTensor::from_host(sample(d, 16), &shape).unwrap();
            // A buffer PJRT made: donatable while not lent.
            t.cast(d).unwrap().binary(BinaryOp::Maximum, &t).unwrap()
        };
        // Not lent: donated (the result reuses the memory).
        let t = fresh();
        let before = address(&t);
        assert!(t.buffer().unwrap().is_donatable());
        let out = p.run_donating(vec![t]).unwrap().remove(0);
        assert_eq!(address(&out), before, "[{d}] donated");
        assert_eq!(out.to_host().unwrap(), reference(d, &shape), "[{d}]");
        // Lent: copied; the loan's bytes never change.
        let t = fresh();
        let h = t.lend_host().unwrap().unwrap();
        let snapshot = h.as_bytes().to_vec();
        let out = p.run_donating(vec![t]).unwrap().remove(0);
        assert_ne!(address(&out), h.ptr() as usize, "[{d}]");
        assert_eq!(out.to_host().unwrap(), reference(d, &shape), "[{d}]");
        assert_eq!(h.as_bytes(), &snapshot[..], "[{d}]");
        // Straight through PJRT, asking to donate it anyway.
        let t = fresh();
        let h = t.lend_host().unwrap().unwrap();
        let c = eager_xla::client().unwrap();
        let exe = c.compile(p.text()).unwrap();
        let outs = exe
            .execute_donating(&[t.buffer().unwrap()], p.output_types(), &[])
            .unwrap();
        assert_ne!(outs[0].device_address().unwrap(), h.ptr() as usize);
        assert_eq!(
            HostData::from_ne_bytes(d, outs[0].to_host().unwrap()),
            reference(d, &shape),
            "[{d}]"
        );
        assert_eq!(h.as_bytes(), &snapshot[..], "[{d}]");
        assert_eq!(t.to_host().unwrap(), sample(d, 16), "[{d}] still valid");
        drop(h);
        assert!(t.buffer().unwrap().is_donatable(), "[{d}] the loan ended");
    }
}

/// `from_host` shares a host vector whose memory is aligned for PJRT (and
/// the buffer, owning it, stays donatable); any other one is copied.
#[test]
fn from_host_shares_an_aligned_vector() {
    if !plugin() {
        return;
    }
    let n = 1024;
    let mut held = Vec::new();
    let (mut aligned, mut misaligned) = (None, None);
    for _ in 0..64 {
        let v: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let slot = if v.as_ptr() as usize % 64 == 0 {
            &mut aligned
        } else {
            &mut misaligned
        };
        if slot.is_none() {
            *slot = Some(v);
        } else {
            held.push(v);
        }
        if aligned.is_some() && misaligned.is_some() {
            break;
        }
    }
    let (a, m) = (
        aligned.expect("one of 64 heap vectors is 64-byte aligned"),
        misaligned.expect("a vector is not 64-byte aligned"),
    );
    let (pa, pm) = (a.as_ptr() as usize, m.as_ptr() as usize);
    let want: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let ta = XlaTensor::from_host(HostData::F32(a), &[n]).unwrap();
    let tm = XlaTensor::from_host(HostData::F32(m), &[n]).unwrap();
    assert_eq!(address(&ta), pa, "shared");
    assert_ne!(address(&tm), pm, "copied");
    assert_eq!(ta.to_host().unwrap(), HostData::F32(want.clone()));
    assert_eq!(tm.to_host().unwrap(), HostData::F32(want.clone()));
    // Ours alone: donation writes the result into the vector's memory.
    assert!(ta.buffer().unwrap().is_donatable());
    let p = donating_program(DType::F32, &[n]);
    let out = p.run_donating(vec![ta]).unwrap().remove(0);
    assert_eq!(address(&out), pa, "donated");
    let twice: Vec<f32> = want.iter().map(|v| v * 2.0).collect();
    assert_eq!(out.to_host().unwrap(), HostData::F32(twice));
    drop(held);
}

#[test]
fn an_xla_loan_adopted_is_the_same_buffer() {
    if !plugin() {
        return;
    }
    let t = op(&XlaTensor::from_host(sample(DType::F32, 6), &[2, 3]).unwrap());
    let u = XlaTensor::adopt_host(t.lend_host().unwrap().unwrap()).unwrap();
    assert!(Arc::ptr_eq(t.buffer().unwrap(), u.buffer().unwrap()));
    assert!(t.buffer().unwrap().is_donatable(), "the loan ended");
    assert_eq!(u.to_host().unwrap(), reference(DType::F32, &[2, 3]));
    // Seen as another shape: a copy, and the loan ends at once.
    let (ptr, d, _, owner) = t.lend_host().unwrap().unwrap().into_parts();
    // SAFETY: the same memory and owner, six f32 either way.
    let flat = unsafe { HostBuffer::new(ptr, d, vec![6], owner) };
    let v = XlaTensor::adopt_host(flat).unwrap();
    assert_ne!(address(&v), address(&t));
    assert!(t.buffer().unwrap().is_donatable(), "the loan ended");
    assert_eq!(
        v.to_host().unwrap().as_bytes(),
        reference(DType::F32, &[2, 3]).as_bytes()
    );
}

#[test]
fn empty_tensors_lend_and_adopt() {
    if !plugin() {
        return;
    }
    for d in DTYPES {
        let t = XlaTensor::from_host(sample(d, 0), &[0, 4]).unwrap();
        let h = t.lend_host().unwrap().unwrap();
        assert_eq!((h.len(), h.shape()), (0, &[0, 4][..]));
        let u = XlaTensor::adopt_host(h).unwrap();
        assert_eq!(u.shape(), vec![0, 4]);
        assert_eq!(u.to_host().unwrap(), sample(d, 0));
    }
}

#[test]
fn inside_jit_nothing_is_lent() {
    if !plugin() {
        return;
    }
    let tr = Trace::new();
    let x = tr.input(DType::F32, &[2]).unwrap();
    let e = x.lend_host().expect_err("a traced value has no memory");
    assert!(e.to_string().contains("lend_host"), "{e}");
}
