//! Drydock's Dokku adapter: everything that talks to Dokku, and a simulator
//! of it.
//!
//! * [`command`] — the only builder of dokku-daemon command lines (the
//!   security boundary: typed arguments, every token re-checked);
//! * [`reply`] — tolerant parsing of the daemon's not-quite-JSON replies;
//! * [`client`] — the socket client (timeouts, reconnect, one command in flight);
//! * [`platform`] — [`DokkuPlatform`], the `drydock_domain::platform::Platform`
//!   implementation;
//! * [`sim`] — `dokku-sim`, a protocol-faithful in-memory dokku-daemon for
//!   tests and the demo mode.
//!
//! `shared/dokku-commands.md` is the reference for every command used here;
//! `docs/dokku.md` explains the choices.

mod archive;
pub mod client;
pub mod command;
mod image;
pub mod platform;
mod process_types;
pub mod reply;
pub mod settings;
pub mod sim;
mod spool;

pub use client::DaemonClient;
pub use platform::DokkuPlatform;
pub use settings::DaemonSettings;
