/**
 * Reads the CLI's option strings into engine options, once, at the edge. Every error is a
 * BatonError whose message starts with the option's name and says what to write instead.
 */
import { existsSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { checkJobId, checkRampup, DEFAULT_DB, PARALLEL_CAP, rateLimitOf, threadsCap, type OptionCap, type RateLimit } from '../engine/options.js';
import { parseRampup, type Rampup } from '../engine/rampup.js';
import { BatonError } from '../errors.js';
import type { JsonValue } from '../json-value.js';
import { quoteArg, shownPath } from '../store/database.js';

export { quoteArg };

/** The option every command takes. */
export interface DbOption {
  /** The SQLite file. Default .baton/baton.db under the current folder. */
  db?: string;
}

function invalid(message: string): never {
  throw new BatonError('INVALID_OPTION', message);
}

/**
 * --args: a JSON value. Given as a list, since commander would keep only the last of two: a
 * second --args is more often meant to add to the first than to replace it.
 */
export function parseArgsOption(given: string | readonly string[]): JsonValue {
  const texts = typeof given === 'string' ? [given] : given;
  if (texts.length > 1) {
    invalid(`--args was given ${texts.length} times; give it once, with every argument in one JSON object, such as --args '{"total":1000,"dryRun":true}'`);
  }
  const text = texts[0] ?? '';
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    const reason = (error as Error).message.replace(/\s+/g, ' ');
    invalid(`--args must be JSON, such as --args '{"total":1000}' (single quotes keep the shell off it); got ${JSON.stringify(text)}: ${reason}`);
  }
}

/** An integer option such as --port, with its upper bound if it has one. */
export function parseIntegerOption(flag: string, text: string, min: number, cap?: OptionCap): number {
  // Decimal digits (1e6 too): Number() would also take 0x10, 0b11 and ' 8 '.
  const value = /^\d+(?:e\+?\d+)?$/i.test(text) ? Number(text) : Number.NaN;
  if (text.trim() === '' || !Number.isInteger(value) || value < min) invalid(`${flag} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  if (cap !== undefined && value > cap.max) invalid(`${flag} must be at most ${cap.max} (${cap.why}), got ${JSON.stringify(text)}`);
  return value;
}

/** --parallel: pages in flight at most. */
export function parseParallelOption(text: string): number {
  return parseIntegerOption('--parallel', text, 1, PARALLEL_CAP);
}

/** --threads: worker threads, up to a few per core. */
export function parseThreadsOption(text: string): number {
  return parseIntegerOption('--threads', text, 1, threadsCap());
}

/** A rate option such as --rate: a number > 0. */
export function parsePositiveOption(flag: string, text: string): number {
  const value = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(text) ? Number(text) : Number.NaN;
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) invalid(`${flag} must be a number > 0, got ${JSON.stringify(text)}`);
  return value;
}

/** --rampup FROM:STEP:MS, checked as the engine checks it, in the words of the command line. */
export function parseRampupOption(text: string): Rampup {
  let rampup: Rampup;
  try {
    rampup = parseRampup(text);
  } catch (error) {
    invalid((error as Error).message);
  }
  return inFlagWords(() => checkRampup(rampup)!, [
    ['rampup.from', '--rampup FROM'],
    ['rampup.step', '--rampup STEP'],
    ['rampup.everyMs', '--rampup MS'],
  ]);
}

/** --job: a job id as the engine takes it. */
export function parseJobOption(text: string): string {
  return inFlagWords(() => checkJobId(text), [['jobId', '--job']]);
}

/** Runs an engine check, naming the command line's option instead of the API's in what it refuses. */
function inFlagWords<T>(check: () => T, names: [api: string, flag: string][]): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof BatonError)) throw error;
    const renamed = names.find(([api]) => error.message.startsWith(`${api} `));
    if (renamed === undefined) throw error;
    invalid(`${renamed[1]}${error.message.slice(renamed[0].length)}`);
  }
}

/** --rate (items/s) and --rate-pages (pages/s), together as the engine's rate limit. */
export function parseRateOptions(rate: string | undefined, ratePages: string | undefined): RateLimit | undefined {
  const items = rate !== undefined ? parsePositiveOption('--rate', rate) : undefined;
  const pages = ratePages !== undefined ? parsePositiveOption('--rate-pages', ratePages) : undefined;
  return rateLimitOf(items, pages);
}

/** The database file, absolute. */
export function dbPath(options: DbOption): string {
  return resolve(options.db ?? DEFAULT_DB);
}

/** What to add to a suggested command so that it uses the same database. */
export function dbSuffix(options: DbOption): string {
  return options.db !== undefined ? ` --db ${quoteArg(options.db)}` : '';
}

/**
 * Whether `file` may hold a database. An empty file would become one when opened, so commands
 * that read treat it as none; a new database in WAL mode may keep its pages in the -wal file
 * until a checkpoint, so that counts too.
 */
export function holdsDatabase(file: string): boolean {
  const stat = statOrNull(file);
  // Not a file (a folder, a device): opening it says what it is.
  if (stat !== null && !stat.isFile()) return true;
  return (stat?.size ?? 0) > 0 || (statOrNull(`${file}-wal`)?.size ?? 0) > 0;
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

/** Why there is no database to read at `file`: `there is no Baton database at x` or `x is an empty file`. */
export function noDatabaseAt(file: string): string {
  return existsSync(file) ? `${shownPath(file)} is an empty file, not a Baton database` : `there is no Baton database at ${shownPath(file)}`;
}

/**
 * Commands about one job must not create a database: a missing or empty file means the job is unknown.
 */
export function requireDatabaseFor(jobId: string, options: DbOption): string {
  const file = dbPath(options);
  if (!holdsDatabase(file)) {
    throw new BatonError(
      'JOB_NOT_FOUND',
      `no job "${jobId}": ${noDatabaseAt(file)}${existsSync(file) ? '' : ' yet'}; pass --db with the file the job was run with, or start a job with \`baton run <processor>\``,
    );
  }
  return file;
}
