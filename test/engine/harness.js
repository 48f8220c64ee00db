// Harness shared by every engine run (Duktape, MuJS, Espruino, xst). ES5 only, no substr.
// Globals expected before it: ENGINE ("duktape" | "mujs" | "espruino" | "xst"), INPUT (JSON
// from the Node test). It provides H: timers, byte helpers, a step runner and the result line.
//
// Timers: on an engine without setTimeout (Duktape, MuJS) it installs setTimeout/clearTimeout
// over a virtual clock and drains that queue at the end of the script, so backoff delays cost
// nothing and the run is deterministic. Espruino and xst keep their own timers (the Espruino
// bundle's transport calls the engine's global setTimeout, which Espruino does not let a script
// replace); there the test uses tiny delays and a watchdog.
var H = (function (global) {
  var virtual = typeof setTimeout != "function";
  var queue = [], clock = 0, seq = 0, steps = [], results = {}, errors = [], printed = 0, watchdog;

  if (virtual) {
    // extra arguments are passed to fn, as every engine's setTimeout does
    global.setTimeout = function (fn, ms) {
      var args = [].slice.call(arguments, 2);
      var t = { id: ++seq, at: clock + Math.max(0, +ms || 0), fn: function () { fn.apply(null, args); } };
      queue.push(t);
      return t.id;
    };
    global.clearTimeout = function (id) {
      for (var i = 0; i < queue.length; i++) if (queue[i].id === id) queue.splice(i, 1);
    };
  }

  // Runs the virtual queue in time order (then creation order) until it is empty.
  function drain() {
    var n = 0, i, best, t;
    while (queue.length) {
      if (++n > 100000) {
        errors.push("virtual timer queue did not drain (a timer loop?)");
        return;
      }
      best = 0;
      for (i = 1; i < queue.length; i++) {
        t = queue[i];
        if (t.at < queue[best].at || (t.at == queue[best].at && t.id < queue[best].id)) best = i;
      }
      t = queue.splice(best, 1)[0];
      clock = t.at;
      try {
        t.fn();
      } catch (e) {
        errors.push("uncaught in a timer: " + describe(e));
      }
    }
  }

  function describe(e) {
    if (e === null || typeof e != "object") return "" + e;
    return (e.code !== undefined ? e.code + " " : "") + e.message + (typeof e.stack == "string" ? " [" + e.stack.split("\n").slice(0, 4).join(" / ") + "]" : "");
  }

  // A bundle's error as plain data (code, message, status, messageId when present).
  function error(e) {
    var o;
    if (e === null || e === undefined) return null;
    if (typeof e != "object") return { thrown: "" + e };
    o = { code: e.code === undefined ? null : e.code, message: "" + e.message };
    if (e.status !== undefined) o.status = e.status;
    if (e.messageId !== undefined) o.messageId = e.messageId;
    if (e.cause && e.cause.code !== undefined) o.cause = e.cause.code;
    return o;
  }

  var HEX = "0123456789abcdef";
  function hex(bytes) {
    var s = "", i, b;
    for (i = 0; i < bytes.length; i++) {
      b = bytes[i] & 255;
      s += HEX.charAt(b >> 4) + HEX.charAt(b & 15);
    }
    return s;
  }
  function fromHex(h) {
    var out = new Uint8Array(h.length >> 1), i;
    for (i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  // An 8-bit string (Espruino's http body) as hex, and whether any character is above 255.
  function string8(s) {
    var out = [], wide = false, i, c;
    for (i = 0; i < s.length; i++) {
      c = s.charCodeAt(i);
      if (c > 255) wide = true;
      out.push(c & 255);
    }
    return { hex: hex(out), wide: wide };
  }
  function copy(o) {
    var r = {}, k;
    for (k in o) r[k] = o[k];
    return r;
  }

  // JSON with every character above 126 escaped, so that the line is ASCII on every engine.
  function ascii(s) {
    var out = "", i, c, h;
    for (i = 0; i < s.length; i++) {
      c = s.charCodeAt(i);
      if (c < 127) out += s.charAt(i);
      else {
        h = c.toString(16);
        while (h.length < 4) h = "0" + h;
        out += "\\u" + h;
      }
    }
    return out;
  }

  // One line per result key, each freed once printed (a whole line of them does not fit in
  // Espruino's memory), then the closing line with the rest.
  function emit() {
    var k, keys = [];
    if (printed++) return;
    for (k in results) keys.push(k);
    for (k = 0; k < keys.length; k++) {
      print("@@PART " + keys[k] + " " + ascii(JSON.stringify(results[keys[k]])));
      delete results[keys[k]];
    }
    print("@@RESULT " + ascii(JSON.stringify({ errors: errors, engine: ENGINE, completed: keys.indexOf("completed") >= 0 })));
  }

  function run() {
    var i = 0;
    function next() {
      var s, called = 0;
      if (i >= steps.length) return finish();
      s = steps[i++];
      try {
        s.fn(function () {
          if (called++) return void errors.push("step " + s.name + " finished twice");
          setTimeout(next, 0);
        });
      } catch (e) {
        errors.push("step " + s.name + " threw: " + describe(e));
        setTimeout(next, 0);
      }
    }
    function finish() {
      results.completed = true;
      // let any late (duplicate) callback arrive before the results are printed
      setTimeout(function () {
        if (watchdog !== undefined) clearTimeout(watchdog);
        if (!virtual) {
          emit();
          if (typeof quit == "function") quit();
        }
      }, virtual ? 60000 : 30);
    }
    if (!virtual)
      watchdog = setTimeout(function () {
        errors.push("watchdog: the steps did not finish in time");
        emit();
        if (typeof quit == "function") quit();
      }, 90000); // pure-JS hashing on Espruino takes seconds, more on a busy machine
    next();
    if (virtual) {
      drain();
      if (!results.completed) errors.push("the steps stopped: a callback never came");
      emit();
    }
  }

  return {
    virtual: virtual,
    results: results,
    errors: errors,
    // ms on the virtual clock; null on engines with real timers
    clock: function () {
      return virtual ? clock : null;
    },
    step: function (name, fn) {
      steps.push({ name: name, fn: fn });
    },
    // Wraps a callback of the test's own: an exception in it is recorded, not thrown into the bundle.
    guard: function (name, fn) {
      return function () {
        try {
          return fn.apply(this, arguments);
        } catch (e) {
          errors.push(name + " threw: " + describe(e));
        }
      };
    },
    run: run,
    error: error,
    // The test's own in-memory storage, for a bundle that exports no memoryStorage.
    memory: function () {
      var m = {};
      return {
        getItem: function (k) {
          return m.hasOwnProperty("$" + k) ? m["$" + k] : null;
        },
        setItem: function (k, v) {
          m["$" + k] = "" + v;
        },
        removeItem: function (k) {
          delete m["$" + k];
        },
      };
    },
    hex: hex,
    fromHex: fromHex,
    string8: string8,
    copy: copy,
  };
})(this);
