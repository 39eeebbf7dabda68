//! What became of a range of records: the events of a stream as Rust values.

use std::ops::RangeInclusive;

use zerobus_sys as sys;

use crate::Error;

/// What became of a range of a stream's records: one `Durable` per server acknowledgement, one
/// `Failed` per range that can never be acknowledged.
///
/// Acks come in offset order and cover every offset exactly once: each range starts right
/// after the previous one ends. Every accepted record ends either durable or failed, never
/// silently lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ack {
    /// Records `first_offset..=last_offset` are durable. Acks are cumulative: every record at
    /// or below `last_offset`, the new watermark, is durable.
    Durable {
        /// The first offset that became durable with this ack.
        first_offset: u64,
        /// The new watermark.
        last_offset: u64,
    },
    /// Records `first_offset..=last_offset` will never be acknowledged (the stream failed or
    /// was closed before they were). They stay retrievable with
    /// [`Stream::unacked`](crate::Stream::unacked) until the stream is dropped.
    Failed {
        /// The first offset of the range.
        first_offset: u64,
        /// The last offset of the range.
        last_offset: u64,
        /// Why they cannot be delivered.
        error: Error,
    },
}

impl Ack {
    /// The offsets this ack covers.
    pub fn offsets(&self) -> RangeInclusive<u64> {
        match self {
            Ack::Durable {
                first_offset,
                last_offset,
            }
            | Ack::Failed {
                first_offset,
                last_offset,
                ..
            } => *first_offset..=*last_offset,
        }
    }

    /// Why the records failed, or `None` when they are durable.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Ack::Durable { .. } => None,
            Ack::Failed { error, .. } => Some(error),
        }
    }

    /// The ack of `event`, or `None` for a kind of event this crate does not know (the library
    /// may add kinds). The event's error is copied, not freed.
    ///
    /// # Safety
    /// `event.error` is NULL or a live error.
    pub(crate) unsafe fn from_event(event: &sys::zb_event) -> Option<Ack> {
        let (first_offset, last_offset) = (event.first_offset, event.last_offset);
        match event.r#type {
            sys::ZB_EVENT_ACK => Some(Ack::Durable {
                first_offset,
                last_offset,
            }),
            sys::ZB_EVENT_ERROR => Some(Ack::Failed {
                first_offset,
                last_offset,
                // SAFETY: an error event carries a live error, as the caller guarantees.
                error: unsafe { Error::copy_from(event.error) },
            }),
            _ => None,
        }
    }

    /// The ack of an event that `zb_stream_poll()` wrote, whose error, the caller's, it copies
    /// and frees (leaving NULL in its place).
    ///
    /// # Safety
    /// `event.error` is NULL or a live error that the caller owns.
    pub(crate) unsafe fn take_polled(event: &mut sys::zb_event) -> Option<Ack> {
        // SAFETY: as the function's contract says; the error is freed once copied.
        unsafe {
            let ack = Ack::from_event(event);
            sys::zb_error_free(std::mem::replace(&mut event.error, std::ptr::null_mut()));
            ack
        }
    }
}
