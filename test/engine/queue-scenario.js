// The Moddable queue on a small engine, with the stand-in Preference and File (moddable-env.js)
// and a client whose link is down or up. ES5. Globals before it: H (harness.js), MOD, Q (the
// queue module), QF (the queue-file module). For each kind of files: accept while down, a
// restart that finds the messages, delivery in order with reports, a full queue.

function generated(len, seed) {
  var b = new Uint8Array(len), i;
  for (i = 0; i < len; i++) b[i] = (i * 7 + seed) & 255;
  return b;
}

function link() {
  var l = { up: false, sent: [], id: 1000 };
  l.client = {
    publish: function (topic, bytes, cb) {
      setTimeout(function () {
        var e;
        if (!l.up) {
          e = new Error("link down");
          e.code = "ENETWORK";
          return cb(e);
        }
        l.sent.push(topic + " " + H.hex(bytes));
        cb(null, { messageId: "" + ++l.id });
      }, 1);
    },
  };
  return l;
}

function queueRun(name, files) {
  H.step(name, function (done) {
    var dead = link(), l = link(), r = { accepted: [] }, reports = [], q1, q2, q3, i, drops = [];
    // the first program's link stays down: after the restart nothing of it is heard again
    q1 = Q.queue(dead.client, { files: files, retry: 2, maxRetry: 8 });
    for (i = 0; i < 8; i++) r.accepted.push(q1.publish("/p/d/user/m" + i, i % 2 ? generated(40 + i * 30, i) : "t\u00fcr " + i));
    setTimeout(function () {
      q1.close();
      r.sentWhileDown = dead.sent.length;
      // a restart: a new queue over the same files
      q2 = Q.queue(l.client, { files: files, retry: 2, maxRetry: 8, report: H.guard("report", function (err, m) {
        reports.push(err ? err.code : m.messageId + " " + m.topic);
      }) });
      r.found = q2.status().messages;
      l.up = true;
      r.accepted.push(q2.publish("/p/d/user/late", generated(300, 9)));
      q2.flush(H.guard("flush", function (err) {
        r.flushed = err ? err.code : null;
        r.sent = l.sent.slice();
        r.reports = reports;
        r.status = q2.status();
        q2.close();
        // full, "drop-oldest", two messages at most
        l.up = false;
        q3 = Q.queue(l.client, { files: files, maxMessages: 2, retry: 2, maxRetry: 8 });
        for (i = 0; i < 4; i++) q3.publish("/p/d/user/full", "f" + i, H.guard("drop", function (err) {
          drops.push(err ? err.code : "ok");
        }));
        r.full = q3.status();
        l.up = true;
        q3.flush(H.guard("flush full", function (err) {
          r.drops = drops;
          r.sentFull = l.sent.slice(r.sent.length);
          r.end = q3.status();
          q3.close();
          H.results[name] = r;
          done();
        }));
      }));
    }, 30);
  });
}

queueRun("preference", Q.preferenceFiles());
queueRun("file", QF.fileFiles("/q/"));
H.step("stand-ins", function (done) {
  H.results.violations = MOD.violations;
  H.results.fileWrites = MOD.fileWrites;
  H.results.prefKeys = MOD.Preference.keys("aiq");
  done();
});
