// The same processor without Baton: a serial loop or p-limit. argv: processor mode argsJson [concurrency]
import { join } from 'node:path';
import { loadProcessor, runPLimit, runSerial } from '../lib/in-process.mjs';
import { report } from '../lib/report.mjs';

const [name, mode, argsJson, concurrency = '64'] = process.argv.slice(2);
const processor = await loadProcessor(join(import.meta.dirname, '..', 'processors', `${name}.ts`), join(import.meta.dirname, '..', '.tmp', `inproc-${process.pid}`));
const args = JSON.parse(argsJson);
const result = mode === 'serial' ? await runSerial(processor, args) : await runPLimit(processor, args, Number(concurrency));
report({ scenario: `${mode}-${name}`, concurrency: mode === 'serial' ? 1 : Number(concurrency), ...result, pagesPerSecond: result.pages / result.seconds });
