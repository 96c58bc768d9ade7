package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// eventOverhead is what an event costs the queue besides its text: its row and headers.
const eventOverhead = 64

// MaxEventProperties is the largest Properties an event may have, in bytes (1 MiB):
// [messages.MaxEventProperties].
const MaxEventProperties = messages.MaxEventProperties

// eventsReq is one call's events on their way to the writer, validated and encoded.
type eventsReq struct {
	rows   []eventRow
	text   []byte // every row's properties and timestamp text
	weight int64  // its share of the queue: its event count, at most MaxQueued
	bytes  int64  // and its size (see EventWriterConfig.MaxQueuedBytes)
	ctx    context.Context
	cancel context.CancelFunc // releases ctx's deadline timer, if any, once answered
	id     uint64             // the request's ID, echoed in its reply

	reply   chan<- error          // Insert's caller
	replyTo chan<- messages.Reply // an actor's ReplyTo
	sender  *actor.PID            // an actor's Request

	queued, answered bool // actor only

	one    [1]eventRow
	inline [192]byte
}

type eventRow struct {
	userID, name string
	key          string // the IdempotencyKey; "": none, NULL
	props        int32  // offset of the properties in text; -1: NULL
	propsLen     int32
	ts           int32 // offset of the timestamp text (len(messages.TimeLayout) bytes)
}

const tsLen = len(messages.TimeLayout)

// newReq validates and encodes evs. A call's share of the queue is its event count, capped
// at MaxQueued (a call of more events than that waits for an empty queue), and its bytes: a
// call of more bytes than MaxQueuedBytes is refused whole, before anything of it is copied.
func (sh *eventsShared) newReq(evs []messages.Event) (*eventsReq, error) {
	var bytes int64
	for i := range evs {
		ev := &evs[i]
		bytes += int64(len(ev.UserID)+len(ev.Name)+len(ev.Properties)+len(ev.IdempotencyKey)+tsLen) + eventOverhead
		if bytes > sh.sem.maxB {
			return nil, &messages.EventError{Index: -1, Field: "Events", Reason: fmt.Sprintf(
				"the call's events take more than the %d bytes the queue holds (MaxQueuedBytes), from event %d on: split the call", sh.sem.maxB, i)}
		}
	}
	r, err := newEventsReq(evs, time.Now())
	if err != nil {
		return nil, err
	}
	r.weight, r.bytes = min(r.weight, sh.sem.maxN), bytes
	return r, nil
}

// newEventsReq validates evs and encodes them; a zero Timestamp becomes now.
func newEventsReq(evs []messages.Event, now time.Time) (*eventsReq, error) {
	size := 0
	for i := range evs {
		ev := &evs[i]
		if err := ev.Validate(); err != nil {
			ee := err.(*messages.EventError)
			ee.Index, ee.Total = i, len(evs)
			return nil, ee
		}
		size += len(ev.Properties) + tsLen
	}
	r := &eventsReq{weight: int64(len(evs))}
	if len(evs) == 1 {
		r.rows = r.one[:]
	} else {
		r.rows = make([]eventRow, len(evs))
	}
	if size <= len(r.inline) {
		r.text = r.inline[:0]
	} else {
		r.text = make([]byte, 0, size)
	}
	nowTS := int32(-1)
	for i := range evs {
		ev, row := &evs[i], &r.rows[i]
		row.userID, row.name, row.key, row.props = ev.UserID, ev.Name, ev.IdempotencyKey, -1
		if len(ev.Properties) > 0 {
			row.props, row.propsLen = int32(len(r.text)), int32(len(ev.Properties))
			r.text = append(r.text, ev.Properties...)
		}
		switch {
		case !ev.Timestamp.IsZero():
			row.ts = int32(len(r.text))
			r.text = ev.Timestamp.UTC().AppendFormat(r.text, messages.TimeLayout)
		case nowTS < 0:
			nowTS = int32(len(r.text))
			row.ts = nowTS
			r.text = now.UTC().AppendFormat(r.text, messages.TimeLayout)
		default:
			row.ts = nowTS
		}
	}
	return r, nil
}
