//! Integration tests: `DokkuPlatform` and raw clients against `dokku-sim`
//! over real Unix sockets in temporary directories.

mod faults;
mod fuzz;
mod harness;
mod platform;
mod protocol;
