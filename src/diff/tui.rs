//! The two-lane ladder (placeholder until drawn).
use super::run::Loaded;
use std::process::ExitCode;

pub fn run(_l: &Loaded) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the two-lane ladder is not ready yet")
}
