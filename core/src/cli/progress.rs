//! The transfer progress bar of `artifacts put` and `artifacts get -o FILE`: shown on a terminal
//! (stderr) for transfers over [`THRESHOLD`] bytes.
//!
//! The core streams a file in one call (`put_file`, `get_to_file`), so the bar reads how far
//! it got from the kernel's I/O accounting of this process (`/proc/self/io`, Linux): bytes read
//! (`rchar`) for an upload, which reads the file, and bytes written (`wchar`) for a download,
//! which writes it. Where that file does not exist, the bar shows elapsed time and the size
//! without a position.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Transfers at least this large get a bar (4 MiB).
pub const THRESHOLD: u64 = 4 * 1024 * 1024;

/// Which counter of `/proc/self/io` follows the transfer.
#[derive(Debug, Clone, Copy)]
pub enum Direction {
    /// An upload: the file is read.
    Upload,
    /// A download: the file is written.
    Download,
}

fn io_counter(direction: Direction) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/io").ok()?;
    let name = match direction {
        Direction::Upload => "rchar:",
        Direction::Download => "wchar:",
    };
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|n| n.trim().parse().ok())
}

/// A running bar; [`Progress::finish`] clears it.
pub struct Progress {
    bar: ProgressBar,
    /// Tells the polling thread to stop.
    stop: Arc<AtomicBool>,
}

impl Progress {
    /// A bar for moving `size` bytes of `label`, or `None` when stderr is not a terminal or
    /// the transfer is small.
    pub fn start(label: &str, size: u64, direction: Direction) -> Option<Progress> {
        if size < THRESHOLD || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_owned());
        let stop = Arc::new(AtomicBool::new(false));
        // A thread, not a task: the transfer may hold the runtime's only thread.
        let polled = io_counter(direction).map(|start| {
            let (bar, stop) = (bar.clone(), stop.clone());
            std::thread::Builder::new()
                .name("agent-mesh-progress".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        if let Some(now) = io_counter(direction) {
                            bar.set_position(now.saturating_sub(start).min(size));
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
        });
        if !matches!(polled, Some(Ok(_))) {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        Some(Progress { bar, stop })
    }

    /// Stops the bar and clears it from the terminal.
    pub fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.bar.finish_and_clear();
    }
}
