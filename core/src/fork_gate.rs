//! The fork gate: every use of SQLite passes through it, and a binding closes it around
//! `fork()` (Python's `os.fork`), so no thread of the parent is inside SQLite when the process
//! is copied. A thread caught inside SQLite at that moment would leave one of SQLite's global
//! mutexes locked in the child, which would then hang on its first query.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Threads inside SQLite now.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// Set while a fork is being prepared: no thread may enter.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// How long `close` waits for the threads inside SQLite to leave.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// Proof of being inside the gate; leaving it (dropping) lets a waiting fork proceed.
pub(crate) struct Inside(());

impl Drop for Inside {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long `enter` waits for a closed gate. A fork holds it closed for microseconds; a
/// thread that waits longer may be holding what the fork needs (Python's GIL, when a client is
/// dropped during `os.fork`), so it goes on rather than deadlock.
const ENTER_WAIT: Duration = Duration::from_secs(1);

/// Enters the gate, waiting (at most [`ENTER_WAIT`]) while a fork is being prepared.
pub(crate) fn enter() -> Inside {
    let deadline = Instant::now() + ENTER_WAIT;
    loop {
        while CLOSED.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if Instant::now() >= deadline {
            ACTIVE.fetch_add(1, Ordering::SeqCst);
            return Inside(());
        }
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        if !CLOSED.load(Ordering::SeqCst) {
            return Inside(());
        }
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Closes the gate and waits (at most 10 s) until no thread is inside SQLite: call right
/// before `fork()`, and [`open`] right after it, in the parent and in the child.
pub fn close() {
    CLOSED.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + CLOSE_WAIT;
    while ACTIVE.load(Ordering::SeqCst) != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Opens the gate again after `fork()`. In the child no thread but the caller exists, so the
/// count of threads inside starts again from zero.
pub fn open(in_child: bool) {
    if in_child {
        ACTIVE.store(0, Ordering::SeqCst);
    }
    CLOSED.store(false, Ordering::SeqCst);
}
