// A TCP relay in front of the emulator that can take the link down: while down, every
// connection is reset at once (as a dead link or a refused route looks to a device).
import net from 'node:net';

export async function startProxy(targetPort, targetHost = '127.0.0.1') {
  let down = false;
  const sockets = new Set();
  const attempts = []; // when each connection arrived, and whether the link was up
  const server = net.createServer((client) => {
    attempts.push({ at: Date.now(), up: !down });
    if (down) return client.destroy();
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    attempts,
    /** Takes the link down: open connections are cut too. */
    down() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    up() {
      down = false;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
