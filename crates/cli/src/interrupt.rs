//! Ctrl-C while a run goes on: the first asks for a clean stop, the second for an immediate one.

/// The interrupts (SIGINT, Ctrl-C) received since [`Interrupts::listen`]. Once listening, the
/// process no longer dies on Ctrl-C: the run decides what to do.
pub struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
    #[cfg(windows)]
    signal: tokio::signal::windows::CtrlC,
}

impl Interrupts {
    /// Starts listening. Must be called on the Tokio runtime.
    pub fn listen() -> std::io::Result<Self> {
        Ok(Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?,
            #[cfg(windows)]
            signal: tokio::signal::windows::ctrl_c()?,
        })
    }

    /// The next interrupt. Cancel-safe: an interrupt that arrives while nobody waits is kept
    /// for the next call (several may be merged into one).
    pub async fn next(&mut self) -> Option<()> {
        self.signal.recv().await
    }
}

/// The next interrupt, or never when nothing listens.
pub async fn next(interrupts: &mut Option<Interrupts>) -> Option<()> {
    match interrupts {
        Some(interrupts) => interrupts.next().await,
        None => std::future::pending().await,
    }
}
