/**
 * The ceiling: a bare node:http server that answers every request with one precomputed response
 * (the body and headers of a real list page). What Node itself costs per request on this machine.
 * Run as a child process by ceiling.ts: CEILING_RESPONSE names a JSON file {headers, bodyBase64}.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';

interface Canned {
  headers: Record<string, string>;
  bodyBase64: string;
}

const canned = JSON.parse(readFileSync(process.env.CEILING_RESPONSE ?? '', 'utf8')) as Canned;
const body = Buffer.from(canned.bodyBase64, 'base64');
const headers = { ...canned.headers, 'content-length': String(body.length) };

const server = http.createServer((req, res) => {
  // read (and drop) any request body before answering, as a real server would
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
