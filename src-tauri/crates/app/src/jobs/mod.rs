//! The jobs as a long-lived front end (the window) calls them: on a [`Session`], async, each a
//! few lines over the shared jobs of the domain modules ([`crate::views`], [`crate::sources`],
//! [`crate::workspace`], [`crate::realtime`], [`crate::models`], [`crate::trust`]), which the CLI calls directly.
//! Nothing in a domain module depends on the session, so the two layers never form a cycle.
//!
//! [`Session`]: crate::session::Session

pub mod realtime;
pub mod runs;
pub mod sources;
pub mod statement;
pub mod trust;
pub mod views;
pub mod workspace;
