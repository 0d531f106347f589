//! The conn-redis tests need a real `redis-server` (they start their own, one per test).
//! On a fresh CI machine it is installed here before the test step: `apt-get update` then
//! `apt-get install -y redis-server`, only when `redis-server` is not on PATH and only when
//! running as root (elsewhere it prints what to run). The tests themselves fail under `CI`
//! when the server is missing, so a machine where this could not install it is not green.

use std::process::{Command, Stdio};

const SERVER: &str = "redis-server";

fn on_path() -> bool {
    Command::new(SERVER)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(args: &[&str]) -> Result<(), String> {
    println!("    $ {}", args.join(" "));
    let status = Command::new(args[0])
        .args(&args[1..])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("could not run {}: {e}", args[0]))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", args.join(" ")))
    }
}

/// Makes sure `redis-server` is installed before the tests run.
pub fn ensure_server() -> Result<(), String> {
    if on_path() {
        return Ok(());
    }
    if !is_root() {
        println!(
            "    {SERVER} not found and not running as root: install it (apt-get install -y redis-server); \
             the conn-redis tests fail under CI without it"
        );
        return Ok(());
    }
    println!("    {SERVER} not found; installing it");
    run(&["apt-get", "update"])?;
    run(&["apt-get", "install", "-y", "redis-server"])?;
    if on_path() {
        Ok(())
    } else {
        Err(format!(
            "{SERVER} is still not on PATH after apt-get install"
        ))
    }
}
