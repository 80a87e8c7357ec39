// Times a fetch step on its own: the keyset query (sqlite) or the HTTP round trip (http).
// argv: sqlite <table> <size> | http <port> <size>
import { Agent, request } from 'node:http';
import Database from 'better-sqlite3';
import { report } from '../lib/report.mjs';

const [kind, target, size] = process.argv.slice(2);
const runs = kind === 'sqlite' ? 20_000 : 3_000;
let fetch;
if (kind === 'sqlite') {
  const query = new Database(target, { readonly: true }).prepare('SELECT id FROM items WHERE id > ? ORDER BY id LIMIT ?');
  fetch = async (after) => query.all(after, Number(size)).map((row) => row.id);
} else {
  const agent = new Agent({ keepAlive: true });
  fetch = (after) =>
    new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port: Number(target), path: `/items?after=${after}&limit=${size}`, agent }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve(JSON.parse(body).ids));
      })
        .on('error', reject)
        .end();
    });
}
let after = 0;
for (let i = 0; i < 100; i++) after = (await fetch(after)).at(-1) ?? 0;
const started = performance.now();
for (let i = 0; i < runs; i++) after = (await fetch(after)).at(-1) ?? 0;
report({ scenario: `fetch-${kind}`, fetchMs: (performance.now() - started) / runs });
process.exit(0);
