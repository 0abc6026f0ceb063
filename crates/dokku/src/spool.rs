//! Files Drydock hands to Dokku (release archives, certificates, ssh keys).
//!
//! The spool directory is shared with the Dokku host at the same absolute
//! path, so a file written here can be named in a command. Each file gets an
//! unguessable name, is created exclusively (never follows an existing path),
//! and is removed when its [`SpoolFile`] is dropped — after the command that
//! reads it, whether that command succeeded or not.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use drydock_domain::platform::PlatformError;

/// Permissions for files only Dokku's user should read (private keys).
pub const PRIVATE_MODE: u32 = 0o640;
/// Permissions for files that are not secret (archives, certificates, public keys).
pub const PUBLIC_MODE: u32 = 0o644;

/// Writes files into the spool directory.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// A spool over `dir`, which must be an absolute path of safe characters
    /// (checked on each write, so a bad setting surfaces as a typed error).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Writes `contents` to a fresh file `drydock-<random>.<ext>` with `mode`.
    pub fn write(
        &self,
        ext: &'static str,
        contents: &[u8],
        mode: u32,
    ) -> Result<SpoolFile, PlatformError> {
        let shown = self.dir.display();
        let text = self.dir.to_str().unwrap_or_default();
        if !self.dir.is_absolute()
            || text.is_empty()
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
        {
            return Err(PlatformError::InvalidArgument(format!(
                "spool directory {shown} must be an absolute path of A-Z a-z 0-9 / . _ - only"
            )));
        }
        let name = format!("drydock-{}.{ext}", uuid::Uuid::new_v4().simple());
        let path = self.dir.join(name);
        let io_err = |e: std::io::Error| {
            PlatformError::Unavailable(format!("cannot write spool file in {shown}: {e}"))
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .map_err(io_err)?;
        let spooled = SpoolFile { path };
        file.write_all(contents).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        Ok(spooled)
    }
}

impl Spool {
    /// Removes Drydock's files (`drydock-*`) older than `age`: the ones a
    /// crash left behind, private keys among them. Younger files may belong
    /// to a command another Drydock process is running on the same spool.
    /// Returns how many were removed; anything else in the directory is left.
    pub fn sweep(&self, age: std::time::Duration) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let now = std::time::SystemTime::now();
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().starts_with("drydock-") {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            let old = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|a| a > age);
            if meta.is_file() && old {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) => {
                        tracing::warn!(path = %entry.path().display(), error = %e, "could not remove a stale spool file");
                    }
                }
            }
        }
        removed
    }
}

/// A file in the spool directory, removed when dropped.
#[derive(Debug)]
pub struct SpoolFile {
    path: PathBuf,
}

impl SpoolFile {
    /// Its absolute path, as Dokku sees it too.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove spool file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().to_path_buf());
        let f = spool.write("txt", b"hello", PUBLIC_MODE).unwrap();
        let path = f.path().to_path_buf();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        drop(f);
        assert!(!path.exists());
    }

    #[test]
    fn sweeps_only_its_own_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().to_path_buf());
        let old = dir.path().join("drydock-left-by-a-crash.key");
        let other = dir.path().join("operator-notes.txt");
        for p in [&old, &other] {
            let f = std::fs::File::create(p).unwrap();
            f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
                .unwrap();
        }
        let fresh = spool.write("tar", b"in flight", PUBLIC_MODE).unwrap();
        assert_eq!(spool.sweep(std::time::Duration::from_secs(3600)), 1);
        assert!(!old.exists());
        assert!(other.exists(), "not Drydock's");
        assert!(fresh.path().exists(), "too young to be stale");
    }

    #[test]
    fn refuses_unsafe_directories() {
        for bad in ["relative/dir", "/tmp/with space", "/tmp/x<y"] {
            let spool = Spool::new(PathBuf::from(bad));
            assert!(matches!(
                spool.write("txt", b"x", PUBLIC_MODE),
                Err(PlatformError::InvalidArgument(_))
            ));
        }
    }
}
