//! The backend table is the one place that lists the backends: outside it
//! (`crates/eager-core/src/backend.rs`), a backend is named only by its own
//! crate (`crates/eager-<name>/`) and by the facade's file for its
//! framework's own types (`src/native/<name>.rs`). This test reads the
//! library sources (`src/`, `crates/*/src/`; documentation aside: comments,
//! doc examples, and `src/guide.rs`, which compiles the guide's chapters as
//! doctests) and fails on any other mention: a backend's crate path, tensor
//! type, `Backend::`/`EagerTensor::` variant, or cargo feature. Tests,
//! benches and examples use the API as users do and may name backends.

use std::path::{Path, PathBuf};

/// A row of the table, as the names the sources would use.
struct Row {
    feature: &'static str,
    variant: &'static str,
    krate: &'static str,
    tensor: &'static str,
}

macro_rules! rows {
    (; $([$feature:tt $module:ident $variant:ident $krate:ident $tensor:ident [$($reexport:ident)*] $what:tt [$($name:tt)+] $doc:tt $holds:tt])*) => {
        vec![$(Row {
            feature: $feature,
            variant: stringify!($variant),
            krate: stringify!($krate),
            tensor: stringify!($tensor),
        }),*]
    };
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The library sources, relative to the repository root.
fn library_sources(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    files
        .into_iter()
        .map(|f| f.strip_prefix(root).unwrap().to_path_buf())
        .collect()
}

/// Whether `word` occurs in `line` as a whole identifier.
fn names(line: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The mentions of backends in `root`'s library sources where the table
/// does not allow them, as `file:line: text`.
fn misplaced_mentions(root: &Path) -> Vec<String> {
    let rows: Vec<Row> = eager_core::for_each_backend!(rows);
    let table = Path::new("crates/eager-core/src/backend.rs");
    let mut found = Vec::new();
    for file in library_sources(root) {
        if file == table || file == Path::new("src/guide.rs") {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&file)).unwrap();
        for row in &rows {
            let own_crate = Path::new("crates").join(row.krate.replace('_', "-"));
            let own_natives = Path::new("src/native").join(format!("{}.rs", row.feature));
            if file.starts_with(&own_crate) || file == own_natives {
                continue;
            }
            let spellings = [
                row.krate.to_string(),
                row.tensor.to_string(),
                format!("Backend::{}", row.variant),
                format!("EagerTensor::{}", row.variant),
            ];
            let feature = format!("feature = \"{}\"", row.feature);
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                let code = line.split(" // ").next().unwrap_or(line);
                if spellings.iter().any(|s| names(code, s)) || code.contains(&feature) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn backends_are_named_only_by_the_table_and_their_own_crates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = misplaced_mentions(root);
    assert!(
        found.is_empty(),
        "backends named outside the backend table, their crates and src/native/:\n{}",
        found.join("\n")
    );
}

/// The check can fail: a file naming a backend outside its crate is found.
#[test]
fn a_backend_named_elsewhere_is_found() {
    let dir = std::env::temp_dir().join(format!("eager-table-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("native")).unwrap();
    std::fs::create_dir_all(dir.join("crates/eager-torch/src")).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "// eager_torch in a comment is fine\nfn f() { eager_torch::seed(1); }\n\
         #[cfg(feature = \"xla\")]\nfn g(t: &EagerTensor) { matches!(t, EagerTensor::Candle(_)); }\n\
         fn h() -> Backend { Backend::NdArray } // TorchTensor after code is fine\n",
    )
    .unwrap();
    std::fs::write(src.join("native/torch.rs"), "use eager_torch::tch;\n").unwrap();
    std::fs::write(
        dir.join("crates/eager-torch/src/lib.rs"),
        "pub struct TorchTensor; const B: Backend = Backend::Torch;\n",
    )
    .unwrap();
    let mut found = misplaced_mentions(&dir);
    found.sort();
    std::fs::remove_dir_all(&dir).unwrap();
    let lines: Vec<&str> = found
        .iter()
        .map(|f| f.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "src/lib.rs:2",
            "src/lib.rs:3",
            "src/lib.rs:4",
            "src/lib.rs:5"
        ],
        "{found:#?}"
    );
}
