import { error } from "./errors";

/**
 * A target's files for the queue, written the way flash is: a file is created once with its
 * size, its bytes are then written once each (an area is written only where it was never
 * written), and a whole file is erased. Data are byte strings (characters 0 to 255).
 */
export interface QueueFiles {
  /** The names of the files that exist (others' too: the log keeps only its own). */
  list(): string[];
  /** Up to `length` (> 0) bytes at `offset`; fewer at the end of the file, "" past it. */
  read(name: string, offset: number, length: number): string;
  /**
   * Writes `data` at `offset`, on the medium before it returns; throws when it cannot. `size` is
   * given on a file's first write (at offset 0): a target that allocates files whole uses it.
   */
  write(name: string, data: string, offset: number, size?: number): void;
  erase(name: string): void;
}

/** The records of a queue in order: at most one is read into memory at a time. */
export interface Log {
  /** Records not yet shifted, and the bytes they take in the files. */
  count: number;
  bytes: number;
  /** Appends a record; it is on the medium when push returns. */
  push(body: string): void;
  /** The oldest record; null when there is none, false when it is damaged (then shift it). */
  peek(): string | null | false;
  /** Marks the oldest record done (one byte written) and moves on to the next. */
  shift(): void;
}

interface Segment {
  n: number;
  size: number;
  /** Where the next record goes; past `size` (or 0) once nothing more may be appended. */
  end: number;
}

/**
 * A record: its state (1 byte), the body's length (4 hex digits), the body's Adler-32 (8 hex
 * digits), the body. The state of a record not yet delivered is 0xff, as erased flash reads,
 * so marking it done writes one byte and rewrites nothing. A write cut short leaves a length or
 * checksum that does not match: the record is never taken for a whole one.
 */
var HEAD = 13;
var PENDING = "\xff";
var BLANK = "\xff\xff\xff\xff\xff";
/** A segment starts "Q" and its size in 4 hex digits; no record is ever at offset 0 (on Espruino a write there recreates the file). */
var START = 5;
export var MAX_SEGMENT = 65535;

export function hex4(n: number) {
  return ("000" + n.toString(16)).slice(-4);
}

/** Adler-32 (RFC 1950, section 9) of a byte string, as 8 hex digits. */
export function adler32(s: string) {
  var a = 1, b = 0, i;
  for (i = 0; i < s.length; i++) {
    a = (a + s.charCodeAt(i)) % 65521;
    b = (b + a) % 65521;
  }
  return hex4(b) + hex4(a);
}

/**
 * Opens the log kept in the files `prefix` + a number, in segments of `segment` bytes (a record
 * longer than that gets a segment of its own size). It reads each record's header once, to count
 * what is queued; segments with nothing queued are erased.
 */
export function openLog(files: QueueFiles, prefix: string, segment: number): Log {
  var segs: Segment[] = [], names = files.list(), log: Log, head: any = null, i, k, s: Segment, m, off, h: any;

  function name(s: Segment) {
    return prefix + s.n;
  }

  /** [state, body length] of the record at `off`; 0 at the clean end of what was written, -1 where a header is damaged. */
  function header(s: Segment, off: number): any {
    var t = off + HEAD > s.size ? "" : files.read(name(s), off, HEAD), n = parseInt(t.slice(1, 5), 16);
    if (t.length < HEAD || t.slice(0, 5) == BLANK) return 0;
    return hex4(n) == t.slice(1, 5) && off + HEAD + n <= s.size ? [t.charAt(0), n] : -1;
  }

  function erase(s: Segment) {
    segs.splice(segs.indexOf(s), 1);
    try {
      files.erase(name(s));
    } catch (x) {} // one with nothing queued is erased again on the next open
  }

  /** From `off` in segs[k], finds the next queued record, erasing the segments left behind. */
  function seek(s: Segment, off: number) {
    head = null;
    for (;;) {
      while (off < s.end && (h = header(s, off)) && h != -1) {
        if (h[0] == PENDING) return void (head = [s, off, h[1]]);
        off += HEAD + h[1];
      }
      if (s == segs[segs.length - 1]) return;
      erase(s);
      s = segs[0];
      off = START;
    }
  }

  for (i = 0; i < names.length; i++) {
    k = names[i].slice(prefix.length);
    if (names[i].slice(0, prefix.length) == prefix && String(+k) == k) segs.push({ n: +k, size: 0, end: 0 });
  }
  segs.sort(function (a, b) {
    return a.n - b.n;
  });
  log = {
    count: 0,
    bytes: 0,
    push: function (body) {
      var rec = PENDING + hex4(body.length) + adler32(body) + body, t = segs[segs.length - 1], size;
      if (START + rec.length > MAX_SEGMENT) throw error("ETOOBIG", "record over " + MAX_SEGMENT + " bytes");
      if (!t || t.end + rec.length > t.size) {
        if (!log.count) while (segs.length) erase(segs[0]); // every record is done: start afresh, from file 1
        size = Math.max(segment, START + rec.length);
        s = { n: segs.length ? t.n + 1 : 1, size: size, end: 0 };
        files.write(name(s), "Q" + hex4(size), 0, size);
        segs.push(s);
        s.end = START;
        t = s;
      }
      off = t.end;
      t.end = t.size + 1; // until the write returns: a write that fails may leave bytes behind
      files.write(name(t), rec, off);
      t.end = off + rec.length;
      log.count++;
      log.bytes += rec.length;
      if (!head) head = [t, off, body.length];
    },
    peek: function () {
      var r, body;
      if (!head) return null;
      r = files.read(name(head[0]), head[1], HEAD + head[2]);
      body = r.slice(HEAD);
      return body.length == head[2] && r.slice(5, 13) == adler32(body) ? body : false;
    },
    shift: function () {
      var s = head[0], off = head[1] + HEAD + head[2];
      log.count--;
      log.bytes -= HEAD + head[2];
      try {
        files.write(name(s), "\0", head[1]);
      } catch (x) {} // not marked: after a restart it is sent again, which at least once allows
      seek(s, off);
    },
  };

  // the records' headers, segment by segment: what is queued, and where the next one goes
  for (i = 0; i < segs.length; i++) {
    s = segs[i];
    m = files.read(name(s), 0, START);
    s.size = parseInt(m.slice(1), 16);
    if (m.charAt(0) != "Q" || hex4(s.size) != m.slice(1)) {
      erase(s); // its creation was cut short
      i--;
      continue;
    }
    off = START;
    while ((h = header(s, off)) && h != -1) {
      if (h[0] == PENDING) {
        log.count++;
        log.bytes += HEAD + h[1];
        if (!head) head = [s, off, h[1]];
      }
      off += HEAD + h[1];
    }
    s.end = h ? s.size + 1 : off; // after a damaged header nothing more is appended here
  }
  for (i = segs.length - 2; i >= 0; i--) if (!head || segs[i].n < head[0].n) erase(segs[i]);
  return log;
}
