// The same processor without Baton: a serial loop, p-limit, or p-limit committing each child to
// SQLite before its enqueue resolves (plimit-durable). argv: processor mode argsJson [concurrency]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadProcessor, runPLimit, runSerial } from '../lib/in-process.mjs';
import { report } from '../lib/report.mjs';

const [name, mode, argsJson, concurrency = '64'] = process.argv.slice(2);
const dir = join(import.meta.dirname, '..', '.tmp', `inproc-${process.pid}`);
try {
  const processor = await loadProcessor(join(import.meta.dirname, '..', 'processors', `${name}.ts`), dir);
  const args = JSON.parse(argsJson);
  const durableAt = mode === 'plimit-durable' ? join(dir, 'durable.db') : undefined;
  const result = mode === 'serial' ? await runSerial(processor, args) : await runPLimit(processor, args, Number(concurrency), durableAt);
  report({ scenario: `${mode}-${name}`, concurrency: mode === 'serial' ? 1 : Number(concurrency), ...result, pagesPerSecond: result.pages / result.seconds });
} finally {
  // Run alone (not from bench/run.mjs, which clears .tmp), it leaves nothing behind.
  rmSync(dir, { recursive: true, force: true });
}
