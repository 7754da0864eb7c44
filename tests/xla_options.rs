//! The PJRT client's create options (`EAGER_TENSOR_XLA_CLIENT_OPTIONS`,
//! `set_client_options`), each in a child process: the client is created
//! once per process.
#![cfg(feature = "xla")]

use eager_tensor::{Backend, EagerTensor};
use std::process::Command;

/// The child: creates an xla tensor and prints the outcome.
#[test]
#[ignore = "the entry point of the child processes of client_options_apply_at_creation"]
fn xla_options_child() {
    match EagerTensor::from_vec(Backend::Xla, vec![1.0f32, 2.0], [2]).and_then(|t| t.sum()) {
        Ok(t) => println!("CHILD ok {}", t.item::<f32>().unwrap()),
        Err(e) => println!("CHILD err {e}"),
    }
}

fn child(options: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["xla_options_child", "--ignored", "--exact", "--nocapture"])
        .env("EAGER_TENSOR_XLA_CLIENT_OPTIONS", options)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find(|l| l.starts_with("CHILD "))
        .unwrap_or_else(|| panic!("no child outcome: {text}"))
        .to_string()
}

#[test]
fn client_options_apply_at_creation() {
    assert_eq!(child(""), "CHILD ok 3");
    assert_eq!(child("cpu_device_count=1"), "CHILD ok 3");
    // The plugin refuses what it does not know, and the error says so.
    let e = child("intra_op_parallelism_threads=1");
    assert!(
        e.starts_with("CHILD err") && e.contains("Unexpected option name"),
        "{e}"
    );
    let e = child("no_equals_sign");
    assert!(e.contains("is not name=value"), "{e}");
}
