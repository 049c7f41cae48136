//! The registry on disk: every tenant's record (limits, state, token hashes), so tenants and
//! their credentials survive a restart even before data persistence exists.
//!
//! Two files: a TOML snapshot (`path`) and an append-only journal next to it
//! (`path` + `.journal`, one JSON line per changed tenant: its whole record, or its deletion).
//! A change costs one short appended line, not a rewrite of every tenant: with 100k tenants the
//! snapshot is tens of megabytes, and rewriting it per TENANT.CREATE made creation latency and
//! memory grow with the tenant count. Once the journal holds more lines than there are tenants
//! (or 1024), it is folded into a new snapshot.
//!
//! Crash safety: the snapshot is replaced atomically (temp file, fsync, rename, directory
//! fsync). Both files carry a generation; the journal is replayed only over the snapshot of
//! its own generation, so a crash between writing a new snapshot and resetting the journal
//! never replays old lines over newer records. A torn last line (crash mid-append) is ignored.
//!
//! A background thread coalesces changes: the manager only marks tenant ids dirty, and the
//! writer appends each dirty tenant's *current* record, so the journal can never hold changes
//! out of order. `flush` folds everything into the snapshot synchronously (shutdown, tests).

use super::TenantRecord;
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, warn};

const FORMAT_VERSION: u32 = 1;
/// Journal lines tolerated before folding, at least; more when there are more tenants.
const MIN_COMPACT_LINES: usize = 1024;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    /// Pairs the snapshot with its journal (absent in files written before the journal).
    #[serde(default)]
    generation: u64,
    #[serde(default)]
    tenants: Vec<TenantRecord>,
}

/// One journal line.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Change {
    /// First line of a journal: the snapshot generation it extends.
    Base {
        generation: u64,
    },
    Put {
        record: Box<TenantRecord>,
    },
    Del {
        id: String,
    },
}

fn journal_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".journal");
    PathBuf::from(p)
}

/// What loading found: the records, and where the files stand.
pub struct Loaded {
    pub records: Vec<TenantRecord>,
    generation: u64,
    journal_lines: usize,
}

/// Reads the snapshot and replays its journal; missing files are an empty registry.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let (generation, records) = match std::fs::read_to_string(path) {
        Ok(text) => {
            let snap: Snapshot = toml::from_str(&text)
                .map_err(|e| format!("tenant registry {} is corrupt: {e}", path.display()))?;
            if snap.version != FORMAT_VERSION {
                return Err(format!(
                    "tenant registry {} has format version {}, this build reads {FORMAT_VERSION}",
                    path.display(),
                    snap.version
                ));
            }
            (snap.generation, snap.tenants)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot read tenant registry {}: {e}",
                path.display()
            ))
        }
    };
    let mut by_id: indexmap::IndexMap<String, TenantRecord> =
        records.into_iter().map(|r| (r.id.clone(), r)).collect();
    let jpath = journal_path(path);
    let mut journal_lines = 0;
    match std::fs::File::open(&jpath) {
        Ok(f) => {
            let lines: Vec<String> = std::io::BufReader::new(f)
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|e| format!("cannot read {}: {e}", jpath.display()))?;
            let last = lines.len().saturating_sub(1);
            let mut replay = false;
            for (i, line) in lines.iter().enumerate() {
                let change = match serde_json::from_str::<Change>(line) {
                    Ok(c) => c,
                    // A crash mid-append leaves a torn final line: that change never happened.
                    Err(_) if i == last => break,
                    Err(e) => {
                        return Err(format!(
                            "tenant journal {} is corrupt at line {}: {e}",
                            jpath.display(),
                            i + 1
                        ))
                    }
                };
                match change {
                    Change::Base { generation: g } if i == 0 => replay = g == generation,
                    _ if !replay => break,
                    Change::Base { .. } => {
                        return Err(format!("tenant journal {} is corrupt", jpath.display()))
                    }
                    Change::Put { record } => {
                        by_id.insert(record.id.clone(), *record);
                    }
                    Change::Del { id } => {
                        by_id.shift_remove(&id);
                    }
                }
                journal_lines += 1;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", jpath.display())),
    }
    Ok(Loaded {
        records: by_id.into_values().collect(),
        generation,
        journal_lines,
    })
}

/// Writes a file atomically: a temp file in the same directory, fsync, rename, directory fsync.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("registry"),
        std::process::id(),
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // The rename itself is durable only once the directory entry is synced.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The two files and where they stand; one owner at a time (writer thread or `flush`).
struct Files {
    path: PathBuf,
    generation: u64,
    journal: Option<std::fs::File>,
    journal_lines: usize,
}

impl Files {
    /// Folds everything into a new snapshot of the next generation, then starts its journal.
    fn compact(&mut self, records: Vec<TenantRecord>) -> std::io::Result<()> {
        let generation = self.generation + 1;
        let text = toml::to_string(&Snapshot {
            version: FORMAT_VERSION,
            generation,
            tenants: records,
        })
        .map_err(std::io::Error::other)?;
        write_atomic(&self.path, text.as_bytes())?;
        self.generation = generation;
        // A fresh journal, atomically: until it is in place, the old one (of the previous
        // generation) is ignored at load because its base no longer matches.
        let mut base =
            serde_json::to_vec(&Change::Base { generation }).map_err(std::io::Error::other)?;
        base.push(b'\n');
        let jpath = journal_path(&self.path);
        write_atomic(&jpath, &base)?;
        self.journal = Some(std::fs::OpenOptions::new().append(true).open(&jpath)?);
        self.journal_lines = 0;
        Ok(())
    }

    /// Appends the current state of each changed tenant (`None`: deleted), durably.
    fn append(&mut self, changes: Vec<Change>) -> std::io::Result<()> {
        let Some(f) = self.journal.as_mut() else {
            return Err(std::io::Error::other("journal not open"));
        };
        let mut buf = Vec::with_capacity(changes.len() * 512);
        for c in &changes {
            serde_json::to_writer(&mut buf, c).map_err(std::io::Error::other)?;
            buf.push(b'\n');
        }
        f.write_all(&buf)?;
        f.sync_data()?;
        self.journal_lines += changes.len();
        Ok(())
    }
}

/// How the writer reads the manager: every record (to compact), or one (to journal). `None`
/// means the manager is gone (shutdown): nothing is written then, rather than an empty
/// registry.
pub trait Source: Send + Sync + 'static {
    fn records(&self) -> Option<Vec<TenantRecord>>;
    /// `Some(None)`: the tenant does not exist (deleted).
    fn record(&self, id: &str) -> Option<Option<TenantRecord>>;
    fn count(&self) -> usize;
}

/// A background writer: `mark_dirty` is cheap and never blocks on I/O.
pub struct Writer {
    files: Arc<Mutex<Files>>,
    state: Arc<(Mutex<WriterState>, Condvar)>,
}

#[derive(Default)]
struct WriterState {
    dirty: HashSet<String>,
    stop: bool,
}

impl Writer {
    /// Opens the files where `load` left them (folding a non-empty journal at once, so every
    /// run starts from a clean pair) and starts the writer thread.
    pub fn start(path: PathBuf, loaded: &Loaded, source: impl Source) -> std::io::Result<Writer> {
        let mut files = Files {
            path,
            generation: loaded.generation,
            journal: None,
            journal_lines: loaded.journal_lines,
        };
        if let Some(records) = source.records() {
            files.compact(records)?;
        }
        let files = Arc::new(Mutex::new(files));
        let state: Arc<(Mutex<WriterState>, Condvar)> = Arc::default();
        let (f, s) = (files.clone(), state.clone());
        std::thread::Builder::new()
            .name("tenant-registry".into())
            .spawn(move || run(&f, &s, &source))
            .map_err(|e| warn!(error = %e, "cannot start registry writer"))
            .ok();
        Ok(Writer { files, state })
    }

    /// Records that tenant `id` changed (created, updated, deleted).
    pub fn mark_dirty(&self, id: &str) {
        let (lock, cv) = &*self.state;
        let mut st = lock.lock();
        if !st.dirty.contains(id) {
            st.dirty.insert(id.to_string());
        }
        cv.notify_one();
    }

    /// Folds every change into the snapshot now.
    pub fn flush(&self, source: &impl Source) -> std::io::Result<()> {
        let mut files = self.files.lock();
        // Taken under the files lock: the writer thread cannot be between taking ids and
        // appending them, so nothing marked before this call is lost.
        self.state.0.lock().dirty.clear();
        match source.records() {
            Some(records) => files.compact(records),
            None => Ok(()),
        }
    }
}

fn run(files: &Mutex<Files>, state: &(Mutex<WriterState>, Condvar), source: &impl Source) {
    loop {
        {
            let (lock, cv) = state;
            let mut st = lock.lock();
            while st.dirty.is_empty() && !st.stop {
                cv.wait(&mut st);
            }
            if st.stop && st.dirty.is_empty() {
                return;
            }
        }
        // Coalesce a burst of changes into one append and one fsync.
        std::thread::sleep(Duration::from_millis(5));
        let mut f = files.lock();
        let ids = std::mem::take(&mut state.0.lock().dirty);
        if ids.is_empty() {
            continue;
        }
        let result = if f.journal_lines + ids.len() > MIN_COMPACT_LINES.max(source.count()) {
            match source.records() {
                Some(records) => f.compact(records),
                None => return,
            }
        } else {
            let mut changes = Vec::with_capacity(ids.len());
            for id in &ids {
                changes.push(match source.record(id) {
                    Some(Some(record)) => Change::Put {
                        record: Box::new(record),
                    },
                    Some(None) => Change::Del { id: id.clone() },
                    None => return,
                });
            }
            f.append(changes)
        };
        if let Err(e) = result {
            error!(path = %f.path.display(), error = %e, "cannot write tenant registry");
            drop(f);
            state.0.lock().dirty.extend(ids);
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let (lock, cv) = &*self.state;
        lock.lock().stop = true;
        cv.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::Limits;

    fn rec(id: &str, name: &str) -> TenantRecord {
        TenantRecord {
            id: id.into(),
            name: name.into(),
            tier: "basic".into(),
            state: "active".into(),
            limits: Limits::default(),
            eviction: "noeviction".into(),
            created_at: 1,
            updated_at: 1,
            suspend_reason: None,
            tokens: Vec::new(),
        }
    }

    struct Fixed(Mutex<Vec<TenantRecord>>);

    impl Source for Fixed {
        fn records(&self) -> Option<Vec<TenantRecord>> {
            Some(self.0.lock().clone())
        }
        fn record(&self, id: &str) -> Option<Option<TenantRecord>> {
            Some(self.0.lock().iter().find(|r| r.id == id).cloned())
        }
        fn count(&self) -> usize {
            self.0.lock().len()
        }
    }

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "tenantkv-registry-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(l: &Loaded) -> Vec<(String, String)> {
        l.records
            .iter()
            .map(|r| (r.id.clone(), r.name.clone()))
            .collect()
    }

    #[test]
    fn journal_replays_over_its_snapshot_and_ignores_a_torn_tail() {
        let d = dir("replay");
        let path = d.join("t.toml");
        let mut files = Files {
            path: path.clone(),
            generation: 0,
            journal: None,
            journal_lines: 0,
        };
        files.compact(vec![rec("a", "A"), rec("b", "B")]).unwrap();
        files
            .append(vec![
                Change::Put {
                    record: Box::new(rec("c", "C")),
                },
                Change::Put {
                    record: Box::new(rec("a", "A2")),
                },
                Change::Del { id: "b".into() },
            ])
            .unwrap();
        let l = load(&path).unwrap();
        assert_eq!(
            names(&l),
            [("a".into(), "A2".into()), ("c".into(), "C".into())]
        );
        // A crash in the middle of an append: the torn line never happened.
        let jpath = journal_path(&path);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&jpath)
            .unwrap();
        f.write_all(br#"{"op":"del","id":"a"#).unwrap();
        assert_eq!(names(&load(&path).unwrap()).len(), 2);
        // Corruption anywhere but the tail is refused, not silently skipped.
        let text = std::fs::read_to_string(&jpath).unwrap();
        let broken = text.replacen("\"put\"", "\"pot\"", 1) + "\n";
        std::fs::write(&jpath, broken).unwrap();
        assert!(load(&path).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_journal_of_an_older_generation_is_not_replayed() {
        let d = dir("generation");
        let path = d.join("t.toml");
        let mut files = Files {
            path: path.clone(),
            generation: 0,
            journal: None,
            journal_lines: 0,
        };
        files.compact(vec![rec("a", "A")]).unwrap();
        files.append(vec![Change::Del { id: "a".into() }]).unwrap();
        let old_journal = std::fs::read(journal_path(&path)).unwrap();
        // A crash after the new snapshot was written but before its journal replaced the old.
        files.compact(vec![rec("a", "A"), rec("z", "Z")]).unwrap();
        std::fs::write(journal_path(&path), old_journal).unwrap();
        let l = load(&path).unwrap();
        assert_eq!(
            names(&l),
            [("a".into(), "A".into()), ("z".into(), "Z".into())]
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_writer_appends_changes_and_folds_them_on_flush() {
        let d = dir("writer");
        let path = d.join("t.toml");
        let loaded = load(&path).unwrap();
        let source = Arc::new(Fixed(Mutex::new(vec![rec("a", "A")])));
        struct Shared(Arc<Fixed>);
        impl Source for Shared {
            fn records(&self) -> Option<Vec<TenantRecord>> {
                self.0.records()
            }
            fn record(&self, id: &str) -> Option<Option<TenantRecord>> {
                self.0.record(id)
            }
            fn count(&self) -> usize {
                self.0.count()
            }
        }
        let w = Writer::start(path.clone(), &loaded, Shared(source.clone())).unwrap();
        let snapshot_len = std::fs::metadata(&path).unwrap().len();
        for i in 0..50 {
            let id = format!("t{i}");
            source.0.lock().push(rec(&id, "x"));
            w.mark_dirty(&id);
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while load(&path).unwrap().records.len() < 51 {
            assert!(std::time::Instant::now() < deadline, "journal not written");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Appended, not rewritten.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), snapshot_len);
        w.flush(&Shared(source.clone())).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > snapshot_len);
        assert_eq!(load(&path).unwrap().journal_lines, 1);
        assert_eq!(load(&path).unwrap().records.len(), 51);
        drop(w);
        let _ = std::fs::remove_dir_all(&d);
    }
}
