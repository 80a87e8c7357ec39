/**
 * The checkpointer's thread (checkpointer.ts): a connection of its own that copies the WAL into
 * the database when asked, so the sync that comes with it stalls nobody's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointDone, CheckpointerData, CheckpointerRequest } from './checkpointer.js';
import { WriteLock } from './write-lock.js';

const { file, synchronous, lock: lockBuffer, restartEveryMs = 1000 } = workerData as CheckpointerData;
// Never wait for a lock: a checkpoint that cannot run now runs at the next request.
const db = new Database(file, { timeout: 0 });
db.pragma(`synchronous = ${synchronous}`);
db.pragma('wal_autocheckpoint = 0');
const port = parentPort!;
const lock = lockBuffer ? new WriteLock(lockBuffer) : null;
let lastRestart = performance.now();

/**
 * How long the checkpoint that lets the WAL start over waits for the writers' lock. A saturated
 * scheduler keeps its group open 10 to 40 ms at a time (measured with no-op pages); at 1 ms that
 * checkpoint missed nearly every time, and the WAL grew to hundreds of MB between the few that
 * ran. Waiting blocks only this thread.
 */
const RESTART_LOCK_WAIT_MS = 50;

/**
 * The WAL starts over from its beginning only when a write begins with all of it copied into the
 * database. Worker threads and the scheduler commit hundreds of times a second, so some commit
 * always lands while a checkpoint runs, and the WAL grew without end (223 MB in 5 s for a chain
 * at P = 128, which would be tens of GB over an hour). Now and then the checkpointer keeps this
 * process's writers out (the lock they share) and copies what came in during its checkpoint
 * (a few milliseconds' worth); the next write then starts the WAL over. Writers that find the
 * lock taken meanwhile go through the scheduler's path or wait, as they do for its commits.
 * Returns whether it got the lock.
 */
function letWalStartOver(writers: WriteLock): boolean {
  if (!writers.acquireWithin(RESTART_LOCK_WAIT_MS)) return false;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } finally {
    writers.release();
  }
  return true;
}

port.on('message', (request: CheckpointerRequest) => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  let restart: CheckpointDone['restart'] = 'not-tried';
  try {
    // PASSIVE: copies what no reader still needs and never blocks a writer.
    db.pragma('wal_checkpoint(PASSIVE)');
    if (lock && performance.now() - lastRestart >= restartEveryMs) {
      lastRestart = performance.now();
      restart = letWalStartOver(lock) ? 'done' : 'missed';
    }
  } catch {
    // Nothing is lost: the frames stay in the WAL, and the next checkpoint copies them.
  }
  port.postMessage({ restart } satisfies CheckpointDone);
});
