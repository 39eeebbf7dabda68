//! Where a stream's events go. The crate keeps the acks, the waiting threads and the waiting
//! futures on the Rust side: each event is queued for [`Stream::poll`](crate::Stream::poll) or
//! handed to the user's `on_ack`, and wakes whatever waits for the stream to move on. No future
//! needs a thread or a timer of its own to learn that an ack came.
//!
//! The events come one of two ways. A stream made inside a tokio runtime (the `tokio` feature)
//! without `on_ack` or `on_wakeup` leaves them in the library's queue: the library writes a
//! descriptor that the runtime's reactor watches ([`Reactor`]), and the task it wakes takes
//! them ([`Hub::pump`]), with no hop through the library's dispatch threads. Every other stream
//! registers the crate's event callback (`deliver_event`), which runs on one of the SDK's
//! dispatch threads, takes one short lock and wakes wakers.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::ptr::{NonNull, null_mut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use zerobus_sys as sys;

use crate::Ack;
use crate::Result;
use crate::callbacks::{AckCallback, WakeupCallback, contain_panic};
use crate::reactor::Reactor;

/// How many events one `zb_stream_poll()` of [`StreamEvents::pump`] takes at most.
const PUMP_BATCH: usize = 64;

/// What the streams created from one set of [`StreamOptions`](crate::StreamOptions) share: the
/// user's callbacks, and the events of each stream. A stream and its
/// [`recreate`](crate::Stream::recreate)d successors share one registration in the library, so
/// events are told apart by the stream they come from.
pub(crate) struct Hub {
    on_ack: Option<Arc<AckCallback>>,
    on_wakeup: Option<Arc<WakeupCallback>>,
    /// The descriptor the library writes at each event, watched by a tokio runtime's reactor,
    /// when the streams have no event callback.
    reactor: Option<Arc<Reactor>>,
    /// The events of each live stream, by the address of its `zb_stream`, and whether its
    /// `Stream` exists yet; a handful at most.
    streams: Mutex<Vec<Entry>>,
}

impl Hub {
    pub(crate) fn new(
        on_ack: Option<Arc<AckCallback>>,
        on_wakeup: Option<Arc<WakeupCallback>>,
        reactor: Option<Arc<Reactor>>,
    ) -> Hub {
        Hub {
            on_ack,
            on_wakeup,
            reactor,
            streams: Mutex::new(Vec::new()),
        }
    }

    /// The reactor that watches the streams' wakeups, when they have no event callback.
    pub(crate) fn reactor(&self) -> Option<&Reactor> {
        self.reactor.as_deref()
    }

    /// Takes the events queued in the library for every stream of the hub: a wakeup does not
    /// say which stream it came from (a stream and its recreated successor share one).
    pub(crate) fn pump(&self) {
        let streams: Vec<Arc<StreamEvents>> = lock(&self.streams)
            .iter()
            .map(|entry| Arc::clone(&entry.events))
            .collect();
        streams.iter().for_each(|events| events.pump());
    }

    /// Whether acks go to the user's `on_ack` rather than to the stream's queue.
    pub(crate) fn has_ack_callback(&self) -> bool {
        self.on_ack.is_some()
    }

    /// The events of `stream`, created at its first event or when its
    /// [`Stream`](crate::Stream) is made (`claim`), whichever comes first: a recreated stream
    /// may be acked before its creation returns.
    pub(crate) fn events_of(&self, stream: *mut sys::zb_stream, claim: bool) -> Arc<StreamEvents> {
        let mut streams = lock(&self.streams);
        let address = stream as usize;
        if let Some(entry) = streams.iter_mut().find(|entry| entry.address == address) {
            entry.claimed |= claim;
            return Arc::clone(&entry.events);
        }
        let events = Arc::new(StreamEvents::default());
        streams.push(Entry {
            address,
            claimed: claim,
            events: Arc::clone(&events),
        });
        events
    }

    /// Forgets a destroyed stream, whose address the library may give to a new one.
    pub(crate) fn forget(&self, stream: *mut sys::zb_stream) {
        lock(&self.streams).retain(|entry| entry.address != stream as usize);
    }

    /// Forgets the streams that had events but no `Stream`: after a failed recreate, the
    /// library destroyed the stream it was making.
    pub(crate) fn forget_unclaimed(&self) {
        lock(&self.streams).retain(|entry| entry.claimed);
    }

    fn deliver(&self, stream: *mut sys::zb_stream, ack: Ack) {
        let events = self.events_of(stream, false);
        let mut woken = Vec::new();
        let turned_non_empty = events.record(&ack, self.on_ack.is_none(), &mut woken);
        woken.into_iter().for_each(Waker::wake);
        if let (true, Some(on_wakeup)) = (turned_non_empty, &self.on_wakeup) {
            contain_panic((), || on_wakeup());
        }
        if let Some(on_ack) = &self.on_ack {
            let outer = DELIVERING.replace(Arc::as_ptr(&events));
            contain_panic((), || on_ack(ack));
            DELIVERING.set(outer);
        }
    }
}

/// One stream of a [`Hub`].
struct Entry {
    address: usize,
    claimed: bool,
    events: Arc<StreamEvents>,
}

thread_local! {
    /// The events whose `on_ack` the thread is running, or null.
    static DELIVERING: std::cell::Cell<*const StreamEvents> =
        const { std::cell::Cell::new(std::ptr::null()) };
}

/// The event callback of every stream: hands the event to the stream's [`Hub`].
///
/// # Safety
/// Called by the library only: `event` is valid for the call, `user_data` is the
/// `Box<Arc<Hub>>` given to `zb_config_set_event_callback()`, not yet freed.
pub(crate) unsafe extern "C" fn deliver_event(
    stream: *mut sys::zb_stream,
    event: *const sys::zb_event,
    user_data: *mut c_void,
) {
    contain_panic((), || {
        // SAFETY: as the function's contract says; the event's error is borrowed for the call
        // and copied.
        let (hub, ack) = unsafe { (&*user_data.cast::<Arc<Hub>>(), Ack::from_event(&*event)) };
        if let Some(ack) = ack {
            hub.deliver(stream, ack);
        }
    });
}

/// The events of one stream as the Rust side keeps them.
#[derive(Default)]
pub(crate) struct StreamEvents {
    state: Mutex<EventState>,
    /// Signalled at every event and at the end: threads waiting in `poll`.
    changed: Condvar,
    /// The library's stream, from its `Stream`'s making until its destroy, when its events
    /// stay in the library's queue (a stream with a [`Reactor`]). [`pump`](Self::pump) holds
    /// this lock while it takes them, so that they are recorded in the order the library
    /// queued them, and none is taken once the stream is destroyed.
    polled: Mutex<Option<RawStream>>,
}

/// A live stream whose events [`StreamEvents::pump`] takes.
struct RawStream(NonNull<sys::zb_stream>);

// SAFETY: zb_stream_poll() may be called from any thread; `StreamEvents::detach` ends its use
// before the stream is destroyed.
unsafe impl Send for RawStream {}

#[derive(Default)]
struct EventState {
    /// Acks not yet taken, when there is no `on_ack`.
    queue: VecDeque<Ack>,
    /// The futures waiting for the stream to move on.
    waiters: Vec<Waiter>,
    next_waiter: u64,
    /// The last offset of the newest durable ack recorded: a future waiting for an offset
    /// learns here that it is durable, without the library's stream lock, which the thread
    /// that queued the ack may still hold when the woken task runs.
    durable_through: Option<u64>,
    /// How many threads wait in [`StreamEvents::take`]: `changed` is signalled only when
    /// there are some, as a signal costs a system call even when nobody waits.
    blocked: usize,
    /// No event will come any more: the stream was closed or dropped.
    finished: bool,
}

/// A future's registration: woken by a durable ack reaching `through`, by a failure, or by
/// the end.
struct Waiter {
    id: u64,
    through: u64,
    waker: Waker,
}

impl StreamEvents {
    /// Whether the calling thread is inside this stream's `on_ack`, where no other event of
    /// the stream can come until it returns.
    pub(crate) fn delivering(&self) -> bool {
        DELIVERING.get() == std::ptr::from_ref(self)
    }

    /// Records one event: queues it (merging consecutive durable acks, as the library does)
    /// when `queue`, and adds to `woken` the wakers of whoever waits for it. Returns whether
    /// the queue was empty.
    fn record(&self, ack: &Ack, queue: bool, woken: &mut Vec<Waker>) -> bool {
        let (was_empty, blocked) = {
            let mut state = lock(&self.state);
            let durable_through = match ack {
                Ack::Durable { last_offset, .. } => Some(*last_offset),
                Ack::Failed { .. } => None,
            };
            if durable_through.is_some() {
                state.durable_through = durable_through;
            }
            state.waiters.retain_mut(|waiter| {
                let due = durable_through.is_none_or(|last| waiter.through <= last);
                if due {
                    woken.push(std::mem::replace(&mut waiter.waker, Waker::noop().clone()));
                }
                !due
            });
            let was_empty = state.queue.is_empty();
            if queue {
                push_merged(&mut state.queue, ack.clone());
            }
            (was_empty, state.blocked > 0)
        };
        if blocked {
            self.changed.notify_all();
        }
        queue && was_empty
    }

    /// From now on takes the stream's events from the library's queue (a stream with a
    /// reactor), starting with any queued already, whose wakeup may have been read before.
    pub(crate) fn attach(&self, raw: NonNull<sys::zb_stream>) {
        *lock(&self.polled) = Some(RawStream(raw));
        self.pump();
    }

    /// Takes the last events from the library's queue and stops taking any: the stream is
    /// about to be destroyed.
    pub(crate) fn detach(&self) {
        let woken = {
            let mut polled = lock(&self.polled);
            let woken = polled.as_ref().map(|raw| self.take_queued_events(raw.0));
            *polled = None;
            woken
        };
        woken.into_iter().flatten().for_each(Waker::wake);
    }

    /// Takes every event queued in the library's queue into this one, and wakes whoever waits
    /// for them. Does nothing for a stream with an event callback, or once detached.
    pub(crate) fn pump(&self) {
        let woken = {
            let polled = lock(&self.polled);
            match polled.as_ref() {
                Some(raw) => self.take_queued_events(raw.0),
                None => return,
            }
        };
        woken.into_iter().for_each(Waker::wake);
    }

    /// Polls `raw` until its queue is empty, recording each event; returns the wakers to wake.
    /// The caller holds `polled`.
    fn take_queued_events(&self, raw: NonNull<sys::zb_stream>) -> Vec<Waker> {
        let mut woken = Vec::new();
        let mut polled = [sys::ZB_EVENT_INIT; PUMP_BATCH];
        loop {
            let mut count = 0;
            // SAFETY: the stream is live until `detach`, which waits for this lock; the array
            // holds PUMP_BATCH events of the size given.
            let status = unsafe {
                sys::zb_stream_poll(
                    raw.as_ptr(),
                    polled.as_mut_ptr(),
                    size_of::<sys::zb_event>(),
                    PUMP_BATCH,
                    0,
                    &mut count,
                    null_mut(),
                )
            };
            // Only misuse fails a poll: a stream with a callback never gets here.
            if status != sys::ZB_OK {
                return woken;
            }
            for event in &mut polled[..count] {
                // SAFETY: a polled event's error is the caller's.
                if let Some(ack) = unsafe { Ack::take_polled(event) } {
                    self.record(&ack, true, &mut woken);
                }
            }
            // A poll that took fewer than it could emptied the queue: the next event that comes
            // writes a wakeup.
            if count < PUMP_BATCH {
                return woken;
            }
        }
    }

    /// Marks the end: the stream was closed or dropped, so no event will come; wakes every
    /// waiter.
    pub(crate) fn finish(&self) {
        let woken: Vec<Waiter> = {
            let mut state = lock(&self.state);
            state.finished = true;
            std::mem::take(&mut state.waiters)
        };
        self.changed.notify_all();
        woken.into_iter().for_each(|waiter| waiter.waker.wake());
    }

    /// Takes up to `max` queued acks, waiting until `deadline` (`None`: without limit) for the
    /// first; fewer when the stream ended.
    pub(crate) fn take(&self, max: usize, deadline: Option<Instant>) -> Vec<Ack> {
        let mut state = lock(&self.state);
        loop {
            if !state.queue.is_empty() || state.finished || max == 0 {
                let count = max.min(state.queue.len());
                return state.queue.drain(..count).collect();
            }
            let left = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) => Some(left),
                    None => return Vec::new(),
                },
            };
            state.blocked += 1;
            state = wait(&self.changed, state, left);
            state.blocked -= 1;
        }
    }

    /// Up to `max` queued acks, without waiting: `None` when none is queued and the stream
    /// has not ended.
    pub(crate) fn take_now(&self, max: usize) -> Option<Vec<Ack>> {
        let mut state = lock(&self.state);
        if state.queue.is_empty() && !state.finished {
            return None;
        }
        let count = max.min(state.queue.len());
        Some(state.queue.drain(..count).collect())
    }

    /// Whether a durable ack recorded so far covers `offset`.
    pub(crate) fn is_durable(&self, offset: u64) -> bool {
        lock(&self.state)
            .durable_through
            .is_some_and(|last| offset <= last)
    }

    /// Registers (or refreshes) the waiter in `slot` to wake `waker`.
    fn register(&self, slot: &mut Option<u64>, through: u64, waker: &Waker) {
        let mut state = lock(&self.state);
        if state.finished {
            drop(state);
            waker.wake_by_ref();
            return;
        }
        if let Some(id) = *slot {
            if let Some(waiter) = state.waiters.iter_mut().find(|waiter| waiter.id == id) {
                waiter.waker.clone_from(waker);
                return;
            }
        }
        let id = state.next_waiter;
        state.next_waiter += 1;
        state.waiters.push(Waiter {
            id,
            through,
            waker: waker.clone(),
        });
        *slot = Some(id);
    }

    /// Removes the waiter in `slot`, if it is still registered.
    fn deregister(&self, slot: &mut Option<u64>) {
        if let Some(id) = slot.take() {
            lock(&self.state).waiters.retain(|waiter| waiter.id != id);
        }
    }

    /// The next queued ack for [`AckEvents`]: `Some(None)` once the stream ended and the
    /// queue is empty, `None` while the queue is empty.
    fn next_ack(&self) -> Option<Option<Ack>> {
        let mut state = lock(&self.state);
        match state.queue.pop_front() {
            Some(ack) => Some(Some(ack)),
            None if state.finished => Some(None),
            None => None,
        }
    }
}

/// Appends `ack` to `queue`, merged into the last ack when both are durable.
fn push_merged(queue: &mut VecDeque<Ack>, ack: Ack) {
    if let (
        Some(Ack::Durable { last_offset, .. }),
        Ack::Durable {
            last_offset: newest,
            ..
        },
    ) = (queue.back_mut(), &ack)
    {
        *last_offset = *newest;
        return;
    }
    queue.push_back(ack);
}

/// Locks `mutex`; a panic elsewhere while it was held leaves plain data, still consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits once on `changed`, for at most `left` (`None`: without limit).
fn wait<'a>(
    changed: &Condvar,
    state: MutexGuard<'a, EventState>,
    left: Option<Duration>,
) -> MutexGuard<'a, EventState> {
    match left {
        None => changed
            .wait(state)
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        Some(left) => {
            changed
                .wait_timeout(state, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0
        }
    }
}

/// What a pending future is registered for: the stream's events that may matter to it, and,
/// on a stream with a reactor, the next wakeup of the library's descriptor.
#[derive(Default)]
struct Registration {
    waiter: Option<u64>,
    sleeper: Option<u64>,
}

impl Registration {
    /// Registers `waker` to be woken by an event that may matter (a durable ack reaching
    /// `through`, a failure, the end) or the next wakeup; takes the events queued in the
    /// library when the descriptor held a wakeup, which may complete the future at once.
    ///
    /// The events are taken before the waiter is registered, so that they do not wake the
    /// task that is polling: that wake would only poll it again, and on a multi-thread runtime
    /// a task woken while it runs is queued behind the others and another worker woken for
    /// it. What they bring is seen by the caller's next check all the same, which follows the
    /// registration.
    fn arm(&mut self, hub: &Hub, events: &StreamEvents, through: u64, waker: &Waker) -> Result<()> {
        if let Some(reactor) = hub.reactor() {
            if reactor.poll_wakeup(&mut self.sleeper, waker)? {
                hub.pump();
            }
        }
        events.register(&mut self.waiter, through, waker);
        Ok(())
    }

    /// When a poll before this one left the future registered (so it was woken, most likely
    /// by the descriptor), takes the events queued in the library at once, before the future
    /// asks: what it waits for is then usually on the Rust side already, which spares it the
    /// library's stream lock that the thread that queued the event may still hold. The wakeup
    /// itself stays unread until the future arms again, if it must. The future's waiter is
    /// removed first, for the reason [`arm`](Self::arm) registers it last.
    fn catch_up(&mut self, hub: &Hub, events: &StreamEvents) {
        if self.waiter.is_some() && hub.reactor().is_some() {
            events.deregister(&mut self.waiter);
            hub.pump();
        }
    }

    fn release(&mut self, hub: &Hub, events: &StreamEvents) {
        events.deregister(&mut self.waiter);
        if let Some(reactor) = hub.reactor() {
            reactor.forget(&mut self.sleeper);
        }
    }
}

/// A future that completes when `check` gives a result: it asks at once, and again each time
/// an event that may matter wakes it (a durable ack reaching `through`, a failure, the end).
/// It registers its waker before it asks the second time, so an event between the two cannot
/// be missed. Dropping it unregisters it.
pub(crate) struct Progress<'a, T, F> {
    hub: &'a Hub,
    events: &'a StreamEvents,
    through: u64,
    check: F,
    registration: Registration,
    _result: std::marker::PhantomData<fn() -> T>,
}

impl<'a, T, F: FnMut() -> Option<Result<T>>> Progress<'a, T, F> {
    pub(crate) fn new(hub: &'a Hub, events: &'a StreamEvents, through: u64, check: F) -> Self {
        Progress {
            hub,
            events,
            through,
            check,
            registration: Registration::default(),
            _result: std::marker::PhantomData,
        }
    }
}

// No field is structurally pinned: the future moves freely.
impl<T, F> Unpin for Progress<'_, T, F> {}

impl<T, F: FnMut() -> Option<Result<T>>> Future for Progress<'_, T, F> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = &mut *self;
        this.registration.catch_up(this.hub, this.events);
        let result = match (this.check)() {
            Some(result) => Some(result),
            None => match this
                .registration
                .arm(this.hub, this.events, this.through, cx.waker())
            {
                Ok(()) => (this.check)(),
                Err(error) => Some(Err(error)),
            },
        };
        match result {
            Some(result) => {
                this.registration.release(this.hub, this.events);
                Poll::Ready(result)
            }
            None => Poll::Pending,
        }
    }
}

impl<T, F> Drop for Progress<'_, T, F> {
    fn drop(&mut self) {
        self.registration.release(self.hub, self.events);
    }
}

/// The acks of a stream as a [`futures_core::Stream`], from
/// [`Stream::ack_events`](crate::Stream::ack_events): each item is the next queued ack, in
/// offset order, and the stream of acks ends once the [`Stream`](crate::Stream) has been
/// closed or dropped and its last ack taken (or, on a stream made inside a tokio runtime, once
/// that runtime has shut down).
///
/// It owns its share of the stream's events, so it may outlive the stream and move to
/// another task (`'static + Send`). Several of them split the acks between them, as
/// concurrent polls do.
pub struct AckEvents {
    hub: Arc<Hub>,
    events: Arc<StreamEvents>,
    registration: Registration,
}

impl AckEvents {
    pub(crate) fn new(hub: Arc<Hub>, events: Arc<StreamEvents>) -> AckEvents {
        AckEvents {
            hub,
            events,
            registration: Registration::default(),
        }
    }
}

impl futures_core::Stream for AckEvents {
    type Item = Ack;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Ack>> {
        let this = &mut *self;
        this.registration.catch_up(&this.hub, &this.events);
        // Any event wakes it; the queue is looked at again before the task sleeps.
        let next = this.events.next_ack().or_else(|| {
            match this
                .registration
                .arm(&this.hub, &this.events, 0, cx.waker())
            {
                Ok(()) => this.events.next_ack(),
                Err(_) => Some(None),
            }
        });
        match next {
            Some(next) => {
                this.registration.release(&this.hub, &this.events);
                Poll::Ready(next)
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for AckEvents {
    fn drop(&mut self) {
        self.registration.release(&self.hub, &self.events);
    }
}

impl std::fmt::Debug for AckEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.events.state);
        f.debug_struct("AckEvents")
            .field("queued", &state.queue.len())
            .field("finished", &state.finished)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn durable(first_offset: u64, last_offset: u64) -> Ack {
        Ack::Durable {
            first_offset,
            last_offset,
        }
    }

    #[test]
    fn consecutive_durable_acks_merge_in_the_queue() {
        let events = StreamEvents::default();
        let mut woken = Vec::new();
        assert!(events.record(&durable(0, 4), true, &mut woken));
        assert!(!events.record(&durable(5, 9), true, &mut woken));
        assert_eq!(events.take(10, Some(Instant::now())), vec![durable(0, 9)]);
        assert_eq!(events.take(10, Some(Instant::now())), vec![]);
    }

    #[test]
    fn the_newest_durable_ack_tells_which_offsets_are_durable() {
        let events = StreamEvents::default();
        let mut woken = Vec::new();
        assert!(!events.is_durable(0));
        events.record(&durable(0, 4), false, &mut woken);
        assert!(events.is_durable(4));
        assert!(!events.is_durable(5));
        let failed = Ack::Failed {
            first_offset: 5,
            last_offset: 9,
            error: crate::Error::new(crate::ErrorCode::CLOSED, "closed"),
        };
        events.record(&failed, false, &mut woken);
        assert!(events.is_durable(4));
        assert!(!events.is_durable(5));
    }

    #[test]
    fn an_ack_wakes_a_thread_blocked_in_take() {
        let events = Arc::new(StreamEvents::default());
        let deadline = Instant::now() + Duration::from_secs(30);
        let taker = {
            let events = Arc::clone(&events);
            std::thread::spawn(move || events.take(1, Some(deadline)))
        };
        // The ack must come while the thread waits, not before it looks at the queue.
        while lock(&events.state).blocked == 0 {
            std::thread::yield_now();
        }
        events.record(&durable(0, 0), true, &mut Vec::new());
        assert_eq!(taker.join().unwrap(), vec![durable(0, 0)]);
        // Woken by the ack: a wait that only timed out finds the ack too.
        assert!(Instant::now() < deadline);
    }

    #[test]
    fn a_waiter_wakes_only_once_the_ack_reaches_its_offset() {
        let events = StreamEvents::default();
        let mut slot = None;
        events.register(&mut slot, 7, Waker::noop());
        let mut woken = Vec::new();
        events.record(&durable(0, 6), false, &mut woken);
        assert_eq!(lock(&events.state).waiters.len(), 1);
        events.record(&durable(7, 7), false, &mut woken);
        assert_eq!(woken.len(), 1);
        assert!(lock(&events.state).waiters.is_empty());
        events.register(&mut slot, 100, Waker::noop());
        events.deregister(&mut slot);
        assert!(lock(&events.state).waiters.is_empty());
    }
}
