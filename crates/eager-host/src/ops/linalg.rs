//! The matrix products, inverse, log-determinant of [`HostTensor`].

use super::*;

fn matmul_float<T: Flt + HostElem + ndarray::LinalgScalar>(
    a: &Arr<T>,
    b: &Arr<T>,
) -> Result<HostTensor> {
    if a.ndim() == 2 {
        // The common case without the batch bookkeeping: one `dot`.
        let x = a
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|e| internal("matmul", e.to_string()))?;
        let y = b
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .map_err(|e| internal("matmul", e.to_string()))?;
        return Ok(T::wrap(x.dot(&y).into_dyn().into_shared()));
    }
    batched_matmul(a, b, |x, y| x.dot(&y))
}

fn matmul_int<T: Num + HostElem>(a: &Arr<T>, b: &Arr<T>) -> Result<HostTensor> {
    batched_matmul(a, b, |x, y| {
        let (m, k) = x.dim();
        let n = y.dim().1;
        let mut out = ndarray::Array2::from_elem((m, n), T::ZERO);
        for i in 0..m {
            for p in 0..k {
                let xv = x[(i, p)];
                for j in 0..n {
                    out[(i, j)] = out[(i, j)].add_(xv.mul_(y[(p, j)]));
                }
            }
        }
        out
    })
}

fn batched_matmul<T: HostElem>(
    a: &Arr<T>,
    b: &Arr<T>,
    f: impl Fn(ArrayView2<T>, ArrayView2<T>) -> ndarray::Array2<T>,
) -> Result<HostTensor> {
    let op = "matmul";
    let nd = a.ndim();
    let (m, k, n) = (a.shape()[nd - 2], a.shape()[nd - 1], b.shape()[nd - 1]);
    let batch: usize = a.shape()[..nd - 2].iter().product();
    let a3 = a
        .as_standard_layout()
        .into_shape_with_order((batch, m, k))
        .map_err(|e| internal(op, e.to_string()))?;
    let b3 = b
        .as_standard_layout()
        .into_shape_with_order((batch, k, n))
        .map_err(|e| internal(op, e.to_string()))?;
    let mut data = Vec::with_capacity(batch * m * n);
    for i in 0..batch {
        let r = f(a3.index_axis(Axis(0), i), b3.index_axis(Axis(0), i));
        data.extend(r.iter().copied());
    }
    let mut shape = a.shape()[..nd - 2].to_vec();
    shape.extend([m, n]);
    from_vec(op, data, &shape)
}

fn square_matrices<T: Elem>(a: &Arr<T>) -> (usize, usize, Vec<f64>) {
    let nd = a.ndim();
    let n = a.shape()[nd - 1];
    let batch = a.shape()[..nd - 2].iter().product();
    (batch, n, a.iter().map(|x| x.to_f64()).collect())
}

fn from_f64s<T: HostElem>(op: &'static str, v: Vec<f64>, shape: &[usize]) -> Result<HostTensor> {
    from_vec(
        op,
        v.into_iter().map(T::from_f64).collect::<Vec<T>>(),
        shape,
    )
}

/// The ops of the contract ([`BackendTensor`](eager_core::BackendTensor)),
/// with its names and meanings, for the backends that run them on the host.
impl HostTensor {
    /// [`LinalgOps::matmul`](eager_core::LinalgOps::matmul) on the host.
    pub fn matmul(&self, rhs: &Self) -> Result<Self> {
        let bad = || internal("matmul", "operands must have one numeric dtype");
        match (self, rhs) {
            (HostTensor::F16(_), HostTensor::F16(_))
            | (HostTensor::BF16(_), HostTensor::BF16(_)) => {
                let r = rhs.cast(DType::F32)?;
                self.via_f32(|t| t.matmul(&r))
            }
            (HostTensor::F32(a), HostTensor::F32(b)) => matmul_float(a, b),
            (HostTensor::F64(a), HostTensor::F64(b)) => matmul_float(a, b),
            (HostTensor::Bool(_), _) => Err(bad()),
            _ => {
                each_num!(self, a => matmul_int(a, HostElem::peek(rhs).ok_or_else(bad)?), _b => Err(bad()))
            }
        }
    }
    /// [`LinalgOps::inv`](eager_core::LinalgOps::inv) on the host.
    pub fn inv(&self) -> Result<Self> {
        fn run<T: HostElem>(a: &Arr<T>) -> Result<HostTensor> {
            let (batch, n, data) = square_matrices(a);
            let mut out = Vec::with_capacity(data.len());
            for b in 0..batch {
                let m = crate::linalg::inv(&data[b * n * n..(b + 1) * n * n], n)
                    .ok_or_else(|| Error::invalid("inv", "the matrix is singular"))?;
                out.extend(m);
            }
            from_f64s::<T>("inv", out, a.shape())
        }
        match self {
            HostTensor::F16(a) => run(a),
            HostTensor::BF16(a) => run(a),
            HostTensor::F32(a) => run(a),
            HostTensor::F64(a) => run(a),
            _ => Err(internal("inv", "takes float tensors")),
        }
    }
    /// [`LinalgOps::slogdet`](eager_core::LinalgOps::slogdet) on the host.
    pub fn slogdet(&self) -> Result<(Self, Self)> {
        fn run<T: HostElem>(a: &Arr<T>) -> Result<(HostTensor, HostTensor)> {
            let (batch, n, data) = square_matrices(a);
            let (signs, logs): (Vec<f64>, Vec<f64>) = (0..batch)
                .map(|b| crate::linalg::slogdet(&data[b * n * n..(b + 1) * n * n], n))
                .unzip();
            let shape = &a.shape()[..a.ndim() - 2];
            Ok((
                from_f64s::<T>("slogdet", signs, shape)?,
                from_f64s::<T>("slogdet", logs, shape)?,
            ))
        }
        match self {
            HostTensor::F16(a) => run(a),
            HostTensor::BF16(a) => run(a),
            HostTensor::F32(a) => run(a),
            HostTensor::F64(a) => run(a),
            _ => Err(internal("slogdet", "takes float tensors")),
        }
    }
}
