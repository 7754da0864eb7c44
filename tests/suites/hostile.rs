//! The hostile-input suite: a table of bad inputs × every op family, run on
//! one backend in **child processes** so that an
//! abort (a failed allocation, a C++ `LOG(FATAL)`, a SIGFPE) is caught and
//! named instead of killing the whole test run.
//!
//! Every case must end in `Ok` or in an `Err` that names an op; a panic or
//! a crash is a failure. And every backend must answer as ndarray does: the
//! same error kind, or the same dtype, shape and values (NaN equals NaN,
//! `-0.0` differs from `0.0`, floats within a few ulps for the
//! transcendental functions). The output says how many inputs each backend
//! was given.
//!
//! How it runs: the test of a backend (`hostile::torch`, ...) starts this
//! test binary again with `--ignored --exact hostile_child` and
//! `EAGER_HOSTILE=<backend>:<first case>`; the child runs the cases in
//! order, printing `@@start i` before and `@@done i <outcome>` after each.
//! When a child dies, the case after its last `@@start` is recorded as the
//! crash and a new child goes on with the next case.
//!
//! A case may also carry an [`Expect`]ation checked on every backend on its
//! own (`hostile/expect.rs`: an error of a given kind everywhere, or on some
//! backends only — a tensor of more dimensions than a backend holds is a
//! `shape` error there and a value elsewhere). The families of `hostile/`
//! (special values through every op, files, DLPack, exchange, ranks, `jit`,
//! dtype extremes, empty axes and u64 indices) are declared below, beside
//! the sizes, axes and indices families of this file; the summary counts
//! the inputs of each family.

#[path = "hostile/dlpack.rs"]
mod dlpack;
#[path = "hostile/dtype_extremes.rs"]
mod dtype_extremes;
#[path = "hostile/empty_axis.rs"]
mod empty_axis;
#[path = "hostile/expect.rs"]
mod expect;
#[path = "hostile/files.rs"]
mod files;
#[path = "hostile/jit.rs"]
mod jit;
#[path = "hostile/rank.rs"]
mod rank;
#[path = "hostile/to_backend.rs"]
mod to_backend;
#[path = "hostile/values.rs"]
mod values;

use crate::common::{disagreement, outcome, Out};
use eager_tensor::{self as ep, prelude::*, Backend, DType, EagerTensor, HostData, PadMode};
use expect::{compared_as, families, Expect};
use std::io::{BufRead, BufReader, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Command, Stdio};

type Run = Box<dyn Fn(Backend) -> Out>;

/// One hostile input: a name (`family/what`), what it must give beyond
/// agreeing with ndarray, and what to run.
struct Case {
    name: String,
    expect: Expect,
    run: Run,
}

/// How a family adds its cases.
type Add<'a> = dyn FnMut(String, Expect, Run) + 'a;

fn one(r: ep::Result<EagerTensor>) -> Out {
    r.map(|t| vec![t])
}

fn t<E: ep::Element>(b: Backend, v: Vec<E>, shape: &[usize]) -> ep::Result<EagerTensor> {
    EagerTensor::from_vec(b, v, shape)
}

const HUGE: usize = 10_000_000_000_000;

/// Shapes no machine can hold, or that no framework can address.
fn huge_shapes() -> Vec<(&'static str, Vec<usize>)> {
    vec![
        ("1e13", vec![HUGE]),
        ("usize_max", vec![usize::MAX]),
        ("zero_and_usize_max", vec![0, usize::MAX]),
        ("usize_max_and_zero", vec![usize::MAX, 0]),
        ("zero_and_2^62x16", vec![0, 1 << 62, 16]),
        ("2^40_squared", vec![1 << 40, 1 << 40]),
        ("1e5_cubed", vec![100_000, 100_000, 100_000]),
        ("i64_max", vec![i64::MAX as usize]),
    ]
}

const BAD_AXES: [isize; 5] = [isize::MIN, isize::MAX, -3, 2, i32::MAX as isize];

fn cases() -> Vec<Case> {
    let mut v: Vec<Case> = Vec::new();
    let mut add_expecting =
        |name: String, expect: Expect, run: Run| v.push(Case { name, expect, run });
    let mut add = |name: String, run: Run| add_expecting(name, Expect::Same, run);

    // ---- sizes: every op that makes a tensor of a caller-chosen size.
    for (sn, s) in huge_shapes() {
        for d in [DType::F32, DType::Bool, DType::I64] {
            let s2 = s.clone();
            add(
                format!("size/zeros_{sn}_{d}"),
                Box::new(move |b| one(EagerTensor::zeros(b, &s2, d))),
            );
        }
        let s2 = s.clone();
        add(
            format!("size/full_{sn}"),
            Box::new(move |b| one(EagerTensor::full_on(b, &s2, 1.5, DType::F64))),
        );
        let s2 = s.clone();
        add(
            format!("size/ones_like_{sn}"),
            Box::new(move |b| one(t(b, vec![1i32], &[1])?.ones(&s2))),
        );
        let s2 = s.clone();
        add(
            format!("size/uniform_{sn}"),
            Box::new(move |b| one(t(b, vec![1f32], &[1])?.uniform(&s2, 0.0, 1.0))),
        );
        let s2 = s.clone();
        add(
            format!("size/normal_{sn}"),
            Box::new(move |b| one(t(b, vec![1f64], &[1])?.normal(&s2, 0.0, 1.0))),
        );
        let s2 = s.clone();
        add(
            format!("size/broadcast_to_{sn}"),
            Box::new(move |b| one(t(b, vec![1f32], &[1])?.broadcast_to(&s2))),
        );
        let s2 = s.clone();
        add(
            format!("size/from_vec_empty_{sn}"),
            Box::new(move |b| one(t::<f32>(b, vec![], &s2))),
        );
        let s2: Vec<isize> = s
            .iter()
            .map(|&d| d.min(isize::MAX as usize) as isize)
            .collect();
        add(
            format!("size/reshape_empty_{sn}"),
            Box::new(move |b| one(t::<f32>(b, vec![], &[0])?.reshape(&s2))),
        );
        let reps = s.clone();
        add(
            format!("size/tile_{sn}"),
            Box::new(move |b| {
                let x = t(b, vec![1u8], &[1])?;
                let x = x.reshape(
                    vec![1; reps.len()]
                        .iter()
                        .map(|&d| d as isize)
                        .collect::<Vec<_>>(),
                )?;
                one(x.tile(&reps))
            }),
        );
    }
    // One integer as a shape (EagerPy's `ShapeOrScalar`), however large.
    for (name, n) in [
        ("usize_max", usize::MAX),
        ("1e13", HUGE),
        ("i64_max", i64::MAX as usize),
    ] {
        add(
            format!("size/zeros_one_integer_{name}"),
            Box::new(move |b| one(ep::zeros(&t(b, vec![1f32], &[1])?, n))),
        );
    }
    add(
        "size/ones_one_negative_integer".into(),
        Box::new(|b| one(ep::ones(&t(b, vec![1f32], &[1])?, -5))),
    );
    add(
        "size/pad_huge".into(),
        Box::new(
            |b| one(t(b, vec![1f32, 2.0], &[2])?.pad(&[(HUGE, HUGE)], PadMode::Constant(0.0))),
        ),
    );
    add(
        "size/pad_overflow".into(),
        Box::new(|b| {
            one(t(b, vec![1f32, 2.0], &[2])?.pad(&[(usize::MAX, 1)], PadMode::Constant(0.0)))
        }),
    );
    add(
        "size/pad_reflect_huge".into(),
        Box::new(|b| one(t(b, vec![1f32, 2.0], &[2])?.pad(&[(HUGE, 0)], PadMode::Reflect))),
    );
    // Results larger than their inputs: outer products by broadcasting.
    let n = 200_000usize;
    add(
        "size/add_broadcast_outer".into(),
        Box::new(move |b| {
            let x = EagerTensor::zeros(b, [n, 1], DType::F32)?;
            let y = EagerTensor::zeros(b, [1, n], DType::F32)?;
            one(x.add(&y))
        }),
    );
    add(
        "size/add_scalar_after_huge_broadcast".into(),
        Box::new(|b| one(t(b, vec![1f32], &[1])?.broadcast_to([HUGE])?.add(1.0))),
    );
    add(
        "size/where_broadcast_outer".into(),
        Box::new(move |b| {
            let c = EagerTensor::zeros(b, [n, 1], DType::Bool)?;
            let y = EagerTensor::zeros(b, [1, n], DType::F32)?;
            one(c.where_cond(&y, 0.0))
        }),
    );
    add(
        "size/matmul_outer".into(),
        Box::new(move |b| {
            let x = EagerTensor::zeros(b, [n, 1], DType::F32)?;
            let y = EagerTensor::zeros(b, [1, n], DType::F32)?;
            one(x.matmul(&y))
        }),
    );
    add(
        "size/matmul_batch_broadcast".into(),
        Box::new(move |b| {
            let x = EagerTensor::zeros(b, [n, 1, 1, 2], DType::F32)?;
            let y = EagerTensor::zeros(b, [1, n, 2, 1], DType::F32)?;
            one(x.matmul(&y))
        }),
    );
    add(
        "size/index_outer".into(),
        Box::new(move |b| {
            let x = EagerTensor::zeros(b, [4, 4], DType::F32)?;
            let i = EagerTensor::zeros(b, [n, 1], DType::I64)?;
            let j = EagerTensor::zeros(b, [1, n], DType::I64)?;
            one(x.index(ep::s![&i, &j]))
        }),
    );
    add(
        "size/take_along_axis_broadcast".into(),
        Box::new(move |b| {
            let x = EagerTensor::zeros(b, [n, 1], DType::F32)?;
            let i = EagerTensor::zeros(b, [1, n], DType::I64)?;
            one(x.take_along_axis(&i, 1))
        }),
    );
    add(
        "size/meshgrid".into(),
        Box::new(move |b| {
            let x = EagerTensor::zeros(b, [n], DType::F64)?;
            ep::meshgrid(&[&x, &x, &x], ep::Indexing::Ij)
        }),
    );
    add(
        "size/arange_full_i64".into(),
        Box::new(|b| one(EagerTensor::zeros(b, [], DType::I64)?.arange(i64::MIN, i64::MAX, 1))),
    );
    add(
        "size/arange_overflowing_step".into(),
        Box::new(|b| {
            one(EagerTensor::zeros(b, [], DType::I64)?.arange(i64::MIN, i64::MAX, i64::MAX))
        }),
    );
    add(
        "size/arange_min_step".into(),
        Box::new(|b| {
            one(EagerTensor::zeros(b, [], DType::I64)?.arange(i64::MAX, i64::MIN, i64::MIN))
        }),
    );
    add(
        "size/empty_with_huge_axis_ops".into(),
        Box::new(|b| {
            let x = EagerTensor::zeros(b, [0, 1 << 40], DType::F32)?;
            Ok(vec![x.sum_axes([1], false)?, x.exp()?, x.transpose()?])
        }),
    );

    // ---- axes: out of range, extreme, on every op that takes one.
    for &ax in &BAD_AXES {
        type AxisOp = fn(&EagerTensor, isize) -> ep::Result<EagerTensor>;
        let ops: Vec<(&str, AxisOp)> = vec![
            ("sum_axes", |x, a| x.sum_axes([a], false)),
            ("mean_axes", |x, a| x.mean_axes([a], true)),
            ("max_axes", |x, a| x.max_axes([a], false)),
            ("argmax_axis", |x, a| x.argmax_axis(a)),
            ("argsort", |x, a| x.argsort(a)),
            ("sort", |x, a| x.sort(a)),
            ("cumsum_axis", |x, a| x.cumsum_axis(a)),
            ("flip_axes", |x, a| x.flip_axes([a])),
            ("squeeze_axes", |x, a| x.squeeze_axes([a])),
            ("expand_dims", |x, a| x.expand_dims(a)),
            ("softmax", |x, a| x.softmax(a)),
            ("log_softmax", |x, a| x.log_softmax(a)),
            ("flatten", |x, a| x.flatten(a, -1)),
            ("stack", |x, a| ep::stack(&[x, x], a)),
            ("concatenate", |x, a| ep::concatenate(&[x, x], a)),
            ("take_along_axis", |x, a| {
                x.take_along_axis(&x.argsort(-1)?, a)
            }),
            ("l2", |x, a| ep::norms::l2(x, &[a][..], false)),
        ];
        for (on, f) in ops {
            add(
                format!("axis/{on}_{ax}"),
                Box::new(move |b| one(f(&t(b, vec![1f32, 2.0, 3.0, 4.0], &[2, 2])?, ax))),
            );
        }
    }
    add(
        "axis/permute_usize_max".into(),
        Box::new(|b| one(t(b, vec![1f32, 2.0], &[1, 2])?.permute([usize::MAX, 0]))),
    );
    add(
        "axis/sum_repeated".into(),
        Box::new(|b| one(t(b, vec![1f32, 2.0], &[1, 2])?.sum_axes([1, -1], false))),
    );

    // ---- indices: integers that wrap, ranges that overflow, bad tensors.
    type IndexOp = fn(&EagerTensor) -> ep::Result<EagerTensor>;
    let idx: Vec<(&str, IndexOp)> = vec![
        ("usize_max", |x| x.index(ep::s![usize::MAX])),
        ("usize_max_minus_1", |x| x.index(ep::s![usize::MAX - 1])),
        ("isize_min", |x| x.index(ep::s![isize::MIN])),
        ("isize_max", |x| x.index(ep::s![isize::MAX])),
        ("i64_min", |x| x.index(ep::s![i64::MIN])),
        ("range_inclusive_isize_max", |x| {
            x.index(ep::s![0..=isize::MAX])
        }),
        ("range_inclusive_usize_max", |x| {
            x.index(ep::s![0..=usize::MAX])
        }),
        ("range_from_usize_max", |x| x.index(ep::s![usize::MAX..])),
        ("range_to_usize_max", |x| x.index(ep::s![..usize::MAX])),
        ("range_isize_min_max", |x| {
            x.index(ep::s![isize::MIN..isize::MAX])
        }),
        ("step_isize_min", |x| x.index(ep::s![..;isize::MIN])),
        ("step_isize_max", |x| x.index(ep::s![..;isize::MAX])),
        ("step_zero", |x| x.index(ep::s![..;0])),
        ("to_inclusive_isize_max", |x| x.index(ep::s![..=isize::MAX])),
        ("too_many", |x| x.index(ep::s![0, 0, 0])),
        ("two_ellipses", |x| {
            x.index(ep::s![ep::Ellipsis, ep::Ellipsis])
        }),
        ("tensor_i64_max", |x| {
            let i = x.from_host_like(HostData::I64(vec![i64::MAX]), [1])?;
            x.index(ep::s![&i])
        }),
        ("tensor_i64_min", |x| {
            let i = x.from_host_like(HostData::I64(vec![i64::MIN]), [1])?;
            x.index(ep::s![&i])
        }),
        ("tensor_u8_large", |x| {
            let i = x.from_host_like(HostData::U8(vec![255]), [1])?;
            x.index(ep::s![&i])
        }),
        ("tensor_float", |x| {
            let i = x.from_host_like(HostData::F32(vec![0.0]), [1])?;
            x.index(ep::s![&i])
        }),
        ("mask_wrong_shape", |x| {
            let m = x.from_host_like(HostData::Bool(vec![true; 3]), [3])?;
            x.index(ep::s![&m])
        }),
        ("take_along_axis_i64_min", |x| {
            let i = x.from_host_like(HostData::I64(vec![i64::MIN; 4]), [2, 2])?;
            x.take_along_axis(&i, 1)
        }),
        ("onehot_out_of_range", |x| {
            let i = x.from_host_like(HostData::I64(vec![0, i64::MAX]), [2])?;
            x.onehot_like(&i, 1.0)
        }),
        ("update_usize_max", |x| {
            x.index_update(ep::s![usize::MAX], 1.0)
        }),
        ("update_tensor_i64_min", |x| {
            let i = x.from_host_like(HostData::I64(vec![i64::MIN]), [1])?;
            x.index_update(ep::s![&i], 1.0)
        }),
        ("crossentropy_bad_label", |x| {
            let l = x.from_host_like(HostData::I64(vec![0, -3]), [2])?;
            x.crossentropy(&l)
        }),
        ("topk_usize_max", |x| x.topk(usize::MAX, true).map(|r| r.0)),
    ];
    for (name, f) in idx {
        add(
            format!("index/{name}"),
            Box::new(move |b| one(f(&t(b, vec![1f32, 2.0, 3.0, 4.0], &[2, 2])?))),
        );
    }

    // ---- the families of `hostile/`: special values through every op
    // family first, then the newer surfaces.
    values::cases(&mut add_expecting);
    files::cases(&mut add_expecting);
    dlpack::cases(&mut add_expecting);
    to_backend::cases(&mut add_expecting);
    rank::cases(&mut add_expecting);
    jit::cases(&mut add_expecting);
    dtype_extremes::cases(&mut add_expecting);
    empty_axis::cases(&mut add_expecting);
    v
}

/// Entry point of the child processes, the test `hostile_child` that
/// [`suites!`](crate::suites) declares (not a test of its own).
pub fn child() {
    let Ok(spec) = std::env::var("EAGER_HOSTILE") else {
        return;
    };
    let (backend, first) = spec.split_once(':').expect("backend:first");
    let backend: Backend = backend.parse().expect("a backend");
    let first: usize = first.parse().expect("a case number");
    // A panic is reported by the case; the default hook would print it too.
    std::panic::set_hook(Box::new(|_| {}));
    let out = std::io::stdout();
    for (i, case) in cases().into_iter().enumerate().skip(first) {
        let mut o = out.lock();
        writeln!(o, "@@start {i}").ok();
        o.flush().ok();
        drop(o);
        let line = match catch_unwind(AssertUnwindSafe(|| outcome((case.run)(backend)))) {
            Ok(s) => s,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                format!("panic {}", msg.replace('\n', " "))
            }
        };
        let mut o = out.lock();
        writeln!(o, "@@done {i} {line}").ok();
        o.flush().ok();
    }
}

/// Runs every case on `backend` in child processes; returns one outcome
/// line per case (`crash ...` for the case a child died in).
fn run_backend(backend: Backend, n: usize) -> Vec<String> {
    let exe = std::env::current_exe().expect("the test binary");
    let mut results: Vec<Option<String>> = vec![None; n];
    let mut next = 0;
    while next < n {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "hostile_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("EAGER_HOSTILE", format!("{backend}:{next}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a child");
        let stdout = child.stdout.take().expect("stdout");
        let mut started = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(i) = line.strip_prefix("@@start ") {
                started = i.parse::<usize>().ok();
            } else if let Some(rest) = line.strip_prefix("@@done ") {
                if let Some((i, o)) = rest.split_once(' ') {
                    if let Ok(i) = i.parse::<usize>() {
                        results[i] = Some(o.to_string());
                        next = i + 1;
                        started = None;
                    }
                }
            }
        }
        let status = child.wait().expect("wait for the child");
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            e.read_to_string(&mut err).ok();
        }
        match started {
            Some(i) => {
                let tail: String = err.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
                results[i] = Some(format!("crash {status}: {tail}"));
                next = i + 1;
            }
            None if next < n => {
                // The child ended between cases without finishing: record
                // the next case as the culprit so the loop moves on.
                results[next] = Some(format!("crash {status} before the case started: {err}"));
                next += 1;
            }
            None => {}
        }
    }
    results.into_iter().map(|r| r.unwrap_or_default()).collect()
}

/// ndarray's outcomes, the reference every backend is compared with: run
/// once per process, shared by the per-backend tests (`None` without the
/// ndarray feature).
fn reference(n: usize) -> Option<&'static Vec<String>> {
    static REFERENCE: std::sync::OnceLock<Option<Vec<String>>> = std::sync::OnceLock::new();
    REFERENCE
        .get_or_init(|| {
            Backend::NdArray
                .is_enabled()
                .then(|| run_backend(Backend::NdArray, n))
        })
        .as_ref()
}

/// Every case on `backend` in child processes: no panic, no abort, every
/// expectation met, and the same answers as ndarray. Prints the counts.
pub fn run(b: Backend) {
    let all = cases();
    let names: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
    let expects: Vec<Expect> = all.iter().map(|c| c.expect).collect();
    drop(all);
    {
        let mut seen = std::collections::HashSet::new();
        let twice: Vec<&String> = names.iter().filter(|n| !seen.insert(*n)).collect();
        assert!(twice.is_empty(), "case names given twice: {twice:?}");
    }
    let per_family = families(&names)
        .into_iter()
        .map(|(f, k)| format!("{f} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let n = names.len();
    let reference = reference(n);
    let outs = match reference {
        Some(r) if b == Backend::NdArray => r.clone(),
        _ => run_backend(b, n),
    };
    let mut failures = Vec::new();
    let (mut panics, mut crashes, mut differ, mut errs, mut unmet) = (0, 0, 0, 0, 0);
    for (i, o) in outs.iter().enumerate() {
        if o.starts_with("panic") {
            panics += 1;
            failures.push(format!("[{b}] {}: {o}", names[i]));
        } else if o.starts_with("crash") || o.is_empty() {
            crashes += 1;
            failures.push(format!("[{b}] {}: {o}", names[i]));
        } else {
            if o.starts_with("err") {
                errs += 1;
            }
            if let Some(u) = expects[i].unmet(b, o) {
                unmet += 1;
                failures.push(format!("[{b}] {}: {u}", names[i]));
            }
            let Some(r) = reference.filter(|_| expects[i].compared(b)) else {
                continue;
            };
            if let Some(d) = disagreement(b, &compared_as(&names[i]), &r[i], o) {
                differ += 1;
                failures.push(format!("[{b}] {} differs from ndarray: {d}", names[i]));
            }
        }
    }
    println!(
        "hostile [{b}]: {n} inputs tried, {errs} clear errors, {panics} panics, {crashes} aborts, {differ} disagreements with ndarray, {unmet} unmet expectations"
    );
    println!("hostile [{b}] families: {per_family}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(200)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
