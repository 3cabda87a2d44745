//! The dev server's append-only journal: one [`Change`] per line, fsynced per write, replayed on
//! start.
//!
//! Each line is `<crc32 of the JSON, 8 hex digits> <the change as JSON>`. A line is acknowledged
//! only once it is written and fsynced; an append that fails is rolled back (the file is cut back
//! to its last good length and fsynced), and if even that fails the journal refuses every later
//! write until the registry restarts — so a half line is never followed by a good one. On start,
//! only an incomplete final line (no newline: a write cut short by a crash, never acknowledged) is
//! dropped; any complete line that fails its checksum or does not parse stops the start with an
//! error naming the line.
//!
//! The journal is compacted on start and after every permanent delete: a snapshot of the state
//! (see [`InMemoryRegistry::snapshot`]) replaces the file atomically, so permanently deleted
//! schemas leave the disk while their ids stay reserved. Files are created readable by their
//! owner only (0600 on Unix).
//!
//! Lines written by earlier versions (plain JSON, no checksum) are still read; the compaction on
//! start rewrites them in the checksummed form.

use crate::memory::{Change, ChangeLog};
use crate::{InMemoryRegistry, RegistryError};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// The journal's file name inside the data directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// The temporary file a compaction writes before it replaces the journal.
const COMPACT_FILE: &str = "journal.jsonl.compact";

/// An open journal file, locked against a second server on the same directory.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    path: PathBuf,
    inner: Mutex<Inner>,
    faults: Option<FaultInjector>,
}

#[derive(Debug)]
struct Inner {
    file: File,
    /// The length of the acknowledged prefix: every byte before it is a complete, fsynced line.
    len: u64,
    /// Why the journal refuses writes (a failed append could not be rolled back).
    poisoned: Option<String>,
}

/// An I/O failure to simulate on one append (for tests: a full disk or a file size limit without
/// filling a disk).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// How many bytes of the line reach the file before the failure; the line's length or more
    /// means the whole line is written and the fsync fails.
    pub bytes_written: usize,
    /// Whether rolling the failed append back fails too (then the journal refuses writes).
    pub rollback_fails: bool,
}

/// Faults the journal applies to its next appends, one per append, in order.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct FaultInjector(Arc<Mutex<VecDeque<Fault>>>);

impl FaultInjector {
    /// Makes a coming append fail with `fault` (after the faults already queued).
    pub fn push(&self, fault: Fault) {
        self.queue().push_back(fault);
    }
    /// Drops the faults not used yet.
    pub fn clear(&self) {
        self.queue().clear();
    }
    fn next(&self) -> Option<Fault> {
        self.queue().pop_front()
    }
    fn queue(&self) -> MutexGuard<'_, VecDeque<Fault>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn storage(context: String) -> impl FnOnce(std::io::Error) -> RegistryError {
    move |source| RegistryError::Storage { context, source }
}

/// Opens a data file for reading and appending, created owner-only.
fn open_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        // A file created by an earlier version may be readable by others.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

fn lock(file: &File, path: &Path) -> Result<(), RegistryError> {
    file.try_lock().map_err(|e| RegistryError::Storage {
        context: format!(
            "journal {} is locked: is another registry using this data directory?",
            path.display()
        ),
        source: std::io::Error::other(e.to_string()),
    })
}

/// Makes `dir`'s entries (a created or renamed file) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// One change as a journal line: checksum, space, JSON, newline.
fn encode(change: &Change) -> Result<Vec<u8>, RegistryError> {
    let json = serde_json::to_vec(change).map_err(|e| RegistryError::Storage {
        context: "encoding a journal entry".to_owned(),
        source: std::io::Error::other(e),
    })?;
    let mut line = format!("{:08x} ", crc32fast::hash(&json)).into_bytes();
    line.extend_from_slice(&json);
    line.push(b'\n');
    Ok(line)
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir` and returns it with the changes it holds.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Change>), RegistryError> {
        Self::open_inner(dir, None)
    }

    /// [`Journal::open`] with simulated I/O failures (for tests).
    #[doc(hidden)]
    pub fn open_with_faults(
        dir: &Path,
        faults: FaultInjector,
    ) -> Result<(Journal, Vec<Change>), RegistryError> {
        Self::open_inner(dir, Some(faults))
    }

    fn open_inner(
        dir: &Path,
        faults: Option<FaultInjector>,
    ) -> Result<(Journal, Vec<Change>), RegistryError> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(storage(format!(
            "creating data directory {}",
            dir.display()
        )))?;
        let path = dir.join(JOURNAL_FILE);
        let created = !path.exists();
        let mut file =
            open_file(&path).map_err(storage(format!("opening journal {}", path.display())))?;
        lock(&file, &path)?;
        if created {
            sync_dir(dir).map_err(storage(format!("syncing directory {}", dir.display())))?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(storage(format!("reading journal {}", path.display())))?;
        let (changes, good_len) = parse(&bytes).map_err(|(line, why)| RegistryError::Storage {
            context: format!(
                "journal {} line {line} is damaged ({why}); the registry does not start on a \
                 damaged journal: restore it from a backup",
                path.display()
            ),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
        })?;
        if good_len < bytes.len() {
            file.set_len(good_len as u64)
                .and_then(|_| file.sync_data())
                .map_err(storage(format!("cutting torn tail of {}", path.display())))?;
        }
        Ok((
            Journal {
                dir: dir.to_owned(),
                path,
                inner: Mutex::new(Inner {
                    file,
                    len: good_len as u64,
                    poisoned: None,
                }),
                faults,
            },
            changes,
        ))
    }

    /// The journal file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `line` at the end and fsyncs it, or fails as the next injected fault says.
    fn write_line(
        &self,
        file: &mut File,
        line: &[u8],
        fault: Option<Fault>,
    ) -> std::io::Result<()> {
        match fault {
            None => {
                file.write_all(line)?;
                file.sync_data()
            }
            Some(fault) => {
                file.write_all(&line[..fault.bytes_written.min(line.len())])?;
                Err(std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    "simulated I/O failure",
                ))
            }
        }
    }

    /// Replaces the journal with `changes` (written to a temporary file, fsynced, renamed over
    /// the journal, directory fsynced).
    fn rewrite(&self, inner: &mut Inner, changes: &[Change]) -> Result<(), RegistryError> {
        let tmp = self.dir.join(COMPACT_FILE);
        let context = || format!("compacting journal {}", self.path.display());
        let mut bytes = Vec::new();
        for change in changes {
            bytes.extend_from_slice(&encode(change)?);
        }
        let _ = std::fs::remove_file(&tmp);
        let mut file = open_file(&tmp).map_err(storage(context()))?;
        lock(&file, &tmp)?;
        file.write_all(&bytes)
            .and_then(|_| file.sync_data())
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(storage(context()))?;
        // The journal is the new file from here on; until the rename is durable, an append
        // to it could be lost in a crash, so a failure here stops writes.
        inner.file = file;
        inner.len = bytes.len() as u64;
        sync_dir(&self.dir).map_err(|e| {
            inner.poisoned = Some(format!(
                "the compacted journal could not be made durable ({e})"
            ));
            storage(context())(e)
        })
    }
}

/// Parses complete lines; a last line without its newline is torn and left out. Returns the
/// changes and the length of the good prefix, or the 1-based number of a damaged complete line
/// and what is wrong with it.
fn parse(bytes: &[u8]) -> Result<(Vec<Change>, usize), (usize, String)> {
    let mut changes = Vec::new();
    let mut offset = 0;
    let mut line_no = 0;
    while let Some(end) = bytes[offset..].iter().position(|b| *b == b'\n') {
        line_no += 1;
        let line = &bytes[offset..offset + end];
        offset += end + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        changes.push(parse_line(line).map_err(|why| (line_no, why))?);
    }
    Ok((changes, offset))
}

fn parse_line(line: &[u8]) -> Result<Change, String> {
    let json = if line.first() == Some(&b'{') {
        // written by an earlier version, without a checksum
        line
    } else {
        let (sum, json) = line
            .split_first_chunk::<8>()
            .and_then(|(sum, rest)| Some((sum, rest.strip_prefix(b" ")?)))
            .ok_or("no checksum")?;
        let sum = std::str::from_utf8(sum)
            .ok()
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .ok_or("no checksum")?;
        if crc32fast::hash(json) != sum {
            return Err("checksum mismatch".to_owned());
        }
        json
    };
    serde_json::from_slice(json).map_err(|e| e.to_string())
}

impl ChangeLog for Journal {
    fn append(&self, change: &Change) -> Result<(), RegistryError> {
        let line = encode(change)?;
        let mut inner = self.inner();
        if let Some(why) = &inner.poisoned {
            return Err(RegistryError::Storage {
                context: format!(
                    "journal {} refuses writes until the registry restarts",
                    self.path.display()
                ),
                source: std::io::Error::other(why.clone()),
            });
        }
        let fault = self.faults.as_ref().and_then(FaultInjector::next);
        let Inner { file, len, .. } = &mut *inner;
        let Err(error) = self.write_line(file, &line, fault) else {
            *len += line.len() as u64;
            return Ok(());
        };
        // Roll back: cut the file to its acknowledged length, so the next line starts cleanly.
        let rollback = if fault.is_some_and(|f| f.rollback_fails) {
            Err(std::io::Error::other("simulated rollback failure"))
        } else {
            file.set_len(*len).and_then(|_| file.sync_data())
        };
        if let Err(e) = rollback {
            inner.poisoned = Some(format!(
                "a failed append ({error}) could not be rolled back ({e})"
            ));
        }
        Err(RegistryError::Storage {
            context: format!("appending to journal {}", self.path.display()),
            source: error,
        })
    }

    fn compact(&self, snapshot: &[Change]) -> Result<(), RegistryError> {
        let mut inner = self.inner();
        if let Some(why) = &inner.poisoned {
            // the journal's tail is unknown: leave it for the restart
            return Err(RegistryError::Storage {
                context: format!("compacting journal {}", self.path.display()),
                source: std::io::Error::other(why.clone()),
            });
        }
        self.rewrite(&mut inner, snapshot)
    }
}

/// Opens the registry kept in `dir`: replays its journal, compacts it (when the disk allows: a
/// failed compaction leaves the journal as read), and records every later
/// change there.
pub fn open_registry(dir: &Path) -> Result<InMemoryRegistry, RegistryError> {
    let (journal, changes) = Journal::open(dir)?;
    with_journal(journal, changes)
}

/// [`open_registry`] with simulated I/O failures (for tests).
#[doc(hidden)]
pub fn open_registry_with_faults(
    dir: &Path,
    faults: FaultInjector,
) -> Result<InMemoryRegistry, RegistryError> {
    let (journal, changes) = Journal::open_with_faults(dir, faults)?;
    with_journal(journal, changes)
}

fn with_journal(journal: Journal, changes: Vec<Change>) -> Result<InMemoryRegistry, RegistryError> {
    let registry = InMemoryRegistry::replay(changes)?;
    let snapshot = registry.snapshot();
    // Best effort: on a full disk the journal as read stays (and the registry still starts, to
    // answer reads); a failure after the rename has already made the journal refuse writes.
    let compacted = journal.rewrite(&mut journal.inner(), &snapshot).is_ok();
    if compacted {
        registry.forget_unused();
    }
    Ok(registry.with_change_log(Box::new(journal)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CompatibilityLevel;

    fn line(level: CompatibilityLevel) -> Vec<u8> {
        encode(&Change::SetCompatibility {
            subject: None,
            level,
        })
        .unwrap()
    }

    #[test]
    fn torn_tail_is_left_out() {
        let mut text = [
            line(CompatibilityLevel::None),
            line(CompatibilityLevel::Full),
        ]
        .concat();
        let good = text.len();
        text.extend_from_slice(&line(CompatibilityLevel::Forward)[..20]);
        let (changes, len) = parse(&text).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(len, good);
    }

    #[test]
    fn complete_line_with_a_bad_checksum_is_an_error_even_last() {
        let mut text = line(CompatibilityLevel::None);
        let mut bad = line(CompatibilityLevel::Full);
        bad[0] = if bad[0] == b'0' { b'1' } else { b'0' };
        text.extend_from_slice(&bad);
        let (n, why) = parse(&text).unwrap_err();
        assert_eq!((n, why.as_str()), (2, "checksum mismatch"));
    }

    #[test]
    fn glued_line_is_an_error_not_a_torn_tail() {
        // half a line followed by a whole one: what an append without rollback leaves
        let half = &line(CompatibilityLevel::None)[..15];
        let text = [half, &line(CompatibilityLevel::Full)].concat();
        assert_eq!(parse(&text).unwrap_err().0, 1);
    }

    #[test]
    fn corrupt_middle_line_is_an_error() {
        let text = [
            line(CompatibilityLevel::None),
            b"garbage\n".to_vec(),
            line(CompatibilityLevel::None),
        ]
        .concat();
        assert_eq!(parse(&text).unwrap_err().0, 2);
    }

    #[test]
    fn lines_of_earlier_versions_are_read() {
        let text = b"{\"op\":\"set_compatibility\",\"level\":\"NONE\"}\n";
        let (changes, len) = parse(text).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(len, text.len());
    }
}
