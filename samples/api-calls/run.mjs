// One command: starts a local customers API (server.mjs, 127.0.0.1, random port), runs the
// api-calls job through the Baton CLI at --rate items per second with live progress, then prints
// how many notifications arrived and the rate the server saw.
//
//   node samples/api-calls/run.mjs [--customers 2000] [--rate 200] [--parallel 8] [--size 20]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { observedRate, startServer } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

/** The built CLI; compiles runner/ first when dist/ is missing. */
function cliPath() {
  const cli = join(repo, 'dist', 'runner', 'cli.js');
  if (!existsSync(cli)) {
    console.log('dist/runner/cli.js is missing: building runner/ first (npm run build)');
    spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: repo, stdio: 'inherit' });
    if (!existsSync(cli)) throw new Error(`${cli} does not exist after the build: the Baton CLI is not there yet`);
  }
  return cli;
}

/**
 * Runs `baton <args>` with the terminal attached, so its progress bar shows; resolves with its
 * exit code. Asynchronous on purpose: the API server runs in this process and must keep answering.
 */
function runCli(args) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { stdio: 'inherit' });
    // Ctrl-C reaches the CLI too, which pauses the job cleanly; this process waits for it.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

function option(argv, name, fallback) {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] !== undefined ? Number(argv[at + 1]) : fallback;
}

const argv = process.argv.slice(2);
const customers = option(argv, '--customers', 2_000);
const rate = option(argv, '--rate', 200);
const server = await startServer({ customers });
console.log(`customers API with ${customers.toLocaleString('en')} customers at ${server.url}; notifying each at most ${rate}/s`);
let code = 1;
try {
  code = await runCli([
    'run', join(here, 'processor.ts'),
    '--args', JSON.stringify({ baseUrl: server.url, size: option(argv, '--size', 20) }),
    '--rate', String(rate),
    '--parallel', String(option(argv, '--parallel', 8)),
    '--db', join(repo, '.baton', 'baton.db'),
  ]);
} finally {
  await server.close();
}
const { notified, times, tooMany } = server.stats;
const calls = times.length;
const { busiestSecond, average } = observedRate(times);
const verdict = notified.size === customers ? 'every customer notified' : `${(customers - notified.size).toLocaleString('en')} customers not notified`;
console.log(
  `${calls.toLocaleString('en')} notifications arrived for ${notified.size.toLocaleString('en')} customers: ${verdict}; ` +
    `average ${average.toFixed(0)}/s, busiest second ${busiestSecond} (limit ${rate}/s)${tooMany ? `; ${tooMany} answered 429` : ''}`,
);
process.exitCode = code !== 0 ? code : notified.size === customers ? 0 : 1;
