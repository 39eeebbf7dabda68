package zerobus

// #include "zbgo.h"
import "C"

import (
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
)

// DescriptorOf returns the descriptor NewProtoStream takes for records of m's type: its
// message descriptor as a serialized google.protobuf.DescriptorProto. The message must be
// self-contained: fields of other message types are allowed only for types nested in it.
func DescriptorOf(m proto.Message) ([]byte, error) {
	return proto.Marshal(protodesc.ToDescriptorProto(m.ProtoReflect().Descriptor()))
}

// marshalBuffers recycles the buffers messages are serialized into: the library copies a
// record before ingest returns, so a buffer is free again right after.
var marshalBuffers = sync.Pool{New: func() any { return new([]byte) }}

// IngestMessage serializes m and accepts it as Ingest does, on a stream opened with
// NewProtoStream.
//
// Errors: those of Ingest; ErrRecordType on a JSON stream; the error of proto.Marshal.
func (s *Stream) IngestMessage(m proto.Message) (uint64, error) {
	buffer := marshalBuffers.Get().(*[]byte)
	defer marshalBuffers.Put(buffer)
	record, err := proto.MarshalOptions{}.MarshalAppend((*buffer)[:0], m)
	if err != nil {
		return 0, err
	}
	*buffer = record
	return s.ingest(C.ZB_RECORD_PROTO, record)
}

// IngestMessages serializes `messages` and accepts them as one batch, as IngestBatch does.
//
// Errors: those of IngestBatch; ErrRecordType on a JSON stream; the error of proto.Marshal.
func (s *Stream) IngestMessages(messages []proto.Message) (uint64, error) {
	buffer := marshalBuffers.Get().(*[]byte)
	defer marshalBuffers.Put(buffer)
	serialized := (*buffer)[:0]
	ends := make([]int, len(messages))
	for i, m := range messages {
		var err error
		if serialized, err = (proto.MarshalOptions{}).MarshalAppend(serialized, m); err != nil {
			return 0, err
		}
		ends[i] = len(serialized)
	}
	*buffer = serialized
	records := make([][]byte, len(messages))
	start := 0
	for i, end := range ends {
		records[i] = serialized[start:end]
		start = end
	}
	return s.ingestBatch(C.ZB_RECORD_PROTO, records)
}
