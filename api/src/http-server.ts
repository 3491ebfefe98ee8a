import http from 'node:http';
import type Koa from 'koa';
import { PROBLEM_KINDS, problemType, type ProblemKind } from './problem.ts';

/** Room for long filter lists and 10 KB query strings; Node's default (16 KiB for all headers) is tight for that. */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Requests Node rejects before the app sees them still get a problem+json body, never a bare status line. */
function rawProblem(kind: ProblemKind, detail: string): string {
  const status = PROBLEM_KINDS[kind].status;
  const title = http.STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ type: problemType(kind), title, status, detail });
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
        ? rawProblem(
            'headers-too-large',
            `the request line and headers exceed ${MAX_HEADER_BYTES} bytes; shorten the query`,
          )
        : rawProblem('bad-request', 'the request is not valid HTTP/1.1'),
    );
  });
  return server;
}
