package zerobus

// #include "zbgo.h"
import "C"

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// EventKind tells what an Event reports.
type EventKind int32

const (
	// EventAck: records FirstOffset..LastOffset became durable; LastOffset is the new
	// watermark (every offset up to it is durable).
	EventAck EventKind = C.ZB_EVENT_ACK
	// EventError: records FirstOffset..LastOffset will never be acknowledged, for the reason
	// in Err. Unacked returns them.
	EventError EventKind = C.ZB_EVENT_ERROR
)

func (k EventKind) String() string {
	switch k {
	case EventAck:
		return "ack"
	case EventError:
		return "error"
	}
	return fmt.Sprintf("EventKind(%d)", int32(k))
}

// Event reports what became of a range of records. Events come in offset order: the ranges
// of successive events are contiguous and never overlap.
type Event struct {
	Kind        EventKind
	FirstOffset uint64
	LastOffset  uint64
	// Err is the *Error the records failed with, for EventError; nil for EventAck.
	Err error
}

// Events returns the channel that delivers the stream's events, in order; it is closed once
// the stream is closed and its last event delivered. Every call returns the same channel.
//
// Events wait for a reader without holding anything up: WaitForOffset, Flush and Close do not
// depend on them, and acknowledgements that pile up while nobody reads merge into one event
// (they are cumulative, so nothing is lost). A program that calls Events should read the
// channel until it is closed; the goroutine that feeds it otherwise stays blocked.
func (s *Stream) Events() <-chan Event {
	s.events.start.Do(func() { go s.events.deliver() })
	return s.events.out
}

// newWakeupPipe registers on `cfg` a new pipe's write end as the wakeup
// (zb_config_set_wakeup_fd: the library writes it from the thread that queues an event), and
// returns the pipe's read end. The library owns the write end from then on, whatever the
// outcome: it closes it once the config and any stream made from it are destroyed.
func newWakeupPipe(cfg *C.zb_config) (*os.File, error) {
	var fds [2]int
	// As os.Pipe does: no fork may copy the descriptors before they are close-on-exec.
	syscall.ForkLock.RLock()
	err := syscall.Pipe(fds[:])
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("zerobus: creating the wakeup pipe: %w", err)
	}
	// Non-blocking on both ends: the library's thread must never wait on a full pipe, and a
	// non-blocking read end lets the runtime's poller park the drainer without a thread.
	for _, fd := range fds {
		if err := syscall.SetNonblock(fd, true); err != nil {
			syscall.Close(fds[0])
			syscall.Close(fds[1])
			return nil, fmt.Errorf("zerobus: creating the wakeup pipe: %w", err)
		}
	}
	var cerr *C.zb_error
	if status := C.zb_config_set_wakeup_fd(cfg, C.int32_t(fds[1]), 1, &cerr); status != C.ZB_OK {
		syscall.Close(fds[0])
		return nil, takeError(status, cerr)
	}
	return os.NewFile(uintptr(fds[0]), "zerobus-wakeup"), nil
}

// wakeupGroup is a wakeup pipe and the streams it signals: a stream and those recreated from
// it, whose wakeups the library writes to the descriptor of the stream they came from. One
// drainer goroutine reads the pipe and polls each of them.
type wakeupGroup struct {
	pipe    *os.File // the read end; the drainer's alone
	mu      sync.Mutex
	members []*stream
}

func newWakeupGroup(pipe *os.File) *wakeupGroup {
	group := &wakeupGroup{pipe: pipe}
	go group.drain()
	return group
}

func (g *wakeupGroup) add(s *stream) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members = append(g.members, s)
}

func (g *wakeupGroup) remove(s *stream) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, member := range g.members {
		if member == s {
			g.members = append(g.members[:i], g.members[i+1:]...)
			return
		}
	}
}

// drain is the group's drainer goroutine: at each wakeup it takes every queued event of each
// stream, in batches of pollCapacity per cgo crossing, and ends when the library closes the
// pipe (once the last stream that writes it is destroyed).
func (g *wakeupGroup) drain() {
	defer g.pipe.Close()
	var wakeups [64]byte
	for {
		// One read consumes every wakeup written since the last, so they coalesce.
		if _, err := g.pipe.Read(wakeups[:]); err != nil {
			return // end of file: every stream of the group was destroyed
		}
		g.mu.Lock()
		members := append([]*stream(nil), g.members...)
		g.mu.Unlock()
		for _, s := range members {
			s.drainQueued()
		}
	}
}

// drainQueued takes every event queued for the stream, unless it was destroyed.
func (s *stream) drainQueued() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return
	}
	s.drainMu.Lock()
	s.pollAll()
	s.drainMu.Unlock()
}

// pollAll takes events until the queue is empty: a poll that returns fewer than it could take
// found the queue empty, and any event queued after it comes with a new wakeup. The caller
// holds mu (either way) and drainMu.
func (s *stream) pollAll() {
	for {
		result := C.zbgo_poll(s.c, &s.polled[0], pollCapacity)
		if result.status != C.ZB_OK {
			// Only misuse fails a poll; should it happen, waiters learn it rather than hang.
			s.progress.end(takeError(result.status, result.err))
			return
		}
		for i := range int(result.count) {
			s.handle(&s.polled[i])
		}
		if result.count < pollCapacity {
			return
		}
	}
}

// handle records one polled event, taking ownership of its error.
func (s *stream) handle(polled *C.zb_event) {
	event := Event{
		Kind:        EventKind(polled._type),
		FirstOffset: uint64(polled.first_offset),
		LastOffset:  uint64(polled.last_offset),
	}
	switch event.Kind {
	case EventAck:
		s.progress.changed()
	case EventError:
		err := takeError(C.ZB_ERR_INTERNAL, polled.error)
		polled.error = nil
		event.Err = err
		s.progress.failed(event.FirstOffset, event.LastOffset, err)
	default: // a kind newer than this package, which has no use for it
		C.zb_error_free(polled.error)
		polled.error = nil
		return
	}
	s.events.push(event)
}

// progress wakes the goroutines that wait for offsets whenever the drainer takes an event, and
// keeps what the error events said, so that a wait learns how a record was lost even after the
// native stream is gone. Whether a record is durable is the library's to say (stream.outcome):
// waiters watch `changed`, a channel replaced (after being closed) at each event, so that any
// number of goroutines wait without a thread each and a context can end any wait.
type progress struct {
	mu       sync.Mutex
	failures []failedRange
	ended    error // once the stream is released: the outcome of offsets in neither
	notify   chan struct{}
}

type failedRange struct {
	first, last uint64
	err         error
}

func (p *progress) init() { p.notify = make(chan struct{}) }

// changed wakes every waiter: an ack came.
func (p *progress) changed() {
	p.mu.Lock()
	p.notifyLocked()
	p.mu.Unlock()
}

func (p *progress) failed(first, last uint64, err error) {
	p.mu.Lock()
	p.failures = append(p.failures, failedRange{first, last, err})
	p.notifyLocked()
	p.mu.Unlock()
}

func (p *progress) end(err error) {
	p.mu.Lock()
	if p.ended == nil {
		p.ended = err
	}
	p.notifyLocked()
	p.mu.Unlock()
}

func (p *progress) notifyLocked() {
	close(p.notify)
	p.notify = make(chan struct{})
}

// next is the channel the next change closes.
func (p *progress) next() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notify
}

// lost tells whether an error event or the stream's end settled `offset`, and with what.
func (p *progress) lost(offset uint64) (known bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, failure := range p.failures {
		if failure.first <= offset && offset <= failure.last {
			return true, failure.err
		}
	}
	return p.ended != nil, p.ended
}

// waitDurable waits until `offset` is durable or lost, or ctx ends. It asks again at every
// event the drainer takes: the library counts an ack before it queues its event.
func (s *stream) waitDurable(ctx context.Context, offset uint64) error {
	for {
		changed := s.progress.next()
		if known, err := s.outcome(offset); known {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// outcome tells whether the fate of `offset` is known, and what it is: durable when the
// library says so (zb_stream_wait_for_offset without waiting) or, once the native stream is
// released, when its last watermark covers it; lost when an error event said so.
func (s *stream) outcome(offset uint64) (known bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c != nil {
		if C.zb_stream_wait_for_offset(s.c, C.uint64_t(offset), 0, nil) == C.ZB_OK {
			return true, nil
		}
	} else if offset < s.finalInfo.RecordsAcked {
		return true, nil
	}
	return s.progress.lost(offset)
}

// eventQueue hands events to the Events channel without ever making the drainer wait for the
// reader: pending events wait here, consecutive acks merged into one.
type eventQueue struct {
	mu       sync.Mutex
	pending  []Event
	finished bool          // no event will be pushed any more
	ready    chan struct{} // holds a token while there is news for deliver
	start    sync.Once
	out      chan Event
}

func (q *eventQueue) init() {
	q.ready = make(chan struct{}, 1)
	q.out = make(chan Event)
}

func (q *eventQueue) push(event Event) {
	q.mu.Lock()
	last := len(q.pending) - 1
	if last >= 0 && event.Kind == EventAck && q.pending[last].Kind == EventAck {
		q.pending[last].LastOffset = event.LastOffset
	} else {
		q.pending = append(q.pending, event)
	}
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) finish() {
	q.mu.Lock()
	q.finished = true
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default: // a token is there already
	}
}

// deliver feeds the Events channel until the last event is out, then closes it.
func (q *eventQueue) deliver() {
	var batch []Event
	for {
		q.mu.Lock()
		batch, q.pending = q.pending, batch[:0]
		finished := q.finished
		q.mu.Unlock()
		for _, event := range batch {
			q.out <- event
		}
		if finished && len(batch) == 0 {
			close(q.out)
			return
		}
		if len(batch) == 0 {
			<-q.ready
		}
	}
}
