//! The `cargo xtask` commands that call AWS: `bootstrap`, `diff`, `deploy`, `destroy`, `failover`,
//! `failback`, `status` and `drill`. Their flags are parsed by the offline `xtask` crate (one command line, one
//! `--help`); `cargo xtask` hands these commands here, so only they pay for compiling the AWS
//! SDK. Every command takes its arguments and a writer, as in `xtask`.

pub mod aws;
pub mod bootstrap;
pub mod buckets;
pub mod changes;
pub mod cleanup;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod drill;
pub mod phases;
pub mod runbook;
pub mod stack;
pub mod status;
