//! Ctrl-C while host functions run: cancel the AWS call or wait in progress, so that a REPL
//! entry returns to the prompt and a run stops where its journal can resume it.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Notify;

/// Exit status of a process ended by SIGINT, as shells report it.
const SIGINT_EXIT_STATUS: i32 = 130;

/// The flags that the SIGINT listener and the engine thread share.
pub struct Interrupt {
    /// The [`HostContext`](crate::host::HostContext) cancel handle: `ctx.block_on` returns
    /// `HostError::Cancelled` when it is notified.
    cancel: Arc<Notify>,
    running: AtomicBool,
    cancelled: AtomicBool,
    /// In an interactive session SIGINT outside an entry is ignored, because the line
    /// editor reads Ctrl-C as a key there. Otherwise it ends the process.
    interactive: bool,
}

impl Interrupt {
    pub fn new(cancel: Arc<Notify>, interactive: bool) -> Arc<Self> {
        Arc::new(Self {
            cancel,
            running: AtomicBool::new(false),
            cancelled: AtomicBool::new(false),
            interactive,
        })
    }

    /// Installs the SIGINT handler and starts the task that serves it on `runtime`. The
    /// handler is registered before this returns, so no Ctrl-C after it is lost.
    pub fn listen(self: &Arc<Self>, runtime: &tokio::runtime::Handle) -> std::io::Result<()> {
        let _context = runtime.enter();
        let mut signals = signal(SignalKind::interrupt())?;
        let interrupt = Arc::clone(self);
        runtime.spawn(async move {
            while signals.recv().await.is_some() {
                interrupt.on_signal();
            }
        });
        Ok(())
    }

    fn on_signal(&self) {
        // Outside the REPL a second Ctrl-C ends the process, for a call that does not stop.
        let repeated = self.cancelled.load(Ordering::SeqCst) && !self.interactive;
        if self.running.load(Ordering::SeqCst) && !repeated {
            tracing::debug!("Ctrl-C: cancelling the call in progress");
            self.cancelled.store(true, Ordering::SeqCst);
            // A stored permit also cancels a call that starts after this signal.
            self.cancel.notify_one();
        } else if !self.interactive {
            std::process::exit(SIGINT_EXIT_STATUS);
        }
    }

    /// Marks the start of an entry: from now on Ctrl-C cancels it.
    pub fn begin(&self) {
        self.drop_permit();
        self.cancelled.store(false, Ordering::SeqCst);
        self.running.store(true, Ordering::SeqCst);
    }

    /// Marks the end of an entry.
    pub fn end(&self) {
        self.running.store(false, Ordering::SeqCst);
        self.drop_permit();
        self.cancelled.store(false, Ordering::SeqCst);
    }

    /// Drops a cancellation that no call consumed, which would otherwise cancel the first
    /// call of the next entry. `enable` takes a stored permit, if any.
    fn drop_permit(&self) {
        let notified = pin!(self.cancel.notified());
        let _ = notified.enable();
    }

    /// True once Ctrl-C was pressed during the current entry.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}
