//! Crash-safe file writing shared by the backends, and private (owner-only) files and
//! directories: whatever agent-mesh creates is mode 0600 (files) or 0700 (directories) on Unix,
//! whatever the process umask, so a mesh is private to the user running it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Mode of the files agent-mesh creates: read and write for the owner only.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of the directories agent-mesh creates: owner only.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents with mode 0700; directories that exist keep their
/// mode (they are the user's: agent-mesh never changes the mode of what it did not create).
pub(crate) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR_MODE);
    }
    builder.create(dir)
}

/// Creates the file `path`, which must not exist, readable and writable by its owner only
/// (0600; a umask can only take bits away), open for reading and writing.
pub(crate) fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_FILE_MODE);
    }
    options.open(path)
}

/// A file being written under a temporary name in the destination's directory; `commit`
/// fsyncs it and renames it over the destination, so readers see the old file or the whole new
/// one. Dropped without `commit`, the temporary file is removed.
pub(crate) struct AtomicFile {
    file: Option<File>,
    temp: PathBuf,
    dest: PathBuf,
}

impl AtomicFile {
    /// Starts writing the file that will replace `dest`. The temporary file is private
    /// (0600) while it is written; it keeps that mode when `dest` is new, and takes the mode of
    /// `dest` when it replaces an existing file.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let dir = parent_dir(dest);
        let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let file = create_private_file(&temp)?;
        if let Ok(existing) = std::fs::metadata(dest)
            && let Err(e) = file.set_permissions(existing.permissions())
        {
            drop(file);
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        Ok(AtomicFile {
            file: Some(file),
            temp,
            dest: dest.to_owned(),
        })
    }

    /// The open temporary file.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("AtomicFile used after commit")
    }

    /// Flushes, fsyncs and renames the file into place, then fsyncs the directory.
    pub fn commit(mut self) -> io::Result<()> {
        let mut file = self.file.take().expect("AtomicFile committed twice");
        file.flush()?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.temp, &self.dest)?;
        sync_dir(parent_dir(&self.dest))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Fsyncs a directory so a rename or create inside it is durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Maps a filesystem error during `operation` on `key` (touching `path`) to an agent-mesh error.
pub(crate) fn io_error(operation: &str, key: &str, path: &Path, e: io::Error) -> crate::Error {
    use crate::ErrorKind;
    let (kind, fix) = match e.kind() {
        io::ErrorKind::NotFound => (
            ErrorKind::NotFound,
            "check that the path and its directory exist",
        ),
        io::ErrorKind::PermissionDenied => {
            (ErrorKind::PermissionDenied, "check the file permissions")
        }
        io::ErrorKind::StorageFull => (ErrorKind::Unavailable, "free some disk space and retry"),
        _ => (ErrorKind::Internal, "check the path and the disk"),
    };
    crate::Error::keyed(
        kind,
        operation,
        key,
        format!("{}: {e}; {fix}", path.display()),
    )
    .with_context("path", path.display().to_string())
    .with_source(e)
}

/// A flag a blocking copy checks between chunks, set when the async operation that started the
/// copy is dropped (a cancelled await): see [`Cancel::on_drop`] and [`copy_unless_cancelled`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Cancel(std::sync::Arc<std::sync::atomic::AtomicBool>);

/// Sets its [`Cancel`] when dropped.
#[derive(Debug)]
pub(crate) struct CancelOnDrop(Cancel);

impl Cancel {
    /// A guard to keep in the async operation: dropping the operation drops it and cancels.
    pub(crate) fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }

    /// The "cancelled" error once the flag is set.
    pub(crate) fn check(&self) -> io::Result<()> {
        if self.0.load(std::sync::atomic::Ordering::Relaxed) {
            Err(io::Error::other(
                "cancelled: the operation's caller gave up",
            ))
        } else {
            Ok(())
        }
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        (self.0).0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Bytes copied between two looks at the cancel flag.
const COPY_CHUNK: usize = 256 * 1024;

/// Copies `src` into `dst` like `io::copy`, stopping with an `Interrupted`-free error of kind
/// `Other` ("cancelled") at the first chunk after `cancel` is set.
pub(crate) fn copy_unless_cancelled(
    src: &mut impl io::Read,
    dst: &mut impl Write,
    cancel: &Cancel,
) -> io::Result<u64> {
    let mut buf = vec![0u8; COPY_CHUNK];
    let mut copied = 0u64;
    loop {
        cancel.check()?;
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        dst.write_all(&buf[..n])?;
        copied += n as u64;
    }
}
