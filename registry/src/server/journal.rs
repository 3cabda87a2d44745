//! The dev server's append-only journal: one JSON [`Change`] per line, fsynced per write,
//! replayed on start. A torn last line (a write cut short by a crash) is ignored and cut off.

use crate::memory::{Change, ChangeLog};
use crate::{InMemoryRegistry, RegistryError};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The journal's file name inside the data directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// An open journal file, locked against a second server on the same directory.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

fn storage(context: String) -> impl FnOnce(std::io::Error) -> RegistryError {
    move |source| RegistryError::Storage { context, source }
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir` and returns it with the changes it holds.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Change>), RegistryError> {
        std::fs::create_dir_all(dir).map_err(storage(format!(
            "creating data directory {}",
            dir.display()
        )))?;
        let path = dir.join(JOURNAL_FILE);
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(storage(format!("opening journal {}", path.display())))?;
        file.try_lock().map_err(|e| RegistryError::Storage {
            context: format!(
                "journal {} is locked: is another registry using this data directory?",
                path.display()
            ),
            source: std::io::Error::other(e.to_string()),
        })?;
        if created {
            // Make the new file's directory entry durable too.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(storage(format!("reading journal {}", path.display())))?;
        let (changes, good_len) = parse(&bytes).map_err(|(line, e)| RegistryError::Storage {
            context: format!("journal {} line {line} is corrupt", path.display()),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        if good_len < bytes.len() {
            file.set_len(good_len as u64)
                .and_then(|_| file.sync_data())
                .map_err(storage(format!("cutting torn tail of {}", path.display())))?;
        }
        file.seek(SeekFrom::End(0))
            .map_err(storage(format!("seeking journal {}", path.display())))?;
        Ok((
            Journal {
                path,
                file: Mutex::new(file),
            },
            changes,
        ))
    }

    /// The journal file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Parses complete lines; a last line without its newline is torn and left out. Returns the
/// changes and the length of the good prefix, or the 1-based number of a corrupt complete line.
fn parse(bytes: &[u8]) -> Result<(Vec<Change>, usize), (usize, serde_json::Error)> {
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
        match serde_json::from_slice::<Change>(line) {
            Ok(change) => changes.push(change),
            // A corrupt line that is the very last one is a torn write whose newline landed.
            Err(_) if offset == bytes.len() => return Ok((changes, offset - end - 1)),
            Err(e) => return Err((line_no, e)),
        }
    }
    Ok((changes, offset))
}

impl ChangeLog for Journal {
    fn append(&self, change: &Change) -> Result<(), RegistryError> {
        let mut line = serde_json::to_vec(change).map_err(|e| RegistryError::Storage {
            context: "encoding a journal entry".to_owned(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(&line)
            .and_then(|_| file.sync_data())
            .map_err(storage(format!(
                "appending to journal {}",
                self.path.display()
            )))
    }
}

/// Opens the registry kept in `dir`: replays its journal and records every later change there.
pub fn open_registry(dir: &Path) -> Result<InMemoryRegistry, RegistryError> {
    let (journal, changes) = Journal::open(dir)?;
    Ok(InMemoryRegistry::replay(changes)?.with_change_log(Box::new(journal)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"op":"set_compatibility","level":"NONE"}"#;

    #[test]
    fn torn_tail_is_left_out() {
        let text = format!("{LINE}\n{LINE}\n{{\"op\":\"set_comp");
        let (changes, good) = parse(text.as_bytes()).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(good, 2 * (LINE.len() + 1));
    }

    #[test]
    fn torn_last_line_with_newline_is_left_out() {
        let text = format!("{LINE}\n{{\"op\":\"set\n");
        let (changes, good) = parse(text.as_bytes()).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(good, LINE.len() + 1);
    }

    #[test]
    fn corrupt_middle_line_is_an_error() {
        let text = format!("{LINE}\ngarbage\n{LINE}\n");
        let (line, _) = parse(text.as_bytes()).unwrap_err();
        assert_eq!(line, 2);
    }
}
