// Sign-speed harness for every engine (ES5; Node, Duktape, MuJS, Espruino, xst). Globals set
// before it: INPUT {key, msg, expected: {alg: hex}, ms, samples, warm}, L (the loaded library),
// LOADERR (what loading it threw), CASES [{id, alg, f(L, K, M) -> hex}]. Prints one line per
// case: @@BENCH {"id", "ops", "n", "samples"} or {"id", "fail"}.
function timeLoop(f, n) {
  var t = Date.now(), i, r;
  for (i = 0; i < n; i++) r = f();
  t = Date.now() - t;
  if (typeof r != "string") throw new Error("no digest");
  return t > 0 ? t : 0.5;
}

// Operations per second: n doubled until a loop takes ms / 5, then (after `warm` ms of
// untimed runs: Node's JIT) `samples` loops of about ms each; the median rate.
function measure(f, ms, samples, warm) {
  var n = 1, t = timeLoop(f, 1), rates = [], s, end;
  while (t < ms / 5) {
    n *= 2;
    t = timeLoop(f, n);
  }
  for (end = Date.now() + warm; Date.now() < end; ) timeLoop(f, n);
  n = Math.max(1, Math.round((n * ms) / t));
  for (s = 0; s < samples; s++) rates.push((n * 1000) / timeLoop(f, n));
  rates.sort(function (a, b) {
    return a - b;
  });
  return { ops: rates[samples >> 1], n: n, samples: rates };
}

function bound(f, L, K, M) {
  return function () {
    return f(L, K, M);
  };
}

function runCases() {
  var i, c, out, f, d, r;
  for (i = 0; i < CASES.length; i++) {
    c = CASES[i];
    out = { id: c.id };
    try {
      if (LOADERR) throw LOADERR;
      f = bound(c.f, L, INPUT.key, INPUT.msg);
      d = f();
      if (d !== INPUT.expected[c.alg]) out.fail = "wrong digest " + d;
      else {
        r = measure(f, INPUT.ms, INPUT.samples, INPUT.warm);
        out.ops = r.ops;
        out.n = r.n;
        out.samples = r.samples;
      }
    } catch (e) {
      out.fail = "" + (e && e.message ? e.message : e);
    }
    print("@@BENCH " + JSON.stringify(out));
  }
}
runCases();
