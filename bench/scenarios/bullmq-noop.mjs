// BullMQ 5: no-op jobs through one worker process, on a redis-server this scenario starts.
// argv: jobs concurrency
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { report } from '../lib/report.mjs';

const [jobs = 200_000, concurrency = 200] = process.argv.slice(2).map(Number);
try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
} catch {
  report({ scenario: 'bullmq-noop', skipped: 'redis-server is not installed (apt-get install redis-server); BullMQ row skipped' });
  process.exit(0);
}
const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
const dir = join(import.meta.dirname, '..', '.tmp', `redis-${process.pid}`);
mkdirSync(dir, { recursive: true });
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
try {
  const queue = new Queue('bench', { connection: { host: '127.0.0.1', port } });
  await queue.waitUntilReady();
  for (let i = 0; i < jobs; i += 10_000) {
    await queue.addBulk(Array.from({ length: Math.min(10_000, jobs - i) }, (_, j) => ({ name: 'noop', data: { n: i + j }, opts: { removeOnComplete: true } })));
  }
  const worker = fork(join(import.meta.dirname, '..', 'lib', 'bullmq-worker.mjs'), [String(port), String(jobs), String(concurrency)], { stdio: 'ignore' });
  await new Promise((resolve) => worker.once('message', resolve));
  const finished = new Promise((resolve) => worker.once('message', resolve));
  worker.send('go');
  const { seconds } = await finished;
  report({ scenario: 'bullmq-noop', jobs, concurrency, seconds, jobsPerSecond: jobs / seconds, redis: 'redis-server, no persistence' });
  await queue.close();
} finally {
  redis.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
