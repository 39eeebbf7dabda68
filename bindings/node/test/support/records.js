'use strict';

// The protobuf record the tests and the bench send: message Event { optional int64 id = 1;
// optional string payload = 2; }.

/** The serialized DescriptorProto of Event. */
const EVENT_DESCRIPTOR = Buffer.from(
  '0a054576656e74120a0a026964180120012803120f0a077061796c6f6164180220012809',
  'hex',
);

function varint(value, out) {
  let rest = BigInt(value);
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest !== 0n) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0n);
}

/** Event { id, payload } serialized: field 1 as a varint, field 2 length-delimited. */
function encodeEvent(id, payload) {
  const text = Buffer.from(payload, 'utf8');
  const head = [0x08];
  varint(id, head);
  head.push(0x12);
  varint(text.length, head);
  return Buffer.concat([Buffer.from(head), text]);
}

module.exports = { EVENT_DESCRIPTOR, encodeEvent };
