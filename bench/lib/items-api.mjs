// A local paginated API over the items table, in its own process: the I/O-bound processor's
// fetch is a real HTTP round trip to it. argv: table. Prints its port when listening.
import { createServer } from 'node:http';
import Database from 'better-sqlite3';

const db = new Database(process.argv[2], { readonly: true });
const query = db.prepare('SELECT id FROM items WHERE id > ? ORDER BY id LIMIT ?');
const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://localhost');
  const ids = query.all(Number(url.searchParams.get('after') ?? 0), Number(url.searchParams.get('limit') ?? 10)).map((row) => row.id);
  const body = JSON.stringify({ ids });
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
