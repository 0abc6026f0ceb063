//! End-to-end tests: the real router over real HTTP on loopback, on SQLite and
//! PostgreSQL, with dokku-sim as the daemon over a real Unix socket.

mod harness;

mod apps;
mod auth;
mod concurrency;
mod config_releases;
mod crash;
mod db_faults;
mod domains_certs;
mod faults;
mod fidelity;
mod git_push;
mod hardening;
mod hostile;
mod http;
mod keys_perms;
mod permission_matrix;
mod pods;
mod reconcile;
mod tenants;
mod users;
