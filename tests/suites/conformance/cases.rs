//! Reading the table's cases (JSON values to dtypes, shapes, host data
//! and scalars) and running one op as a case names it.

use super::*;

pub(crate) fn data() -> Value {
    let text = include_str!("../../data/conformance.json");
    serde_json::from_str(text).expect("conformance.json parses")
}

pub(crate) fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::Bool(b) => *b as u8 as f64,
        other => other.as_f64().expect("a number"),
    }
}

pub(crate) fn int(v: &Value) -> i64 {
    match v {
        Value::Bool(b) => *b as i64,
        other => other.as_i64().expect("an integer"),
    }
}

pub(crate) fn dtype_of(v: &Value) -> DType {
    v["dtype"]
        .as_str()
        .expect("dtype")
        .parse()
        .expect("known dtype")
}

pub(crate) fn shape_of(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|d| d.as_u64().expect("dim") as usize)
        .collect()
}

pub(crate) fn host_of(v: &Value) -> HostData {
    let d = v["data"].as_array().expect("data");
    let dtype = dtype_of(v);
    if dtype == DType::Bool {
        return HostData::Bool(d.iter().map(|x| x.as_bool().expect("bool")).collect());
    }
    if dtype.is_float() {
        return HostData::from_f64s(dtype, &d.iter().map(num).collect::<Vec<_>>());
    }
    // Integers exactly (u64 values beyond i64 included).
    let ints: Vec<Scalar> = d
        .iter()
        .map(|x| match x.as_u64() {
            Some(u) => Scalar::U64(u),
            None => Scalar::I64(int(x)),
        })
        .collect();
    let one = |s: &Scalar| s.cast("test", dtype).expect("the value fits its dtype");
    let mut h = HostData::filled("test", Scalar::I64(0), dtype, 0).expect("empty");
    macro_rules! fill {
        ($($v:ident),*) => {
            match &mut h {
                $(HostData::$v(out) => out.extend(ints.iter().map(|s| match one(s) {
                    Scalar::$v(x) => x,
                    _ => unreachable!(),
                })),)*
                _ => unreachable!(),
            }
        };
    }
    fill!(U8, I8, I16, U16, I32, U32, I64, U64);
    h
}

pub(crate) fn scalar_of(v: &Value) -> Scalar {
    let value = &v["value"];
    let dtype: DType = v["dtype"]
        .as_str()
        .expect("scalar dtype")
        .parse()
        .expect("dtype");
    let s = match value {
        Value::Bool(b) => Scalar::Bool(*b),
        _ => match value.as_i64() {
            Some(i) if !dtype.is_float() => Scalar::I64(i),
            _ => Scalar::F64(num(value)),
        },
    };
    s.cast("test", dtype).expect("the scalar fits its dtype")
}

/// A JSON number as a weak scalar: integers as `i64`, others as `f64`.
pub(crate) fn json_scalar(v: &Value) -> Scalar {
    match v.as_i64() {
        Some(i) => Scalar::I64(i),
        None => Scalar::F64(num(v)),
    }
}

pub(crate) fn isizes(v: &Value) -> Vec<isize> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| int(x) as isize)
        .collect()
}

pub(crate) fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| int(x) as usize)
        .collect()
}

pub(crate) fn opt_axes(v: &Value) -> Option<Vec<isize>> {
    if v.is_null() {
        None
    } else {
        Some(isizes(v))
    }
}

pub(crate) fn unary_op(name: &str) -> Option<ep::UnaryOp> {
    use ep::UnaryOp::*;
    Some(match name {
        "abs" => Abs,
        "neg" => Neg,
        "sign" => Sign,
        "sqrt" => Sqrt,
        "square" => Square,
        "exp" => Exp,
        "log" => Log,
        "log2" => Log2,
        "log10" => Log10,
        "log1p" => Log1p,
        "sin" => Sin,
        "cos" => Cos,
        "tan" => Tan,
        "sinh" => Sinh,
        "cosh" => Cosh,
        "tanh" => Tanh,
        "arcsin" => Arcsin,
        "arccos" => Arccos,
        "arctan" => Arctan,
        "arcsinh" => Arcsinh,
        "arccosh" => Arccosh,
        "arctanh" => Arctanh,
        "round" => Round,
        "ceil" => Ceil,
        "floor" => Floor,
        "isnan" => IsNan,
        "isinf" => IsInf,
        "logical_not" => LogicalNot,
        "sigmoid" => Sigmoid,
        "relu" => Relu,
        _ => return None,
    })
}

pub(crate) fn binary_op(name: &str) -> Option<ep::BinaryOp> {
    use ep::BinaryOp::*;
    Some(match name {
        "add" => Add,
        "sub" => Sub,
        "mul" => Mul,
        "div" => Div,
        "floor_div" => FloorDiv,
        "rem" => Rem,
        "pow" => Pow,
        "minimum" => Minimum,
        "maximum" => Maximum,
        "logical_and" => LogicalAnd,
        "logical_or" => LogicalOr,
        "lt" => Lt,
        "le" => Le,
        "gt" => Gt,
        "ge" => Ge,
        "eq" => Eq,
        "ne" => Ne,
        _ => return None,
    })
}

/// Calls the named binary method the way a user would.
pub(crate) fn call_binary(name: &str, x: &EagerTensor, rhs: Operand) -> ep::Result<EagerTensor> {
    match name {
        "add" => x.add(rhs),
        "sub" => x.sub(rhs),
        "mul" => x.mul(rhs),
        "div" => x.div(rhs),
        "floor_div" => x.floor_div(rhs),
        "rem" => x.rem(rhs),
        "pow" => x.pow(rhs),
        "minimum" => x.minimum(rhs),
        "maximum" => x.maximum(rhs),
        "logical_and" => x.logical_and(rhs),
        "logical_or" => x.logical_or(rhs),
        "lt" => x.lt(rhs),
        "le" => x.le(rhs),
        "gt" => x.gt(rhs),
        "ge" => x.ge(rhs),
        "eq" => x.eq(rhs),
        "ne" => x.ne(rhs),
        other => x.binary(binary_op(other).expect("binary op"), rhs),
    }
}

/// A scalar on the left, through the operators (`2.0 - &x`).
pub(crate) fn scalar_left(name: &str, s: f64, x: &EagerTensor) -> ep::Result<EagerTensor> {
    match name {
        "add" => s + x,
        "sub" => s - x,
        "mul" => s * x,
        "div" => s / x,
        "rem" => s % x,
        other => panic!("no scalar-left operator for {other}"),
    }
}

pub(crate) fn index_items(args: &Value, ins: &[EagerTensor]) -> Vec<IndexItem> {
    args["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|it| match it {
            Value::String(s) if s == "newaxis" => IndexItem::NewAxis,
            Value::String(s) if s == "ellipsis" => IndexItem::Ellipsis,
            Value::Object(o) if o.contains_key("int") => IndexItem::Int(int(&o["int"]).into()),
            Value::Object(o) if o.contains_key("slice") => {
                let s = o["slice"].as_array().expect("slice");
                let b = |v: &Value| {
                    if v.is_null() {
                        None
                    } else {
                        Some(int(v) as isize)
                    }
                };
                IndexItem::Slice {
                    start: b(&s[0]),
                    stop: b(&s[1]),
                    step: int(&s[2]) as isize,
                }
            }
            Value::Object(o) if o.contains_key("tensor") => {
                IndexItem::Tensor(ins[int(&o["tensor"]) as usize].clone())
            }
            other => panic!("bad index item {other}"),
        })
        .collect()
}

pub(crate) fn one(t: ep::Result<EagerTensor>) -> ep::Result<Vec<EagerTensor>> {
    t.map(|t| vec![t])
}

pub(crate) fn run(op: &str, ins: &[EagerTensor], args: &Value) -> ep::Result<Vec<EagerTensor>> {
    let x = ins.first();
    let x0 = || x.expect("an input");
    let keepdims = args["keepdims"].as_bool().unwrap_or(false);
    let axis = || int(&args["axis"]) as isize;
    if let Some(u) = unary_op(op) {
        // The named methods and `unary(op)` are the same path; use names for a few.
        return one(match op {
            "sqrt" => x0().sqrt(),
            "abs" => x0().abs(),
            "neg" => -x0(),
            _ => x0().unary(u),
        });
    }
    if binary_op(op).is_some() {
        if let Some(s) = args.get("scalar") {
            let s = scalar_of(s);
            if args["scalar_left"].as_bool().unwrap_or(false) {
                return one(scalar_left(op, s.to_f64(), x0()));
            }
            return one(call_binary(op, x0(), Operand::Scalar(s)));
        }
        return one(call_binary(op, x0(), Operand::Tensor(&ins[1])));
    }
    type All<'a> = &'a dyn Fn(&EagerTensor) -> ep::Result<EagerTensor>;
    type Axes<'a> = &'a dyn Fn(&EagerTensor, &[isize], bool) -> ep::Result<EagerTensor>;
    let reduce = |f: All, g: Axes| {
        one(match opt_axes(&args["axes"]) {
            None => f(x0()),
            Some(a) => g(x0(), &a, keepdims),
        })
    };
    let axes_norm = || -> ep::norms::Axes { ep::norms::Axes(opt_axes(&args["axes"])) };
    match op {
        "matmul" => one(x0().matmul(&ins[1])),
        "where_cond" => {
            let xs = args.get("x_scalar").map(scalar_of);
            let ys = args.get("y_scalar").map(scalar_of);
            let xo = xs
                .map(Operand::Scalar)
                .unwrap_or_else(|| Operand::Tensor(&ins[1]));
            let yo = ys
                .map(Operand::Scalar)
                .unwrap_or_else(|| Operand::Tensor(&ins[if xs.is_some() { 1 } else { 2 }]));
            one(ep::where_cond(x0(), xo, yo))
        }
        "astype" => one(x0().astype(args["dtype"].as_str().expect("dtype").parse()?)),
        "sum" => reduce(&|t| t.sum(), &|t, a, k| t.sum_axes(a, k)),
        "prod" => reduce(&|t| t.prod(), &|t, a, k| t.prod_axes(a, k)),
        "mean" => reduce(&|t| t.mean(), &|t, a, k| t.mean_axes(a, k)),
        "min" => reduce(&|t| t.min(), &|t, a, k| t.min_axes(a, k)),
        "max" => reduce(&|t| t.max(), &|t, a, k| t.max_axes(a, k)),
        "all" => reduce(&|t| t.all(), &|t, a, k| t.all_axes(a, k)),
        "any" => reduce(&|t| t.any(), &|t, a, k| t.any_axes(a, k)),
        "argmin" if args["axis"].is_null() => one(x0().argmin()),
        "argmin" => one(x0().argmin_axis(axis())),
        "argmax" if args["axis"].is_null() => one(x0().argmax()),
        "argmax" => one(x0().argmax_axis(axis())),
        "argsort" => one(x0().argsort(axis())),
        "sort" => one(x0().sort(axis())),
        "topk" => {
            let (v, i) = x0().topk(int(&args["k"]) as usize, true)?;
            Ok(vec![v, i])
        }
        "cumsum" if args["axis"].is_null() => one(x0().cumsum()),
        "cumsum" => one(x0().cumsum_axis(axis())),
        "reshape" => one(x0().reshape(isizes(&args["shape"]))),
        "reshape_t" => one(x0().t()?.reshape(isizes(&args["shape"]))),
        "flatten" => one(x0().flatten(int(&args["start"]) as isize, int(&args["end"]) as isize)),
        "transpose" => one(x0().transpose()),
        "t" => one(x0().t()),
        "permute" => one(x0().permute(usizes(&args["axes"]))),
        "expand_dims" => one(x0().expand_dims(axis())),
        "squeeze" => one(match opt_axes(&args["axes"]) {
            None => x0().squeeze(),
            Some(a) => x0().squeeze_axes(&a),
        }),
        "tile" => one(x0().tile(usizes(&args["reps"]))),
        "flip" => one(match opt_axes(&args["axes"]) {
            None => x0().flip(),
            Some(a) => x0().flip_axes(&a),
        }),
        "pad" => {
            let widths: Vec<(usize, usize)> = args["widths"]
                .as_array()
                .expect("widths")
                .iter()
                .map(|w| (int(&w[0]) as usize, int(&w[1]) as usize))
                .collect();
            let mode = match args["mode"].as_str() {
                Some("reflect") => ep::PadMode::Reflect,
                _ => ep::PadMode::Constant(num(&args["value"])),
            };
            one(x0().pad(&widths, mode))
        }
        "broadcast_to" => one(x0().broadcast_to(usizes(&args["shape"]))),
        "concatenate" => one(ep::concatenate(ins, axis())),
        "stack" => one(ep::stack(ins, axis())),
        "meshgrid" => {
            let ix = if args["indexing"] == "xy" {
                ep::Indexing::Xy
            } else {
                ep::Indexing::Ij
            };
            ep::meshgrid(ins, ix)
        }
        "iter" => Ok(x0().iter().collect()),
        "take_along_axis" => one(x0().take_along_axis(&ins[1], axis())),
        "onehot_like" => one(x0().onehot_like(&ins[1], int(&args["value"]))),
        "softmax" => one(x0().softmax(axis())),
        "log_softmax" => one(x0().log_softmax(axis())),
        "crossentropy" => one(x0().crossentropy(&ins[1])),
        "clip" => one(x0().clip(json_scalar(&args["min"]), json_scalar(&args["max"]))),
        "inv" => one(x0().inv()),
        "slogdet" => {
            let (s, l) = x0().slogdet()?;
            Ok(vec![s, l])
        }
        "zeros" => one(x0().zeros(usizes(&args["shape"]))),
        "ones" => one(ep::ones(x0(), usizes(&args["shape"]))),
        "full" => one(match &args["value"] {
            v if v.is_f64() => x0().full(usizes(&args["shape"]), num(v)),
            v => ep::full(x0(), usizes(&args["shape"]), int(v)),
        }),
        "zeros_like" => one(x0().zeros_like()),
        "ones_like" => one(ep::ones_like(x0())),
        "full_like" => one(ep::full_like(x0(), num(&args["value"]))),
        "arange" => one(ep::arange(
            x0(),
            int(&args["start"]),
            int(&args["stop"]),
            int(&args["step"]),
        )),
        "l0" => one(ep::norms::l0(x0(), axes_norm(), keepdims)),
        "l1" => one(x0().norms().l1(axes_norm(), keepdims)),
        "l2" => one(ep::norms::l2(x0(), axes_norm(), keepdims)),
        "linf" => one(ep::norms::linf(x0(), axes_norm(), keepdims)),
        "lp" => one(ep::norms::lp(x0(), num(&args["p"]), axes_norm(), keepdims)),
        "index" => one(x0().index(index_items(args, ins))),
        "index_update" => {
            let items = index_items(args, ins);
            one(match args.get("value_input") {
                Some(k) => x0().index_update(&items, &ins[int(k) as usize]),
                None => x0().index_update(&items, num(&args["value"])),
            })
        }
        other => panic!("the conformance runner does not know op {other:?}"),
    }
}
