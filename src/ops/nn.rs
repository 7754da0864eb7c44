//! Neural-network helpers composed from the primitives: `softmax`,
//! `log_softmax` and `crossentropy`.

use super::*;

methods_and_fns! {
    /// Softmax along `axis` (integers compute in f64).
    pub fn softmax(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let x = self.cast_to(self.dtype().to_float())?;
        let e = x.sub(&x.max_axes([axis], true)?)?.exp()?;
        e.div(&e.sum_axes([axis], true)?)
    }
    /// Log-softmax along `axis`, computed stably.
    pub fn log_softmax(&self, axis: impl crate::args::IntoAxis) -> Result<EagerTensor> {
        let axis = axis.into_axis();
        let x = self.cast_to(self.dtype().to_float())?;
        let shifted = x.sub(&x.max_axes([axis], true)?)?;
        shifted.sub(&shifted.exp()?.sum_axes([axis], true)?.log()?)
    }
    /// Per-row cross-entropy of 2-D logits `self` against 1-D integer
    /// `labels` (class indices): `-log_softmax(self)[i, labels[i]]`.
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let logits = ep::astensor(ep::ndarray::arr2(&[[0.0f64, 0.0], [0.0, 3f64.ln()]]));
    /// let labels = ep::astensor(ep::ndarray::arr1(&[0i64, 1]));
    /// let ce = logits.crossentropy(&labels)?.to_vec::<f64>()?;
    /// assert!((ce[0] - 2f64.ln()).abs() < 1e-12); // -log(1/2)
    /// assert!((ce[1] - (4.0f64 / 3.0).ln()).abs() < 1e-12); // -log(3/4)
    /// assert_eq!(ep::crossentropy(&logits, &labels.index(ep::s![..1])?).unwrap_err().op(), "crossentropy");
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn crossentropy(&self, labels: &EagerTensor) -> Result<EagerTensor> {
        let op = "crossentropy";
        let (s, l) = (self.shape(), labels.shape());
        if s.len() != 2 || l.len() != 1 || s[0] != l[0] {
            return Err(Error::shape(
                op,
                format!("needs 2-D logits and 1-D labels of matching length, got {s:?} and {l:?}"),
            ));
        }
        let idx = labels.reshape([-1, 1])?;
        let picked = self.log_softmax(-1)?.take_along_axis_named(op, &idx, -1)?;
        picked.reshape([-1])?.neg()
    }
}
