//! Records the compiler version and git commit for `/version`.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(&rustc, &["--version"]);
    let version = version.split_whitespace().nth(1).unwrap_or("unknown");
    println!("cargo:rustc-env=BERTH_RUSTC_VERSION=rustc{version}");
    println!(
        "cargo:rustc-env=BERTH_GIT_COMMIT={}",
        output("git", &["rev-parse", "--short=7", "HEAD"])
    );
    println!("cargo:rerun-if-changed=build.rs");
}
