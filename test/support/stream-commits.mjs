// A worker thread that commits a small transaction every `everyMs` for `ms`, without yielding,
// each under the process's write lock (trying again while another holder has it), as worker
// threads commit their pages' children. workerData: { file, lock, ms, everyMs, holdMs }. With
// holdMs, each holds the lock that long, inserting all the while, as a saturated scheduler's open
// group does, and lets it go for everyMs - holdMs after its commit. Posts how many it committed.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { WriteLock } from '../../dist/runner/store/write-lock.js';

const { file, lock: buffer, ms, everyMs, holdMs = 0 } = workerData;
const db = new Database(file, { timeout: 0 });
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
const lock = new WriteLock(buffer);
const insert = db.prepare('INSERT INTO baton_meta (key, value) VALUES (?, ?)');
let commits = 0;
const until = performance.now() + ms;
let next = performance.now();
while (performance.now() < until) {
  if (performance.now() < next || !lock.tryAcquire()) continue;
  next += everyMs;
  try {
    const holdUntil = performance.now() + holdMs;
    db.transaction(() => {
      do insert.run(`stream-${commits}-${performance.now()}`, 'x'.repeat(200));
      while (performance.now() < holdUntil);
    })();
    commits++;
  } finally {
    lock.release();
  }
  // A large transaction's commit takes a while: the lock stays free for the time asked all the same.
  if (holdMs > 0) next = performance.now() + everyMs - holdMs;
}
db.close();
parentPort.postMessage(commits);
