//! From the input to the client: rows are read on a thread of their own into bounded channels,
//! checked against the journal of a resumed run, and handed to the client as a stream that
//! ends early when the run is asked to stop.

use futures::Stream;
use hubspot_projects::UpsertInput;
use hubspot_projects_cli::input::{InputError, Records};
use hubspot_projects_cli::journal::{ConfirmedRows, RowMismatch, Verdict};
use hubspot_projects_cli::row_hash::RowHash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, oneshot, watch};

/// What the client carries with each input, and gives back with its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowTag {
    /// The line the row starts on.
    pub line: u64,
    /// The row's hash, for the journal (zero when nothing is journaled).
    pub hash: RowHash,
}

/// A row for the client.
pub type Row = (RowTag, UpsertInput);

/// What the reader reports besides the rows to send.
#[derive(Debug)]
pub enum ReaderEvent {
    /// A row that cannot be sent.
    Invalid(InputError),
    /// The input does not match the journal being resumed; reading stopped before that row.
    Mismatch(RowMismatch),
}

/// How the reader works.
pub struct ReaderSettings {
    /// What the journal being resumed confirmed.
    pub confirmed: Option<ConfirmedRows>,
    /// Whether rows are hashed for the journal.
    pub hash_rows: bool,
    /// Stop after the first bad row.
    pub strict: bool,
    /// When set, reading stops at the next row (for a source whose rest cannot be scanned).
    pub stop: Option<Arc<AtomicBool>>,
}

/// The reader's outputs.
pub struct Reader {
    /// Rows to send.
    pub rows: mpsc::Receiver<Row>,
    /// Everything else.
    pub events: mpsc::Receiver<ReaderEvent>,
}

/// Starts reading `records` on a thread of its own.
pub fn spawn_reader(records: Records, settings: ReaderSettings) -> std::io::Result<Reader> {
    let (row_tx, row_rx) = mpsc::channel(4096);
    let (event_tx, event_rx) = mpsc::channel(1024);
    std::thread::Builder::new()
        .name("input reader".into())
        .spawn(move || read(records, settings, &row_tx, &event_tx))?;
    Ok(Reader {
        rows: row_rx,
        events: event_rx,
    })
}

fn read(
    records: Records,
    settings: ReaderSettings,
    rows: &mpsc::Sender<Row>,
    events: &mpsc::Sender<ReaderEvent>,
) {
    let mut check = settings.confirmed.as_ref().map(ConfirmedRows::check);
    let hash_rows = settings.hash_rows || check.is_some();
    for item in records {
        if settings
            .stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::Relaxed))
        {
            return;
        }
        let (line, hash, id) = match &item {
            Ok(record) => (
                record.line,
                Some(if hash_rows {
                    RowHash::of(&record.input)
                } else {
                    RowHash::default()
                }),
                Some(record.input.id.as_str()),
            ),
            Err(error) => (error.line, None, error.id.as_deref()),
        };
        if let Some(check) = &mut check {
            match check.check(line, hash, id) {
                Verdict::Skip => continue,
                Verdict::Send => {}
                Verdict::Mismatch(mismatch) => {
                    let _ = events.blocking_send(ReaderEvent::Mismatch(mismatch));
                    return;
                }
            }
        }
        let delivered = match item {
            Ok(record) => rows
                .blocking_send((
                    RowTag {
                        line,
                        hash: hash.unwrap_or_default(),
                    },
                    record.input,
                ))
                .is_ok(),
            Err(error) => {
                events.blocking_send(ReaderEvent::Invalid(error)).is_ok() && !settings.strict
            }
        };
        if !delivered {
            return;
        }
    }
    if let Some(Err(mismatch)) = check.as_ref().map(|check| check.finish()) {
        let _ = events.blocking_send(ReaderEvent::Mismatch(mismatch));
    }
}

/// The rows as a stream for the client, ending as soon as `stop` turns true. The rows not yet
/// handed over are then given back through the returned receiver, so that they can be
/// accounted for; it fails when the stream ended with the input instead.
pub fn until_stopped(
    rows: mpsc::Receiver<Row>,
    stop: watch::Receiver<bool>,
) -> (
    impl Stream<Item = Row> + Send + 'static,
    oneshot::Receiver<mpsc::Receiver<Row>>,
) {
    let (give_back, given_back) = oneshot::channel();
    struct Feed {
        rows: mpsc::Receiver<Row>,
        stop: watch::Receiver<bool>,
        give_back: oneshot::Sender<mpsc::Receiver<Row>>,
    }
    let stream = futures::stream::unfold(
        Some(Feed {
            rows,
            stop,
            give_back,
        }),
        |feed| async move {
            let mut feed = feed?;
            // The common case, a row waiting and no stop, without setting up a wait.
            let ready = if *feed.stop.borrow() {
                None
            } else {
                match feed.rows.try_recv() {
                    Ok(row) => Some(Some(row)),
                    Err(mpsc::error::TryRecvError::Disconnected) => Some(None),
                    Err(mpsc::error::TryRecvError::Empty) => None,
                }
            };
            let next = match ready {
                Some(next) => Some(next),
                None => tokio::select! {
                    biased;
                    // The sender lives as long as the run: an error is as good as a stop.
                    _ = feed.stop.wait_for(|stop| *stop) => None,
                    row = feed.rows.recv() => Some(row),
                },
            };
            match next {
                Some(Some(row)) => Some((row, Some(feed))),
                Some(None) => None,
                None => {
                    let _ = feed.give_back.send(feed.rows);
                    None
                }
            }
        },
    );
    (stream, given_back)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use hubspot_projects_cli::input::{InputFormat, ReadOptions};

    fn records(text: &str) -> Records {
        Records::open(
            std::io::Cursor::new(text.as_bytes().to_vec()),
            InputFormat::Csv,
            ReadOptions::new("project_code"),
        )
        .unwrap()
    }

    async fn drain(reader: &mut Reader) -> (Vec<u64>, Vec<ReaderEvent>) {
        let mut lines = Vec::new();
        while let Some((tag, _)) = reader.rows.recv().await {
            lines.push(tag.line);
        }
        let mut events = Vec::new();
        while let Some(event) = reader.events.recv().await {
            events.push(event);
        }
        (lines, events)
    }

    #[tokio::test]
    async fn confirmed_rows_are_skipped_and_a_changed_row_stops_reading() {
        let text = "project_code,hs_name\nP-1,a\nP-2,b\nP-3,c\n";
        let hash_of = |line: u64| {
            let record = records(text)
                .map(Result::unwrap)
                .find(|r| r.line == line)
                .unwrap();
            RowHash::of(&record.input)
        };
        let confirmed = ConfirmedRows::new(vec![(2, hash_of(2))]).unwrap();
        let settings = |confirmed| ReaderSettings {
            confirmed: Some(confirmed),
            hash_rows: true,
            strict: false,
            stop: None,
        };
        let mut reader = spawn_reader(records(text), settings(confirmed)).unwrap();
        let (lines, events) = drain(&mut reader).await;
        assert_eq!(lines, [3, 4]);
        assert!(events.is_empty());

        let changed = ConfirmedRows::new(vec![(3, hash_of(2))]).unwrap();
        let mut reader = spawn_reader(records(text), settings(changed)).unwrap();
        let (lines, events) = drain(&mut reader).await;
        assert_eq!(lines, [2], "nothing at or after the changed row is sent");
        assert!(matches!(
            events.as_slice(),
            [ReaderEvent::Mismatch(RowMismatch::Changed { line: 3, .. })]
        ));
    }

    #[tokio::test]
    async fn the_stream_ends_at_the_stop_and_gives_the_rest_back() {
        let (tx, rx) = mpsc::channel(8);
        for line in 1..=3 {
            tx.send((
                RowTag {
                    line,
                    hash: RowHash::default(),
                },
                UpsertInput::new("p", format!("P-{line}")),
            ))
            .await
            .unwrap();
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let (stream, given_back) = until_stopped(rx, stop_rx);
        let mut stream = std::pin::pin!(stream);
        assert_eq!(stream.next().await.unwrap().0.line, 1);
        stop_tx.send_replace(true);
        assert!(stream.next().await.is_none());
        let mut rest = given_back.await.unwrap();
        assert_eq!(rest.recv().await.unwrap().0.line, 2);
    }

    #[tokio::test]
    async fn a_stream_that_ends_with_its_input_gives_nothing_back() {
        let (tx, rx) = mpsc::channel(8);
        drop(tx);
        let (_stop_tx, stop_rx) = watch::channel(false);
        let (stream, given_back) = until_stopped(rx, stop_rx);
        assert_eq!(stream.count().await, 0);
        assert!(given_back.await.is_err());
    }
}
