// Runs or resumes a job in its own process, for tests that kill it or race it.
// Usage: node run-job.mjs <db> <jobId> <processor> <argsJson> [maxParallel]
import { Baton } from '../../dist/runner/index.js';

const [db, jobId, processor, argsJson, maxParallel = '8'] = process.argv.slice(2);
const baton = await Baton.open({ db });
const job = await baton.start({ processor, jobId, args: JSON.parse(argsJson), maxParallel: Number(maxParallel), threads: 2 });
process.send?.('started');
const summary = await job.done;
process.send?.(summary.state);
await baton.close();
