//! The library's own wakeup, watched by tokio's reactor (the `tokio` feature).
//!
//! A stream made inside a tokio runtime, with no `on_ack` and no `on_wakeup` of the user's,
//! gets no event callback: its events stay in the library's queue, and the library writes an
//! eventfd (`zb_config_set_wakeup_fd()`) from the thread that queues one. The runtime's reactor
//! watches that descriptor ([`AsyncFd`]); the task it wakes takes the queued events
//! ([`Hub::pump`](crate::events::Hub::pump)) and wakes whatever waits for them. An ack thus
//! reaches a waiting task with no hop through the library's dispatch threads, and no thread or
//! timer per wait.
//!
//! An [`AsyncFd`] keeps the waker of its last poller only, so the tasks waiting on one
//! descriptor register with the reactor through one waker of this module's, [`Sleepers`],
//! which wakes all of them: the first to run reads the descriptor and takes the events, the
//! others find it read.

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::{Error, ErrorCode, Result};

/// The read side of a stream's wakeup descriptor, registered with a tokio runtime's reactor.
pub(crate) struct Reactor {
    readable: AsyncFd<File>,
    sleepers: Arc<Sleepers>,
}

impl Reactor {
    /// Inside a tokio runtime with its I/O driver enabled: a new eventfd registered with the
    /// runtime's reactor, and a duplicate of it for the library to write. `None` elsewhere
    /// (the stream then keeps the event callback), or when the descriptor cannot be made.
    pub(crate) fn new() -> Option<(Arc<Reactor>, OwnedFd)> {
        tokio::runtime::Handle::try_current().ok()?;
        // SAFETY: eventfd() takes no pointer; a non-negative result is a new descriptor.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: `fd` was just created and nothing else owns it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // A duplicate shares the counter and the non-blocking flag.
        let library_end = owned.try_clone().ok()?;
        // SAFETY: the file owns its descriptor, and the AsyncFd owns the file until it is
        // deregistered: nothing closes or replaces the descriptor while it is registered.
        // Fails when the runtime has no I/O driver (built without `enable_io`).
        let readable =
            unsafe { AsyncFd::register_with_interest(File::from(owned), Interest::READABLE) }
                .ok()?;
        let reactor = Reactor {
            readable,
            sleepers: Arc::new(Sleepers::default()),
        };
        Some((Arc::new(reactor), library_end))
    }

    /// Registers `waker` (under `slot`) to be woken at the descriptor's next wakeup, and
    /// consumes what the descriptor holds. Returns whether it held a wakeup: the caller then
    /// takes the queued events, as the wakeup may have been its only notice of them.
    ///
    /// # Errors
    /// [`ErrorCode::STATE`] when the runtime that the stream was made in has shut down: its
    /// reactor delivers no wakeup any more.
    pub(crate) fn poll_wakeup(&self, slot: &mut Option<u64>, waker: &Waker) -> Result<bool> {
        self.sleepers.register(slot, waker);
        let fan_out = Waker::from(Arc::clone(&self.sleepers));
        let mut cx = Context::from_waker(&fan_out);
        let mut woke = false;
        loop {
            let mut guard = match self.readable.poll_read_ready(&mut cx) {
                Poll::Pending => return Ok(woke),
                Poll::Ready(Ok(guard)) => guard,
                Poll::Ready(Err(error)) => {
                    return Err(Error::new(
                        ErrorCode::STATE,
                        format!(
                            "the tokio runtime the stream was made in no longer watches its \
                             wakeups: {error}"
                        ),
                    ));
                }
            };
            // One read takes every wakeup written so far (an eventfd sums them). Clearing the
            // readiness then loses none written after it: the reactor clears only the
            // readiness of the event this guard saw, and a later write is a new event (the
            // descriptor is watched edge-triggered), which sets it again and wakes the
            // sleepers. So no second read is needed to learn that the descriptor is empty.
            match guard.try_io(|file| file.get_ref().read(&mut [0; 8])) {
                // A failed read (not the descriptor this module made) counts as a wakeup too.
                Ok(_read) => {
                    guard.clear_ready();
                    woke = true;
                }
                Err(_would_block) => {}
            }
        }
    }

    /// Removes the waker in `slot`, if it is still registered.
    pub(crate) fn forget(&self, slot: &mut Option<u64>) {
        self.sleepers.forget(slot);
    }
}

/// The tasks waiting for a descriptor's next wakeup; as a waker, it wakes them all.
#[derive(Default)]
struct Sleepers {
    state: Mutex<SleeperList>,
}

#[derive(Default)]
struct SleeperList {
    wakers: Vec<(u64, Waker)>,
    next_id: u64,
}

impl Sleepers {
    fn register(&self, slot: &mut Option<u64>, waker: &Waker) {
        let mut state = crate::events::lock(&self.state);
        if let Some(id) = *slot {
            if let Some((_, registered)) = state.wakers.iter_mut().find(|(key, _)| *key == id) {
                registered.clone_from(waker);
                return;
            }
        }
        let id = state.next_id;
        state.next_id += 1;
        state.wakers.push((id, waker.clone()));
        *slot = Some(id);
    }

    fn forget(&self, slot: &mut Option<u64>) {
        if let Some(id) = slot.take() {
            crate::events::lock(&self.state)
                .wakers
                .retain(|(key, _)| *key != id);
        }
    }
}

impl Wake for Sleepers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let woken = std::mem::take(&mut crate::events::lock(&self.state).wakers);
        woken.into_iter().for_each(|(_, waker)| waker.wake());
    }
}
