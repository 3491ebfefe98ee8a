import http from 'node:http';
import type Koa from 'koa';

/** Room for long filter lists and 10 KB query strings; Node's default (16 KiB for all headers) is tight for that. */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Requests Node rejects before the app sees them still get a problem+json body, never a bare status line. */
function rawProblem(status: number, title: string, detail: string): string {
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  return (
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nCache-Control: no-store\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** The HTTP server for a Koa app, as server.ts and the tests run it. */
export function createHttpServer(app: Koa): http.Server {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, app.callback());
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return;
    socket.end(
      error.code === 'HPE_HEADER_OVERFLOW'
        ? rawProblem(431, 'Request Header Fields Too Large', `the request line and headers exceed ${MAX_HEADER_BYTES} bytes; shorten the query`)
        : rawProblem(400, 'Bad Request', 'the request is not valid HTTP/1.1'),
    );
  });
  return server;
}
