//! Everything the facade generates from the backend table
//! ([`eager_core::for_each_backend!`]): the re-exports, the
//! [`EagerTensor`](crate::EagerTensor) variants, the routing macros every
//! op goes through, the native conversions of each backend's tensor type,
//! and the check that a build has a backend. Nothing here names a backend:
//! a new row in the table reaches every place below.
//!
//! Each callback takes the table's rows in the form the table documents.
//! The routing macros are generated with `$d` standing for `$` (the table
//! passes it through), so a generated macro's own repetitions (the tensors
//! of one call) sit inside the repetition over the rows.

/// The tensor types, the framework crates the backends re-export, the
/// `backends` module, and the error for a build without a backend.
macro_rules! reexports {
    (; $([$feature:tt $module:ident $variant:ident $krate:ident $tensor:ident [$($reexport:ident)*] $what:tt [$($name:tt)+] $doc:tt $holds:tt])*) => {
        $(
            #[cfg(feature = $feature)]
            pub use $krate::{$($reexport,)* $tensor};
        )*

        /// The backend crates, for code that needs a backend's own types.
        pub mod backends {
            $(
                #[cfg(feature = $feature)]
                pub use $krate as $module;
            )*
        }

        #[cfg(not(any($(feature = $feature),*)))]
        compile_error!(concat!(
            "eager-tensor needs at least one backend feature:" $(, " ", $feature)*
        ));
    };
}

/// `Native` and `NativeRef` for a backend's tensor type held by `$variant`.
macro_rules! backend_native {
    ($variant:ident, $ty:ty, $what:literal) => {
        impl $crate::Native for $ty {
            type AnyDType = $ty;
            #[inline]
            fn from_eager(t: $crate::EagerTensor) -> $crate::Result<Self> {
                #[allow(unreachable_patterns)]
                match t {
                    $crate::EagerTensor::$variant(x) => Ok(x),
                    other => Err($crate::native::wrong_native(&other, $what)),
                }
            }
            fn to_eager(&self) -> $crate::EagerTensor {
                $crate::EagerTensor::$variant(self.clone())
            }
        }
        impl $crate::NativeRef for $ty {
            fn ref_from_eager(t: &$crate::EagerTensor) -> $crate::Result<&Self> {
                #[allow(unreachable_patterns)]
                match t {
                    $crate::EagerTensor::$variant(x) => Ok(x),
                    other => Err($crate::native::wrong_native(other, $what)),
                }
            }
        }
    };
}

/// [`EagerTensor`](crate::EagerTensor): one variant per backend, plus the
/// tensors being differentiated.
macro_rules! eager_tensor {
    (; $([$feature:tt $module:ident $variant:ident $krate:ident $tensor:ident [$($reexport:ident)*] $what:tt [$($name:tt)+] $doc:tt $holds:tt])*) => {
        /// A tensor of any enabled backend, holding that framework's native handle.
        ///
        /// Every operation is routed to the framework that owns the tensor and
        /// returns [`Result`], so chains read `x.square()?.sum()?.sqrt()?`. Cloning
        /// is cheap: the clone shares the buffer. Every method also exists as a
        /// free function (`ep::abs(&x)`, `ep::clip(&x, 0.0, 1.0)`, EagerPy's
        /// spelling); creating tensors *like* `x` as methods (`x.zeros(shape)`,
        /// `x.ones(..)`, `x.full(..)`) needs `use eager_tensor::prelude::*`.
        ///
        /// ```
        /// use eager_tensor as ep;
        /// let x = ep::astensor(ndarray::arr1(&[3.0f32, 4.0]).into_dyn());
        /// let n = x.square()?.sum()?.sqrt()?;
        /// assert_eq!(n.item::<f32>()?, 5.0);
        /// # Ok::<(), ep::Error>(())
        /// ```
        #[enum_dispatch::enum_dispatch(DynOps)]
        #[derive(Clone)]
        pub enum EagerTensor {
            $(
                #[cfg(feature = $feature)]
                #[doc = $holds]
                $variant($krate::$tensor),
            )*
            /// A tensor being differentiated inside [`value_and_grad`](crate::value_and_grad)
            /// and friends: a value of one of the other variants plus its place on
            /// the autodiff tape. Every operation accepts it; [`detach`](Self::detach)
            /// gives the plain value.
            Traced(crate::autodiff::Traced),
        }

        $(
            #[cfg(feature = $feature)]
            backend_native!($variant, $krate::$tensor, $what);
        )*
    };
}

/// The routing macros, each a `match` over the rows:
///
/// - `same_backend!("op", (a, b), |x, y| expr)`: an op over a fixed number
///   of tensors, all of one backend (`expr` returns `Result<its tensor>`);
///   tensors of different backends give [`Error::BackendMismatch`](crate::Error)
///   naming the op;
/// - `same_backend_list!("op", ts, |xs| expr)`: the same over a slice;
/// - `with_backend!("op", backend, |B| expr)`: `expr` with `B` the tensor
///   type of `backend` (an `unsupported` error for a backend not compiled
///   in); `on_backend!` is the same for an `expr` giving `Result<B>`;
/// - `each_enabled!(|B| expr)`: `expr` once per backend compiled in.
macro_rules! routing {
    ($d:tt ; $([$feature:tt $module:ident $variant:ident $krate:ident $tensor:ident [$($reexport:ident)*] $what:tt [$($name:tt)+] $doc:tt $holds:tt])*) => {
        macro_rules! same_backend {
            ($d op:expr, ($d($d t:expr),+), |$d($d x:ident),+| $d body:expr) => {{
                #[allow(unused_imports)]
                use eager_core::ops::prelude::*;
                #[allow(unreachable_patterns)]
                match ($d($d t,)+) {
                    $(
                        #[cfg(feature = $feature)]
                        ($d($crate::EagerTensor::$variant($d x),)+) => {
                            $d($d x.native_dtype_ok()?;)+
                            ($d body).map($crate::EagerTensor::from)
                        }
                    )*
                    _ => Err($crate::tensor::mismatch($d op, &[$d($d t),+])),
                }
            }};
        }

        macro_rules! same_backend_list {
            ($d op:expr, $d ts:expr, |$d xs:ident| $d body:expr) => {{
                let ts: &[&$crate::EagerTensor] = $d ts;
                match ts.first().map(|t| t.backend()) {
                    $(
                        #[cfg(feature = $feature)]
                        Some($crate::Backend::$variant) => {
                            let $d xs = ts
                                .iter()
                                .map(|t| match t {
                                    $crate::EagerTensor::$variant(x) => {
                                        $crate::TensorBase::native_dtype_ok(x).map(|_| x)
                                    }
                                    #[allow(unreachable_patterns)]
                                    _ => Err($crate::tensor::mismatch($d op, ts)),
                                })
                                .collect::<$crate::Result<Vec<_>>>()?;
                            ($d body).map($crate::EagerTensor::from)
                        }
                    )*
                    _ => Err($crate::Error::invalid($d op, "needs at least one tensor")),
                }
            }};
        }

        macro_rules! with_backend {
            ($d op:expr, $d backend:expr, |$d B:ident| $d body:expr) => {{
                match $d backend {
                    $(
                        #[cfg(feature = $feature)]
                        $crate::Backend::$variant => {
                            type $d B = $krate::$tensor;
                            $d body
                        }
                    )*
                    #[allow(unreachable_patterns)]
                    other => Err($crate::tensor::not_enabled($d op, other)),
                }
            }};
        }

        macro_rules! each_enabled {
            (|$d B:ident| $d body:expr) => {{
                $(
                    #[cfg(feature = $feature)]
                    {
                        type $d B = $krate::$tensor;
                        $d body;
                    }
                )*
            }};
        }
    };
}
eager_core::for_each_backend!(routing $);

/// `with_backend!` for an `expr` that gives the backend's tensor.
macro_rules! on_backend {
    ($op:expr, $backend:expr, |$B:ident| $body:expr) => {
        with_backend!($op, $backend, |$B| ($body).map($crate::EagerTensor::from))
    };
}
