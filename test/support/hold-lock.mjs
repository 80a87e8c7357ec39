// Holds a write lock on a SQLite file until killed, as another program might.
import Database from 'better-sqlite3';

const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
process.send?.('locked');
setInterval(() => {}, 1000);
