//! Atomic file writes: a temporary file in the target directory, flushed to
//! disk, then renamed over the target.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Prefix and suffix of temporary files. Readers of an outbox directory skip
/// names that start with a dot.
const TEMP_PREFIX: &str = ".";
const TEMP_SUFFIX: &str = ".tmp";

/// Writes `contents` to `directory/file_name` so that a reader sees either the
/// old file or the whole new one, never part of it, also after a crash.
pub fn write_atomically(directory: &Path, file_name: &str, contents: &[u8]) -> io::Result<PathBuf> {
    write_atomically_with(directory, file_name, |file| file.write_all(contents))
}

/// Writes the file with `write`, atomically as `write_atomically` does. When
/// `write` fails, the temporary file is removed and the target is untouched.
pub fn write_atomically_with(
    directory: &Path,
    file_name: &str,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<PathBuf> {
    fs::create_dir_all(directory)?;

    let mut temporary = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(directory)?;
    write(temporary.as_file_mut())?;

    // The data must be on disk before the rename makes it visible, else a
    // power loss can leave a complete name with empty contents.
    temporary.as_file().sync_all()?;

    let target = directory.join(file_name);
    temporary.persist(&target).map_err(|error| error.error)?;
    sync_directory(directory)?;
    Ok(target)
}

/// Flushes the directory entry, so that the rename itself survives a power
/// loss (needed on Linux file systems such as ext4).
#[cfg(unix)]
fn sync_directory(directory: &Path) -> io::Result<()> {
    File::open(directory)?.sync_all()
}

#[cfg(not(unix))]
fn sync_directory(_directory: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_names(directory: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_leaves_only_target() {
        let directory = tempfile::tempdir().unwrap();
        let path = write_atomically(directory.path(), "a.eml", b"complete").unwrap();

        assert_eq!(path, directory.path().join("a.eml"));
        assert_eq!(fs::read(&path).unwrap(), b"complete");
        assert_eq!(file_names(directory.path()), vec!["a.eml"]);
    }

    #[test]
    fn failed_write_keeps_old_file() {
        let directory = tempfile::tempdir().unwrap();
        write_atomically(directory.path(), "a.eml", b"old and complete").unwrap();

        // A write that stops halfway, as a crash or a full disk would.
        let result = write_atomically_with(directory.path(), "a.eml", |file| {
            file.write_all(b"new but cut")?;
            Err(io::Error::other("disk failed halfway"))
        });

        assert!(result.is_err());
        let contents = fs::read(directory.path().join("a.eml")).unwrap();
        assert_eq!(contents, b"old and complete");
        assert_eq!(file_names(directory.path()), vec!["a.eml"]);
    }

    #[test]
    fn failed_first_write_creates_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let result = write_atomically_with(directory.path(), "b.eml", |file| {
            file.write_all(b"partial")?;
            Err(io::Error::other("disk failed halfway"))
        });

        assert!(result.is_err());
        assert!(file_names(directory.path()).is_empty());
    }

    #[test]
    fn missing_directory_is_created() {
        let directory = tempfile::tempdir().unwrap();
        let nested = directory.path().join("outbox").join("email");
        write_atomically(&nested, "c.eml", b"x").unwrap();
        assert_eq!(file_names(&nested), vec!["c.eml"]);
    }
}
