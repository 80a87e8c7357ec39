// Holds a write lock on a SQLite file until killed, as another program might, or for argv[3]
// milliseconds when given (then exits: the process that waits on the lock may be unable to run a
// timer meanwhile, blocked in SQLite's busy wait). The timer uses the connection so that it is
// never garbage-collected (closing it, and letting the lock go) while the test runs several
// commands against the lock.
import Database from 'better-sqlite3';

const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
process.send?.('locked');
setInterval(() => {
  if (!db.inTransaction) throw new Error('the write lock was lost');
}, 1000);
const holdMs = Number(process.argv[3]);
if (holdMs > 0) setTimeout(() => process.exit(0), holdMs);
