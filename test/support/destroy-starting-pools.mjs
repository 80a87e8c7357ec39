// Starts page pools of two threads and destroys each as soon as one thread is ready, when the
// other may still be loading its module; prints "ok" if the process lives through them all.
// Usage: node destroy-starting-pools.mjs <pools>
import { PagePool } from '../../dist/runner/pool/page-pool.js';

const pools = Number(process.argv[2]);
const boot = { jobId: 'j', argsJson: '{}', threads: 2, direct: null };
for (let i = 0; i < pools; i++) {
  const pool = new PagePool({ boot, threads: 2 });
  while (pool.threadIds().length === 0) await new Promise((resolve) => setImmediate(resolve));
  await pool.destroy();
}
console.log('ok');
