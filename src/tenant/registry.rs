//! The registry file: every tenant's record (limits, state, token hashes) as TOML, so tenants
//! and their credentials survive a restart even before data persistence exists.
//!
//! Writes are atomic (temp file in the same directory, fsync, rename, fsync of the directory):
//! a crash leaves either the old or the new registry, never a torn one. A background thread
//! coalesces changes, so a burst of TENANT.CREATE costs one write, not one per tenant;
//! `flush` writes synchronously (shutdown, tests).

use super::TenantRecord;
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, warn};

const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    #[serde(default)]
    tenants: Vec<TenantRecord>,
}

/// Reads the registry; a missing file is an empty registry.
pub fn load(path: &Path) -> Result<Vec<TenantRecord>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot read tenant registry {}: {e}",
                path.display()
            ))
        }
    };
    let snap: Snapshot = toml::from_str(&text)
        .map_err(|e| format!("tenant registry {} is corrupt: {e}", path.display()))?;
    if snap.version != FORMAT_VERSION {
        return Err(format!(
            "tenant registry {} has format version {}, this build reads {FORMAT_VERSION}",
            path.display(),
            snap.version
        ));
    }
    Ok(snap.tenants)
}

/// Writes the registry atomically.
pub fn write_atomic(path: &Path, tenants: Vec<TenantRecord>) -> std::io::Result<()> {
    let text = toml::to_string(&Snapshot {
        version: FORMAT_VERSION,
        tenants,
    })
    .map_err(std::io::Error::other)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    // A name per write: the background writer and a shutdown flush may write at once, and
    // each must rename its own complete file.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("registry"),
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // The rename itself is durable only once the directory entry is synced.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A background writer: `mark_dirty` is cheap and never blocks on I/O.
pub struct Writer {
    path: PathBuf,
    state: Arc<(Mutex<WriterState>, Condvar)>,
}

#[derive(Default)]
struct WriterState {
    dirty: bool,
    stop: bool,
}

impl Writer {
    /// Starts the writer thread; `snapshot` produces the records to write.
    pub fn start(
        path: PathBuf,
        snapshot: impl Fn() -> Vec<TenantRecord> + Send + 'static,
    ) -> Writer {
        let state: Arc<(Mutex<WriterState>, Condvar)> = Arc::default();
        let (p, s) = (path.clone(), state.clone());
        std::thread::Builder::new()
            .name("tenant-registry".into())
            .spawn(move || loop {
                {
                    let (lock, cv) = &*s;
                    let mut st = lock.lock();
                    while !st.dirty && !st.stop {
                        cv.wait(&mut st);
                    }
                    if st.stop && !st.dirty {
                        return;
                    }
                }
                // Coalesce a burst of changes into one write.
                std::thread::sleep(Duration::from_millis(5));
                s.0.lock().dirty = false;
                if let Err(e) = write_atomic(&p, snapshot()) {
                    error!(path = %p.display(), error = %e, "cannot write tenant registry");
                    s.0.lock().dirty = true;
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
            .map_err(|e| warn!(error = %e, "cannot start registry writer"))
            .ok();
        Writer { path, state }
    }

    pub fn mark_dirty(&self) {
        let (lock, cv) = &*self.state;
        lock.lock().dirty = true;
        cv.notify_one();
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let (lock, cv) = &*self.state;
        lock.lock().stop = true;
        cv.notify_one();
    }
}
