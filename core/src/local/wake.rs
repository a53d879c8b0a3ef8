//! Wake-ups between the processes of one local mesh, so that a subscriber in another process
//! hears of an event at once instead of at its next poll.
//!
//! A process with a subscription binds a Unix datagram socket under a random name in Linux's
//! abstract namespace (nothing on disk to clean up; it vanishes with the process) and
//! registers the name as an empty file in `<mesh>/wake/`. After committing events, a sender
//! sends one byte to every registered name; a name nobody is bound to any more (its process is
//! gone) is refused, and the sender removes its file. The byte only says "look at the log":
//! the log stays the source of truth, so a lost or extra wake-up loses or duplicates nothing,
//! and subscriptions still poll (every 100 ms instead of 10 ms) in case one goes missing.
//!
//! Off on other systems. `AGENT_MESH_LOCAL_WAKE=off` turns listening off in a process, whose
//! subscriptions then poll every 10 ms; it still wakes the processes that listen.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The environment variable that turns the wake-up path off (`off`, `0` or `false`).
pub(crate) const WAKE_ENV: &str = "AGENT_MESH_LOCAL_WAKE";

/// The wake-up path of one opened local mesh.
#[derive(Debug)]
pub(crate) struct Wake {
    /// `<mesh>/wake`: one file per listening process, named by its socket.
    dir: PathBuf,
    /// Whether this process listens (sending needs only support).
    enabled: bool,
    /// Set once this process listens (the pid that started the listener: a forked child
    /// starts its own).
    listener: Mutex<Option<u32>>,
    /// The unbound socket sends go out through.
    sender: OnceLock<Option<imp::Sender>>,
}

impl Wake {
    /// The wake-up path of the mesh in `mesh_dir`.
    pub(crate) fn new(mesh_dir: &Path) -> Wake {
        let off = std::env::var(WAKE_ENV)
            .map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "off" | "0" | "false"
                )
            })
            .unwrap_or(false);
        Wake {
            dir: mesh_dir.join("wake"),
            enabled: imp::SUPPORTED && !off,
            listener: Mutex::new(None),
            sender: OnceLock::new(),
        }
    }

    /// Starts this process listening (once per process). `on_wake(true)` is called for every
    /// wake-up and `on_wake(false)` every idle second; the listener stops when it returns false
    /// (the mesh was closed). Best effort: when the socket cannot be bound, subscriptions keep
    /// polling.
    pub(crate) fn listen(&self, on_wake: impl Fn(bool) -> bool + Send + 'static) {
        if !self.enabled {
            return;
        }
        let pid = std::process::id();
        let mut listener = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        if *listener == Some(pid) {
            return;
        }
        if imp::listen(&self.dir, on_wake).is_ok() {
            *listener = Some(pid);
        }
    }

    /// Whether this process receives other processes' wake-ups.
    pub(crate) fn listening(&self) -> bool {
        *self.listener.lock().unwrap_or_else(|e| e.into_inner()) == Some(std::process::id())
    }

    /// Wakes every listening process (this one included). Best effort; never fails the send
    /// that calls it.
    pub(crate) fn notify(&self) {
        if !imp::SUPPORTED {
            return;
        }
        if let Some(sender) = self.sender.get_or_init(imp::Sender::new) {
            sender.wake_all(&self.dir);
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io::ErrorKind;
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    use std::path::Path;
    use std::time::Duration;

    use crate::fsutil::{create_private_dir_all, create_private_file};

    pub(super) const SUPPORTED: bool = true;

    /// How often an idle listener checks that its mesh is still open.
    const IDLE_CHECK: Duration = Duration::from_secs(1);

    /// The abstract socket address registered as `name`.
    fn address(name: &str) -> std::io::Result<SocketAddr> {
        SocketAddr::from_abstract_name(format!("agent-mesh-wake/{name}").as_bytes())
    }

    /// Binds a socket, registers it in `dir` and serves it on a thread of its own until
    /// `on_wake` returns false (the mesh was closed), then unregisters it.
    pub(super) fn listen(
        dir: &Path,
        on_wake: impl Fn(bool) -> bool + Send + 'static,
    ) -> std::io::Result<()> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let socket = UnixDatagram::bind_addr(&address(&name)?)?;
        socket.set_read_timeout(Some(IDLE_CHECK))?;
        create_private_dir_all(dir)?;
        let registration = dir.join(&name);
        create_private_file(&registration)?;
        std::thread::Builder::new()
            .name("agent-mesh-wake".into())
            .spawn(move || {
                let mut buf = [0u8; 16];
                loop {
                    let woken = match socket.recv(&mut buf) {
                        Ok(_) => true,
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                        {
                            false
                        }
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    if !on_wake(woken) {
                        break;
                    }
                    if !woken && !registration.exists() {
                        // Removed by a sender that could not reach this socket (another
                        // network namespace sharing the directory, say): register again.
                        let _ = create_private_file(&registration);
                    }
                }
                let _ = std::fs::remove_file(&registration);
            })
            .map(drop)
            .inspect_err(|_| {
                let _ = std::fs::remove_file(dir.join(&name));
            })
    }

    /// The unbound socket a sender's wake-ups go out through.
    #[derive(Debug)]
    pub(super) struct Sender(UnixDatagram);

    impl Sender {
        pub(super) fn new() -> Option<Sender> {
            let socket = UnixDatagram::unbound().ok()?;
            socket.set_nonblocking(true).ok()?;
            Some(Sender(socket))
        }

        /// Sends a byte to every process registered in `dir`, removing the registrations of
        /// processes that are gone.
        pub(super) fn wake_all(&self, dir: &Path) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(name) = file_name.to_str() else {
                    continue;
                };
                let Ok(addr) = address(name) else { continue };
                match self.0.send_to_addr(&[1], &addr) {
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                        let _ = std::fs::remove_file(entry.path());
                    }
                    // Sent; or its queue is full, so it has wake-ups to read already.
                    _ => {}
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::path::Path;

    pub(super) const SUPPORTED: bool = false;

    pub(super) fn listen(
        _dir: &Path,
        _on_wake: impl Fn(bool) -> bool + Send + 'static,
    ) -> std::io::Result<()> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    #[derive(Debug)]
    pub(super) struct Sender;

    impl Sender {
        pub(super) fn new() -> Option<Sender> {
            None
        }

        pub(super) fn wake_all(&self, _dir: &Path) {}
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use super::*;

    fn wait_until(what: &str, check: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !check() {
            assert!(Instant::now() < deadline, "{what} did not happen");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_notify_reaches_the_listener_and_stale_registrations_are_removed() {
        let mesh = tempfile::tempdir().unwrap();
        let wake = Wake::new(mesh.path());
        let woken = Arc::new(AtomicUsize::new(0));
        let seen = woken.clone();
        wake.listen(move |w| {
            if w {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            true
        });
        assert!(wake.listening());
        let dir = mesh.path().join("wake");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        // A registration whose process is gone: nobody is bound to its name.
        std::fs::write(dir.join("0123456789abcdef0123456789abcdef"), b"").unwrap();
        Wake::new(mesh.path()).notify();
        wait_until("the wake-up", || woken.load(Ordering::SeqCst) == 1);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "the stale registration was not removed"
        );
    }

    #[test]
    fn the_listener_stops_and_unregisters_when_its_mesh_is_closed() {
        let mesh = tempfile::tempdir().unwrap();
        let wake = Wake::new(mesh.path());
        let open = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let still_open = open.clone();
        wake.listen(move |_| still_open.load(Ordering::SeqCst));
        let dir = mesh.path().join("wake");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        open.store(false, Ordering::SeqCst);
        wait_until("the unregistration", || {
            std::fs::read_dir(&dir).unwrap().count() == 0
        });
    }
}
