// A device process for the power-cut test: it accepts numbered messages into the queue (and
// prints "A <id>" only once publish returned true) while the queue sends them, until it is
// killed. With "drain" it only sends what is queued, prints "D <messages left>" and exits.
// Arguments: build folder, queue folder, token folder, endpoint, CA file, first id, mode.
const fs = require('node:fs');
const [build, dir, tokens, endpoint, caFile, firstId, mode] = process.argv.slice(2);
const { createClient, createQueue } = require(build + '/node/index.cjs');
const { payloadOf } = require('./queue-payload.cjs');

const device = JSON.parse(process.env.QUEUE_DEVICE);
const topic = `/${device.productKey}/${device.deviceName}/user/queue`;
const client = createClient({ ...device, endpoint, ca: fs.readFileSync(caFile, 'utf8'), dir: tokens, timeout: 2000, retries: 0 });
const q = createQueue(client, { dir, maxBytes: 1 << 20, maxMessages: 10000, retry: 20, maxRetry: 200 });

if (mode === 'drain') {
  q.flush((err) => {
    fs.writeSync(1, `D ${q.status().messages} ${err ? err.code : ''}\n`);
    q.close();
    client.close();
  });
} else {
  let id = +firstId;
  const accept = () => {
    if (q.publish(topic, payloadOf(id))) fs.writeSync(1, `A ${id}\n`);
    id++;
    setTimeout(accept, 2);
  };
  accept();
}
