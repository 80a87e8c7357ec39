// One command: starts a local customers API (server.mjs, 127.0.0.1, random port), runs the
// api-calls job through the Baton CLI at --rate items per second with live progress, then prints
// how many notifications arrived and the rate the server saw.
//
//   node samples/api-calls/run.mjs [--customers 2000] [--rate 200] [--parallel 8] [--size 20] [--data DIR]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batonDatabase, cliPath, jobRan, runCli, sampleOptions } from '../sample-command.mjs';
import { describeRates, startServer } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { customers, rate, parallel, size, data } = sampleOptions('samples/api-calls/run.mjs', {
  customers: [2_000, 'count'],
  rate: [200, 'positive'],
  parallel: [8, 'count'],
  size: [20, 'count'],
});
const server = await startServer({ customers });
console.log(`customers API with ${customers.toLocaleString('en')} customers at ${server.url}; notifying each at most ${rate}/s`);
// Our own id, so that a job this script leaves unfinished can be named afterwards.
const jobId = `api-calls-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(2).toString('hex')}`;
let code = 1;
try {
  code = await runCli([
    'run', join(here, 'processor.ts'),
    '--args', JSON.stringify({ baseUrl: server.url, size }),
    '--rate', String(rate),
    '--parallel', String(parallel),
    '--job', jobId,
    '--db', batonDatabase(data),
  ]);
} finally {
  await server.close();
}
if (!jobRan(code) && code !== 2) cancelUnfinished();
process.exitCode = jobRan(code) ? checkNotifications(code) : code;

/**
 * A Ctrl-C leaves the job paused, but the API it calls lived in this process and is gone: `baton
 * resume` would only fail to reach it. Cancel the job, and say how to start over instead.
 */
function cancelUnfinished() {
  const cancel = spawnSync(process.execPath, [cliPath(), 'cancel', jobId, '--db', batonDatabase(data)], { encoding: 'utf8' });
  const done = cancel.status === 0 ? `so job ${jobId} cannot be resumed: cancelled it` : `so job ${jobId} cannot be resumed (cancelling it failed: ${(cancel.stderr || cancel.stdout).trim()})`;
  console.log(`the customers API stopped with this script, ${done}; run \`node samples/api-calls/run.mjs\` again to start over`);
}

/** Prints what the server saw and the verdict; returns the exit code. */
function checkNotifications(code) {
  const { notified, times, tooMany } = server.stats;
  const calls = times.length;
  const verdict = notified.size === customers ? 'every customer notified' : `${(customers - notified.size).toLocaleString('en')} customers not notified`;
  console.log(
    `${calls.toLocaleString('en')} notifications arrived for ${notified.size.toLocaleString('en')} customers: ${verdict}; ` +
      `${describeRates(times, rate)}${tooMany ? `; ${tooMany} answered 429` : ''}`,
  );
  return code !== 0 ? code : notified.size === customers ? 0 : 1;
}
