//! The README, CONTRIBUTING.md and docs/ pages as doctests: `cargo test -p agent-mesh --doc`
//! compiles and runs every ```rust block of these files (a block tagged `rust,no_run` needs a
//! network service and is compiled only). Blocks in other languages are not Rust to rustdoc;
//! the Python and JavaScript ones run in tests/docs/test_snippets.py and
//! bindings-node/test/docs_snippets.test.js, which also check that every file holding ```rust
//! blocks is listed here. Compiled for doctests only (`#[cfg(doctest)]` in lib.rs).

#[doc = include_str!("../../README.md")]
mod readme {}

#[doc = include_str!("../../CONTRIBUTING.md")]
mod contributing {}

#[doc = include_str!("../../docs/api.md")]
mod api {}

#[doc = include_str!("../../docs/events.md")]
mod events {}

#[doc = include_str!("../../docs/timeline.md")]
mod timeline {}

#[doc = include_str!("../../docs/workflows.md")]
mod workflows {}

#[doc = include_str!("../../docs/tools.md")]
mod tools {}

#[doc = include_str!("../../docs/data-layout.md")]
mod data_layout {}

#[doc = include_str!("../../docs/aws.md")]
mod aws {}

#[doc = include_str!("../../docs/limits.md")]
mod limits {}

#[doc = include_str!("../../docs/testing.md")]
mod testing {}

#[doc = include_str!("../../docs/tenancy.md")]
mod tenancy {}
