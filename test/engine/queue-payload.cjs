// The payload of message `id` in the queue tests: "<id>:" then 0 to 299 bytes made from the
// id, every byte value among them, so that a payload cut short or mixed with another is seen.
function payloadOf(id) {
  const head = Buffer.from(id + ':');
  const n = (id * 37) % 300;
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = (id * 13 + i * 7) & 255;
  return Buffer.concat([head, body]);
}

/** The id a received payload carries, or NaN where it is not a whole payload of this test. */
function idOf(bytes) {
  const text = bytes.toString('latin1');
  const id = parseInt(text, 10);
  return String(id) === text.slice(0, text.indexOf(':')) && payloadOf(id).equals(bytes) ? id : NaN;
}

module.exports = { payloadOf, idOf };
