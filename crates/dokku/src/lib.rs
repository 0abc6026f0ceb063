//! Dokku adapter (see the dokku issue).
