// A tiny reverse proxy as a process of its own, standing in for a gateway pod in the upgrade traffic
// tests: it forwards everything to the URL it is given and prints its port; killing it cuts the
// streams in flight, as a terminated pod does.
import { createServer, request } from 'node:http';

const target = new URL(process.argv[2]!);
const server = createServer((req, res) => {
  const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`${typeof a === 'object' && a ? a.port : 0}\n`);
});
