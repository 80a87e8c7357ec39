// One BullMQ worker process with a no-op processor; exits once `count` jobs completed.
import { Worker } from 'bullmq';

const [port, count, concurrency] = process.argv.slice(2).map(Number);
let done = 0;
let started = 0;
const worker = new Worker('bench', async () => null, { connection: { host: '127.0.0.1', port }, concurrency, autorun: false });
worker.on('completed', () => {
  if (++done === count) {
    const seconds = (performance.now() - started) / 1000;
    process.send({ seconds });
    void worker.close().then(() => process.exit(0));
  }
});
await worker.waitUntilReady();
process.send({ ready: true });
process.once('message', () => {
  started = performance.now();
  void worker.run();
});
