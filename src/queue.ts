import { MAX_PAYLOAD, payloadBytes, validTopic } from "./check";
import { ClientError, error } from "./errors";
import { option } from "./options";
import { Log, MAX_SEGMENT, QueueFiles, openLog } from "./log";
import { Callback, Client } from "./types";

export interface QueueOptions {
  /** Where the queue is kept; each target has its default. */
  files?: QueueFiles;
  /** Prefix of its file names, default "aiq". */
  name?: string;
  /** Bytes the queued messages may take (each: its topic, payload and about 23 more), default 4096. */
  maxBytes?: number;
  /** Messages at most, default 64. */
  maxMessages?: number;
  /** When a message would go over a budget: "drop-oldest" (default) drops the oldest ones, "refuse" refuses the new one. */
  full?: "drop-oldest" | "refuse";
  /** ms before the first retry while sending fails; it doubles up to `maxRetry`. Default 5000 and 300000. */
  retry?: number;
  maxRetry?: number;
  /** Bytes of one queue file (a segment), default 1024; a longer message gets a file of its own size. */
  segment?: number;
  /**
   * Called for every message that leaves the queue, those accepted before a restart too: `err`
   * null when delivered, else why it was dropped (with the payload). A delivered message is
   * reported before it is marked done: a power cut between the two reports it again after the
   * restart (and sends it again), it never goes unreported.
   */
  report?: (err: ClientError | null, message: QueuedMessage) => void;
  /** The clock for `accepted`, ms since the epoch; default Date.now. */
  now?: () => number;
}

export interface QueuedMessage {
  topic: string;
  /** When the queue accepted it, by the clock given (0 when that clock threw). */
  accepted: number;
  /** The service's id, once delivered. */
  messageId?: string;
  /** The payload, when the message was dropped (so that the application may keep it). */
  payload?: Uint8Array;
}

export interface QueueStatus {
  /** Messages queued, and the bytes they take. */
  messages: number;
  bytes: number;
  /** Messages dropped since the queue was made: to make room, refused by the service for good, or damaged. */
  dropped: number;
}

export interface Queue {
  /**
   * Accepts a message: true once it is on the medium. From then on it is delivered at least
   * once, in order, and `callback` (if given) is called once: with the service's reply, or with
   * the error for which it was dropped. False when it is refused (bad topic or payload, a full
   * queue under "refuse", a medium that cannot write): `callback` then gets that error.
   */
  publish(topic: string, payload: string | Uint8Array | ArrayBuffer, callback?: Callback<QueuedMessage>): boolean;
  /** Sends now rather than at the next retry; `callback` gets null once the queue is empty, or the error that stopped it. */
  flush(callback?: (err: ClientError | null) => void): void;
  status(): QueueStatus;
  /** Stops the retry timer; nothing is sent until flush() is called. */
  close(): void;
}

export interface QueuePlatform {
  files: QueueFiles;
  encode: (s: string) => Uint8Array;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (id: any) => void;
}

var ATTEMPTS = 3; // 30001 (publish message error) this many times in a row sets a message aside

/** Codes for which the service refuses a message for good: retrying cannot help. */
function refusedForGood(c: unknown) {
  return c == 10001 || c == "EINVAL" || c == "ETOOBIG";
}

function safely(f: any, a: any, b?: any) {
  try {
    if (f) f(a, b);
  } catch (x) {} // an application callback that throws must not stop the queue
}

/**
 * Store and forward over a client: a message is written to the medium before it is accepted, and
 * leaves only once the service answered it with a messageId (or refused it for good). Sending
 * goes oldest first, one at a time, each through the client (its token, its retries).
 */
export function queue(client: Client, o: QueueOptions, p: QueuePlatform): Queue {
  o = o || {};
  var maxBytes: number = option(o, "maxBytes", 4096, function (v) {
    return v >= 64;
  });
  var maxMessages: number = option(o, "maxMessages", 64, function (v) {
    return v >= 1;
  });
  var refuse = option(o, "full", "drop-oldest", function (v) {
    return v == "drop-oldest" || v == "refuse";
  }) == "refuse";
  var first: number = option(o, "retry", 5000);
  var most: number = option(o, "maxRetry", 300000);
  var report = option(o, "report", safely);
  var now: () => number = option(o, "now", Date.now);
  var segment: number = option(o, "segment", 1024, function (v) {
    return v >= 64 && v <= MAX_SEGMENT;
  });
  var log: Log = openLog(option(o, "files", p.files, function (v) {
    return v && typeof v.write == "function";
  }), option(o, "name", "aiq"), segment);
  var encode = p.encode, later = p.setTimeout, cancel = p.clearTimeout;
  var wait = first, timer: unknown = 0, closed = 0, dropped = 0, tries = 0;
  var older = log.count; // queued before this run: no callback of this run's
  var callbacks: any[] = [];
  var flushing: any[] = [];
  var sending: any = 0; // the oldest message while it is sent: {m, cb, gone}

  if (report == safely) report = 0;

  /** The callback of the oldest message (none for one queued before this run). */
  function takeCallback() {
    if (!older) return callbacks.shift();
    older--;
  }

  /** Reports a message leaving the queue: the hook, then its callback, never throwing. */
  function leave(err: ClientError | null, m: QueuedMessage, cb: any) {
    if (err) dropped++;
    else delete m.payload;
    safely(report, err, m);
    safely(cb, err, err ? undefined : m);
  }

  function flushed(err: ClientError | null) {
    var list = flushing;
    flushing = [];
    list.forEach(function (f) {
      safely(f, err);
    });
  }

  function schedule(ms: number) {
    if (!timer && !closed)
      timer = later(function () {
        timer = 0;
        drain();
      }, ms);
  }

  /** The oldest message, read from its record; false when the record is damaged (then reported and shifted). */
  function oldest(): QueuedMessage | false | null {
    var body = log.peek(), i, j, b, k;
    if (body === false) {
      log.shift();
      leave(error("ECORRUPT", "damaged record"), { topic: "", accepted: 0 }, takeCallback());
    }
    if (!body) return body as false | null;
    // the accepted time in base 36, the topic, the payload's bytes; spaces between
    i = body.indexOf(" ");
    j = body.indexOf(" ", i + 1);
    b = new Uint8Array(body.length - j - 1);
    for (k = 0; k < b.length; k++) b[k] = body.charCodeAt(j + 1 + k);
    return { topic: body.slice(i + 1, j), accepted: parseInt(body.slice(0, i), 36) || 0, payload: b };
  }

  /** Sends the oldest message; on success the next, on a failure again after the back-off. */
  function drain() {
    var m: any, s: any;
    if (sending || timer || closed) return;
    m = oldest();
    if (m === false) return drain();
    if (!m) return flushed(null);
    s = sending = { m: m, cb: takeCallback(), gone: 0 };
    client.publish(m.topic, m.payload, function (err, r) {
      var c = err && err.code;
      tries = err && c == 30001 ? tries + 1 : 0;
      if (!err || refusedForGood(c) || tries >= ATTEMPTS || s.gone) {
        tries = 0;
        wait = first;
        if (!err) m.messageId = (r as any).messageId;
        // reported, then marked done (unless dropped meanwhile: one dropped to make room while
        // it was sent, and then not delivered, was dropped); a callback that publishes and
        // makes room drops this one, already reported, by marking it
        leave(err && s.gone ? full("dropped: ") : (err as ClientError), m, s.cb);
        if (!s.gone) log.shift();
        sending = 0;
        if (err && s.gone) schedule(wait); // the link is still down: the next one waits
        else drain();
      } else {
        sending = 0;
        // the message stays first in line, its callback with it
        if (s.cb) callbacks.unshift(s.cb);
        else older++;
        schedule(wait);
        wait = Math.min(wait * 2, most);
        flushed(err);
      }
    });
  }

  function full(why: string) {
    return error("EFULL", why + "queue full");
  }

  /** Drops the oldest message to make room: one being sent is reported when its answer comes. */
  function dropOldest() {
    var m;
    if (sending && !sending.gone) {
      sending.gone = 1;
      return log.shift();
    }
    m = oldest();
    if (m) {
      log.shift();
      leave(full("dropped: "), m, takeCallback());
    }
  }

  function publish(topic: string, payload: any, cb?: Callback<QueuedMessage>) {
    var b = payloadBytes(payload, encode), rec = "", t = 0, i, err: any;
    if (cb != null && typeof cb != "function") throw error("EINVAL", "bad callback");
    err = !validTopic(topic) ? error("EINVAL", "bad topic " + (typeof topic == "string" ? topic : typeof topic)) : !b ? error("EINVAL", "bad payload") : b.length > MAX_PAYLOAD ? error("ETOOBIG", "payload over " + MAX_PAYLOAD + " bytes") : null;
    if (!err) {
      try {
        t = Math.floor(now()) || 0;
      } catch (x) {}
      for (i = 0; i < (b as Uint8Array).length; i++) rec += String.fromCharCode((b as Uint8Array)[i]);
      rec = t.toString(36) + " " + topic + " " + rec;
      if (13 + rec.length > maxBytes) err = error("ETOOBIG", "message over the queue's " + maxBytes + " bytes");
      else if (refuse && (log.count >= maxMessages || log.bytes + 13 + rec.length > maxBytes)) err = full("");
    }
    if (!err)
      try {
        log.push(rec); // written first: a power cut before the drop keeps both
      } catch (x) {
        err = error("ESTORAGE", "not written: " + ((x as any) && (x as any).message));
      }
    if (err) {
      later(function () {
        safely(cb, err);
      }, 0);
      return false;
    }
    callbacks.push(cb);
    while (log.count > maxMessages || log.bytes > maxBytes) dropOldest();
    schedule(0);
    return true;
  }

  schedule(0);
  return {
    publish: publish,
    flush: function (cb) {
      if (cb) flushing.push(cb);
      closed = 0;
      cancel(timer);
      timer = 0;
      wait = first;
      schedule(0);
    },
    status: function () {
      return { messages: log.count, bytes: log.bytes, dropped: dropped };
    },
    close: function () {
      closed = 1;
      cancel(timer);
      timer = 0;
    },
  };
}
