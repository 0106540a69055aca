//! Progress while a run goes on: a bar on a terminal, plain periodic lines elsewhere, nothing
//! with `--quiet`.

use crate::tally::Tally;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How progress is shown.
pub enum Progress {
    /// An indicatif bar on standard error, and the counts its template shows.
    Bar(ProgressBar, Arc<Mutex<Tally>>),
    /// A plain line on standard error every few seconds.
    Lines {
        /// When the run started.
        started: Instant,
        /// When the last line was printed.
        last: Instant,
        /// The expected total, when known.
        total: Option<u64>,
    },
    /// Nothing.
    Quiet,
}

const LINE_EVERY: Duration = Duration::from_secs(2);

impl Progress {
    /// A bar when standard error is a terminal, lines otherwise, nothing when `quiet`.
    pub fn new(total: Option<u64>, quiet: bool) -> Self {
        if quiet {
            return Self::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            let now = Instant::now();
            return Self::Lines {
                started: now,
                last: now,
                total,
            };
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(8));
        // Two short lines rather than one that wraps on a narrow terminal.
        let template = if total.is_some() {
            "{bar:40.cyan/blue} {pos}/{len} records  {rate}  ETA {eta}\n{counts}"
        } else {
            "{spinner} {pos} records  {rate}\n{counts}"
        };
        let shown = Arc::new(Mutex::new(Tally::default()));
        let counts = shown.clone();
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", state.per_sec());
                    },
                )
                .with_key(
                    "counts",
                    move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let c = counts.lock().map(|c| *c).unwrap_or_default();
                        let _ = write!(w, "{}", c.describe());
                    },
                )
                .progress_chars("=> "),
        );
        Self::Bar(bar, shown)
    }

    /// Shows the counts after a batch completed.
    pub fn update(&mut self, counts: &Tally) {
        match self {
            Self::Bar(bar, shown) => {
                // The counts first, then one redraw that shows them with the position.
                if let Ok(mut shown) = shown.lock() {
                    *shown = *counts;
                }
                bar.set_position(counts.rows());
            }
            Self::Lines {
                started,
                last,
                total,
            } => {
                if last.elapsed() < LINE_EVERY {
                    return;
                }
                *last = Instant::now();
                let elapsed = started.elapsed().as_secs_f64().max(0.001);
                let done = match total {
                    Some(total) => format!("{}/{total}", counts.rows()),
                    None => counts.rows().to_string(),
                };
                // A closed standard error is no reason to stop the run.
                let _ = writeln!(
                    std::io::stderr(),
                    "progress: {done} records, {:.0} records/s, {}",
                    counts.rows_this_run() as f64 / elapsed,
                    counts.describe()
                );
            }
            Self::Quiet => {}
        }
    }

    /// Prints a message on standard error without breaking the bar.
    pub fn note(&self, message: &str) {
        match self {
            Self::Bar(bar, _) => bar.suspend(|| {
                let _ = writeln!(std::io::stderr(), "{message}");
            }),
            _ => {
                let _ = writeln!(std::io::stderr(), "{message}");
            }
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Self::Bar(bar, _) = self {
            bar.finish_and_clear();
        }
    }
}
