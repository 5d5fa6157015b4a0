// A TCP proxy in front of the server, to drop the browser's connections on purpose: the
// page is opened through it, and `cut()` ends every open connection (the live stream's too)
// and turns new ones away until `restore()`, as a network outage would.

import { createConnection, createServer } from 'node:net';

export async function startProxy(targetUrl) {
  const target = new URL(targetUrl);
  const sockets = new Set();
  let down = false;

  const track = (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // a cut connection errors on the other side; expected
  };

  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    async close() {
      this.cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
