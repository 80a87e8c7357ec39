// What the samples' one-command scripts (samples/*/run.mjs) share: their options, and the Baton
// CLI run with the terminal attached so that its live progress shows.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The built CLI; compiles runner/ first when dist/ is missing. */
export function cliPath() {
  const cli = join(REPO, 'dist', 'runner', 'cli.js');
  if (!existsSync(cli)) {
    console.log('dist/runner/cli.js is missing: building runner/ first (npm run build)');
    spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
    if (!existsSync(cli)) throw new Error(`${cli} does not exist after the build: the Baton CLI is not there yet`);
  }
  return cli;
}

/**
 * Runs `baton <args>` with the terminal attached; resolves with its exit code. Asynchronous, so
 * that a server in the calling process (the api-calls sample's) keeps answering meanwhile.
 */
export function runCli(args) {
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

/**
 * What a numeric option may be. `count`: a whole number >= 1, for what 0 would make meaningless
 * (--parallel 0 runs nothing, --size 0 reads nothing); `whole`: >= 0; `positive`: any number
 * > 0 (a rate); `amount`: any number >= 0 (a percent).
 */
const KINDS = {
  count: { valid: (n) => Number.isInteger(n) && n >= 1, what: 'an integer >= 1' },
  whole: { valid: (n) => Number.isInteger(n) && n >= 0, what: 'an integer >= 0' },
  positive: { valid: (n) => Number.isFinite(n) && n > 0, what: 'a number > 0' },
  amount: { valid: (n) => Number.isFinite(n) && n >= 0, what: 'a number >= 0' },
};

/**
 * The script's options: `numbers` are the numeric ones by name (`--csv-rows` is `'csv-rows'`),
 * each `[default, kind]` with a kind of KINDS, and `--data DIR` puts the sample's files and
 * Baton's database in DIR (made if missing) instead of the sample's own data folder and the
 * project's .baton/baton.db. A mistake ends the script with one line and exit code 2.
 */
export function sampleOptions(script, numbers, argv = process.argv.slice(2)) {
  const usage = `usage: node ${script} ${Object.entries(numbers).map(([name, [value]]) => `[--${name} ${value}]`).join(' ')} [--data DIR]`;
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...Object.fromEntries(Object.keys(numbers).map((name) => [name, { type: 'string' }])), data: { type: 'string' } } }));
  } catch (error) {
    fail(`${error.message}\n${usage}`);
  }
  const options = { data: values.data === undefined ? null : resolve(values.data) };
  for (const [name, [fallback, kind]] of Object.entries(numbers)) {
    const given = values[name];
    const value = given === undefined ? fallback : given.trim() === '' ? Number.NaN : Number(given);
    if (!KINDS[kind].valid(value)) fail(`--${name} must be ${KINDS[kind].what}, got ${JSON.stringify(given)}\n${usage}`);
    options[camelCase(name)] = value;
  }
  if (options.data) mkdirSync(options.data, { recursive: true });
  return options;
}

/**
 * Whether the job ran to an end, so that the sample's own check means something: exit 2 is
 * input the CLI refused before running anything, 130 a Ctrl-C pause (the CLI says how to resume).
 */
export function jobRan(code) {
  return code === 0 || code === 1;
}

/** Baton's database: in the --data folder when one is given, else the project's. */
export function batonDatabase(data) {
  return data ? join(data, 'baton.db') : join(REPO, '.baton', 'baton.db');
}

function camelCase(name) {
  return name.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
}

function fail(message) {
  console.error(message);
  process.exit(2);
}
