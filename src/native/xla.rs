//! xla has no native type beyond its tensor, `XlaTensor` (PJRT buffers
//! are the backend's own), which the backend table converts.
