//! Cross-crate contract tests live in `tests/tests/`: every platform crate, reached through the
//! umbrella's `Box<dyn Connector>` registry, against the sandbox of
//! [`connectors::sandbox`] (the same fakes `connectors demo` tours).

use conn_core::env::{Env, MapEnv};
use connectors::sandbox::Sandbox;

/// An [`Env`] with the variables pointing at `sandbox`, with `overrides` applied on top.
pub fn env(sandbox: &Sandbox, overrides: &[(&str, &str)]) -> Env {
    let mut map: MapEnv = sandbox.env_vars().into_iter().collect();
    for (k, v) in overrides {
        map = map.set(*k, *v);
    }
    Env::from_source(map)
}
