//! The user guide's chapters (`docs/guide/src`), compiled and run as
//! doctests (`cargo test --doc`): one item per chapter with Rust code blocks.

#[doc = include_str!("../docs/guide/src/introduction.md")]
pub struct Introduction;
#[doc = include_str!("../docs/guide/src/getting-started.md")]
pub struct GettingStarted;
#[doc = include_str!("../docs/guide/src/writing-once.md")]
pub struct WritingOnce;
#[doc = include_str!("../docs/guide/src/gradients.md")]
pub struct Gradients;
#[doc = include_str!("../docs/guide/src/jit.md")]
pub struct Jit;
// Its examples move tensors between torch and xla.
#[cfg(all(feature = "torch", feature = "xla"))]
#[doc = include_str!("../docs/guide/src/files.md")]
pub struct Files;
#[doc = include_str!("../docs/guide/src/porting.md")]
pub struct Porting;
