//! Fisher's Iris table (shipped in `examples/data`), shared by the examples
//! that train on it (`#[path]`-included: not an example of its own).

use eager_tensor::{self as ep, Backend, EagerTensor};

const IRIS: &str = include_str!("../data/iris.csv");

/// Features (150 x 4, f32) and labels (150, i64) of the Iris table.
pub fn load(backend: Backend) -> ep::Result<(EagerTensor, EagerTensor)> {
    let bad = |line: usize| ep::Error::invalid("load iris", format!("line {line} is malformed"));
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (i, line) in IRIS.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.trim().split(',').collect();
        if cols.len() != 5 {
            return Err(bad(i + 1));
        }
        for c in &cols[..4] {
            x.push(c.parse::<f32>().map_err(|_| bad(i + 1))?);
        }
        y.push(cols[4].parse::<i64>().map_err(|_| bad(i + 1))?);
    }
    let n = y.len();
    Ok((
        EagerTensor::from_vec(backend, x, [n, 4])?,
        EagerTensor::from_vec(backend, y, [n])?,
    ))
}
