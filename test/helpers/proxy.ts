import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PathProxy {
  /** `http://127.0.0.1:<port>`: the proxy's root, where nothing is served. */
  origin: string;
  port: number;
  /** Where requests under the prefix go from now on: the receiver's port. */
  forwardTo(port: number): void;
  /** Request targets that were not under the prefix (a link that lost it), as they came. */
  outside: string[];
  close(): Promise<void>;
}

/**
 * A reverse proxy that serves a receiver under `prefix` (`/crashes`), as nginx does with
 * `location /crashes/ { proxy_pass http://127.0.0.1:8000/; }`: the prefix is taken off
 * (`strip: false` passes it on, as `proxy_pass http://127.0.0.1:8000;` does), `Host` becomes the
 * receiver's address (nginx's default; `passHost` keeps the browser's, as `proxy_set_header Host
 * $host` does), and `/crashes` without the slash is redirected to `/crashes/`. Everything else
 * answers 404, as a proxy's root would.
 */
export async function startPathProxy(options: { prefix: string; strip: boolean; passHost?: boolean }): Promise<PathProxy> {
  const { prefix, strip } = options;
  let target = 0;
  const outside: string[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === prefix || url.startsWith(`${prefix}?`)) {
      res.writeHead(301, { location: `${prefix}/${url.slice(prefix.length)}` }).end();
      return;
    }
    if (!url.startsWith(`${prefix}/`)) {
      outside.push(url);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found at the proxy\n');
      return;
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target,
        method: req.method,
        path: strip ? url.slice(prefix.length) : url,
        headers: options.passHost ? req.headers : { ...req.headers, host: `127.0.0.1:${target}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end('bad gateway\n'));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    forwardTo: (p) => void (target = p),
    outside,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
