/** Options of Baton.open and baton.start: defaults and validation, once, at the edge. */
import { availableParallelism } from 'node:os';
import { BatonError } from '../errors.js';
import { findNonJson, type JsonValue } from '../json-value.js';
import { checkKnownKeys, type KeySet } from '../known-keys.js';
import { MAX_PARALLEL, type PageState, type RateLimitSetting } from '../protocol.js';
import type { Durability } from '../store/database.js';
import type { StopMode } from './job-runner.js';
import type { Rampup } from './rampup.js';

export interface BatonOptions {
  /** The SQLite file. Default '.baton/baton.db' under the current folder. */
  db?: string;
  /** 'normal' (default) survives any crash of the process; 'full' also a power cut. */
  durability?: Durability;
  /** How long a write waits for another process's lock before failing with DB_LOCKED. Default 5000 ms. */
  busyTimeoutMs?: number;
}

export interface StartOptions {
  /** The processor's source file (.ts, .js, .mts, .mjs). */
  processor: string;
  /** JSON arguments handed to initialPages, estimateTotalItems and every page. Default {}. */
  args?: JsonValue;
  /** The job's id. Default generated. An unfinished job's id resumes that job. */
  jobId?: string;
  /** Pages in flight at most. Default 8. */
  maxParallel?: number;
  /** Grow parallelism from `from` by `step` every `everyMs`. Default: none. */
  rampup?: Rampup;
  /** Items and/or pages per second. Default: none. */
  rateLimit?: RateLimit;
  /** Record the job and its first pages, but run nothing until resume(). Default false. */
  paused?: boolean;
  /** Worker threads. Default: the machine's available parallelism. */
  threads?: number;
}

/**
 * A rate limit as given: items and/or pages per second, at least one of them. `{}` is no type
 * of it, since it reads as "no limit", which only `null` (in setLimits) means.
 */
export type RateLimit = { itemsPerSecond: number; pagesPerSecond?: number } | { itemsPerSecond?: number; pagesPerSecond: number };

export interface ResumeOptions {
  /** Worker threads. Default: as the job was started, else available parallelism. */
  threads?: number;
}

export interface Limits {
  maxParallel?: number;
  /** null removes the rate limit. */
  rateLimit?: RateLimit | null;
}

/** What `retryFailed` runs again: every failed page, or one. */
export interface RetryFailedOptions {
  /** The number of one failed page (`baton.pages`, `baton status`). Default: every failed page. */
  page?: number;
}

/** `baton.pages` filters. */
export interface PageQuery {
  state?: PageState;
  /** Pages numbered above this (paging through). Default 0. */
  after?: number;
  /** At most this many. Default 1000. */
  limit?: number;
}

/** `baton.attempts` filters; times are epoch milliseconds. */
export interface AttemptQuery {
  page?: number;
  limit?: number;
  endedAfter?: number;
  startedBefore?: number;
}

export interface CloseOptions {
  /** 'drain' (default) lets running pages finish; 'now' aborts them. */
  stop?: StopMode;
}

export const DEFAULT_DB = '.baton/baton.db';
export const DEFAULT_MAX_PARALLEL = 8;
export const DEFAULT_PAGE_TIMEOUT_MS = 300_000;

export interface FilledStartOptions {
  processor: string;
  args: JsonValue;
  jobId: string | null;
  maxParallel: number;
  rampup: Rampup | null;
  rateLimit: RateLimit | null;
  paused: boolean;
  threads: number;
}

/** A wrong value as an error shows it: JSON, except what JSON cannot spell (Infinity, NaN, undefined). */
function shown(value: unknown): string {
  if (typeof value === 'number' || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  // A cycle or a BigInt inside would make the message itself throw, and hide what was wrong.
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return 'an object that is not JSON (it refers back to itself, or holds a BigInt)';
  }
}

function invalid(message: string): never {
  throw new BatonError('INVALID_OPTION', message);
}

/** An upper bound of an option, and why it is there, for its error message. */
export interface OptionCap {
  max: number;
  why: string;
}

function checkInteger(name: string, value: unknown, min: number, cap?: OptionCap): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) invalid(`${name} must be an integer >= ${min}, got ${shown(value)}`);
  if (cap !== undefined && value > cap.max) invalid(`${name} must be at most ${cap.max} (${cap.why}), got ${shown(value)}`);
  return value;
}

/**
 * Threads beyond the cores only take turns on them. A few more help pages that block their
 * thread (sync I/O, CPU work), but each thread is a V8 isolate with its own heap and copy of the
 * processor, and a thousand take seconds to start before any page runs. Four per core leaves
 * that room and refuses a stray zero or two.
 */
export const THREADS_PER_CORE = 4;

/** The most worker threads a job may have on this machine. */
export function threadsCap(): OptionCap {
  const cores = availableParallelism();
  return { max: THREADS_PER_CORE * cores, why: `${THREADS_PER_CORE} per core, and this machine has ${cores} core${cores === 1 ? '' : 's'}` };
}

/** See MAX_PARALLEL. */
export const PARALLEL_CAP: OptionCap = { max: MAX_PARALLEL, why: 'more pages in flight than one process can hold' };

function checkPositive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) invalid(`${name} must be a number > 0, got ${shown(value)}`);
  return value;
}

const BATON_OPTIONS: KeySet<BatonOptions> = { db: true, durability: true, busyTimeoutMs: true };
const START_OPTIONS: KeySet<StartOptions> = { processor: true, args: true, jobId: true, maxParallel: true, rampup: true, rateLimit: true, paused: true, threads: true };
const LIMITS: KeySet<Limits> = { maxParallel: true, rateLimit: true };
const RATE_LIMIT: KeySet<RateLimitSetting> = { itemsPerSecond: true, pagesPerSecond: true };
const RAMPUP: KeySet<Rampup> = { from: true, step: true, everyMs: true };
const RETRY_FAILED: KeySet<RetryFailedOptions> = { page: true };
const RESUME: KeySet<ResumeOptions> = { threads: true };
const PAGE_QUERY: KeySet<PageQuery> = { state: true, after: true, limit: true };
const ATTEMPT_QUERY: KeySet<AttemptQuery> = { page: true, limit: true, endedAfter: true, startedBefore: true };
const CLOSE_OPTIONS: KeySet<CloseOptions> = { stop: true };
const PAGE_STATES: KeySet<Record<PageState, true>> = { queued: true, running: true, succeeded: true, failed: true };

export interface FilledBatonOptions {
  db: string;
  durability: Durability;
  busyTimeoutMs: number;
}

export function fillBatonOptions(options: BatonOptions): FilledBatonOptions {
  if (typeof options !== 'object' || options === null) invalid('Baton.open options must be an object, such as { db: ".baton/baton.db" }');
  checkKnownKeys('Baton.open', options, BATON_OPTIONS);
  const durability = options.durability ?? 'normal';
  if (durability !== 'normal' && durability !== 'full') invalid(`durability must be 'normal' or 'full', got ${shown(durability)}`);
  return { db: options.db ?? DEFAULT_DB, durability, busyTimeoutMs: checkInteger('busyTimeoutMs', options.busyTimeoutMs ?? 5000, 0) };
}

/** What setLimits changes, as the job's row holds it: a rate of null removes that rate. */
export interface LimitsUpdate {
  maxParallel?: number;
  rateItems?: number | null;
  ratePages?: number | null;
}

/** Checks setLimits' argument and turns it into the row's columns; only what it names changes. */
export function fillLimits(limits: Limits): LimitsUpdate {
  if (typeof limits !== 'object' || limits === null) invalid('setLimits takes an object { maxParallel?, rateLimit? }');
  checkKnownKeys('setLimits', limits, LIMITS);
  const update: LimitsUpdate = {};
  if (limits.maxParallel !== undefined) update.maxParallel = checkMaxParallel(limits.maxParallel);
  if (limits.rateLimit !== undefined) {
    const rate = checkRateLimit(limits.rateLimit);
    update.rateItems = rate?.itemsPerSecond ?? null;
    update.ratePages = rate?.pagesPerSecond ?? null;
  }
  return update;
}

/**
 * Only null removes a rate limit: an empty `{}` or an array names no rate, and taking it for
 * "none" would drop a limit in silence and could flood the API it protects.
 */
/** The rate limit of checked rates, or undefined when neither is given. */
export function rateLimitOf(items: number | undefined, pages: number | undefined): RateLimit | undefined {
  if (items !== undefined) return pages !== undefined ? { itemsPerSecond: items, pagesPerSecond: pages } : { itemsPerSecond: items };
  return pages !== undefined ? { pagesPerSecond: pages } : undefined;
}

export function checkRateLimit(value: RateLimit | RateLimitSetting | null | undefined): RateLimit | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) invalid(`rateLimit must be { itemsPerSecond?, pagesPerSecond? }, got ${shown(value)}`);
  checkKnownKeys('rateLimit', value, RATE_LIMIT);
  const items = value.itemsPerSecond !== undefined ? checkPositive('rateLimit.itemsPerSecond', value.itemsPerSecond) : undefined;
  const pages = value.pagesPerSecond !== undefined ? checkPositive('rateLimit.pagesPerSecond', value.pagesPerSecond) : undefined;
  const limit = rateLimitOf(items, pages);
  if (limit !== undefined) return limit;
  invalid(`rateLimit must set itemsPerSecond, pagesPerSecond or both, got ${shown(value)}; pass rateLimit: null to remove the rate limit`);
}

export function checkRampup(value: Rampup | null | undefined): Rampup | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') invalid(`rampup must be { from, step, everyMs }, got ${shown(value)}`);
  checkKnownKeys('rampup', value, RAMPUP);
  return {
    from: checkInteger('rampup.from', value.from, 1),
    step: checkInteger('rampup.step', value.step, 1),
    everyMs: checkPositive('rampup.everyMs', value.everyMs),
  };
}

/**
 * A ramp must start at or below the limit it climbs to: from above, it would start at the limit
 * and do nothing, which is seldom what was meant. `names` lets the CLI say it in its own words.
 */
export function checkRampupWithin(
  rampup: Rampup,
  maxParallel: number,
  defaulted: boolean,
  names: { from: string; maxParallel: string } = { from: 'rampup.from', maxParallel: 'maxParallel' },
): void {
  if (rampup.from <= maxParallel) return;
  invalid(
    `${names.from} must be at most ${names.maxParallel} (${maxParallel}${defaulted ? ', the default' : ''}), got ${rampup.from}: the ramp would start at the limit and do nothing; lower ${names.from} or raise ${names.maxParallel}`,
  );
}

export function checkMaxParallel(value: unknown): number {
  return checkInteger('maxParallel', value, 1, PARALLEL_CAP);
}

export function checkThreads(value: unknown): number {
  return checkInteger('threads', value, 1, threadsCap());
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkJobId(value: unknown): string {
  if (typeof value !== 'string' || !JOB_ID.test(value)) {
    invalid(`jobId must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, got ${shown(value)}`);
  }
  return value;
}

function checkPaused(value: unknown): boolean {
  if (typeof value !== 'boolean') invalid(`paused must be true or false, got ${shown(value)}`);
  return value;
}

export function fillStartOptions(options: StartOptions): FilledStartOptions {
  if (typeof options !== 'object' || options === null) invalid('start options must be an object with at least { processor }');
  checkKnownKeys('start', options, START_OPTIONS);
  if (typeof options.processor !== 'string' || options.processor === '') invalid('processor must be the path of a processor file, such as samples/x/processor.ts');
  // Only missing args default to {}: null is a JSON value like any other, and is passed on as given.
  const args = options.args === undefined ? {} : options.args;
  const notJson = findNonJson(args, 'args');
  if (notJson) throw new BatonError('INVALID_JSON_VALUE', `args must be a JSON value, but ${notJson}`);
  const maxParallel = checkMaxParallel(options.maxParallel ?? DEFAULT_MAX_PARALLEL);
  const rampup = checkRampup(options.rampup);
  // A job resumed by its id keeps its own maxParallel unless one is given: nothing to compare then.
  if (rampup !== null && (options.maxParallel !== undefined || options.jobId === undefined)) checkRampupWithin(rampup, maxParallel, options.maxParallel === undefined);
  return {
    processor: options.processor,
    args,
    jobId: options.jobId === undefined ? null : checkJobId(options.jobId),
    maxParallel,
    rampup,
    rateLimit: checkRateLimit(options.rateLimit),
    paused: checkPaused(options.paused ?? false),
    threads: checkThreads(options.threads ?? availableParallelism()),
  };
}

/** An options argument left out is {}; anything but an object is refused, saying what it takes. */
function optionsObject(what: string, value: unknown, takes: string): object {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(`${what} takes an object ${takes}, got ${shown(value)}`);
  return value;
}

function optionalInteger(name: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : checkInteger(name, value, min);
}

/** A time filter: epoch milliseconds, as the records give them. */
function optionalTime(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    const hint = value instanceof Date ? ' (use date.getTime())' : typeof value === 'string' ? ' (use Date.parse(text))' : '';
    invalid(`${name} must be a time in epoch milliseconds, such as Date.now() - 60000, got ${shown(value)}${hint}`);
  }
  return value;
}

/** A page number: pages are numbered from 1. */
export function checkPageNumber(name: string, value: unknown): number {
  return checkInteger(name, value, 1);
}

export function checkResumeOptions(options: unknown): ResumeOptions {
  const value = optionsObject('resume', options, '{ threads? }') as ResumeOptions;
  checkKnownKeys('resume', value, RESUME);
  return value.threads === undefined ? {} : { threads: checkThreads(value.threads) };
}

export function checkRetryFailedOptions(options: unknown): RetryFailedOptions {
  const value = optionsObject('retryFailed', options, '{ page? }') as RetryFailedOptions;
  checkKnownKeys('retryFailed', value, RETRY_FAILED);
  const page = optionalInteger('page', value.page, 1);
  return page === undefined ? {} : { page };
}

export function checkPageQuery(query: unknown): PageQuery {
  const value = optionsObject('pages', query, '{ state?, after?, limit? }') as PageQuery;
  checkKnownKeys('pages', value, PAGE_QUERY);
  if (value.state !== undefined && (typeof value.state !== 'string' || !Object.hasOwn(PAGE_STATES, value.state))) {
    invalid(`state must be one of ${Object.keys(PAGE_STATES).join(', ')}, got ${shown(value.state)}`);
  }
  const out: PageQuery = {};
  if (value.state !== undefined) out.state = value.state;
  const after = optionalInteger('after', value.after, 0);
  if (after !== undefined) out.after = after;
  const limit = optionalInteger('limit', value.limit, 1);
  if (limit !== undefined) out.limit = limit;
  return out;
}

export function checkAttemptQuery(query: unknown): AttemptQuery {
  const value = optionsObject('attempts', query, '{ page?, limit?, endedAfter?, startedBefore? }') as AttemptQuery;
  checkKnownKeys('attempts', value, ATTEMPT_QUERY);
  const out: AttemptQuery = {};
  const page = optionalInteger('page', value.page, 1);
  if (page !== undefined) out.page = page;
  const limit = optionalInteger('limit', value.limit, 1);
  if (limit !== undefined) out.limit = limit;
  const endedAfter = optionalTime('endedAfter', value.endedAfter);
  if (endedAfter !== undefined) out.endedAfter = endedAfter;
  const startedBefore = optionalTime('startedBefore', value.startedBefore);
  if (startedBefore !== undefined) out.startedBefore = startedBefore;
  return out;
}

/** How to stop: a typo ('nwo') must not quietly mean the default, which lets every page run on. */
export function checkStopMode(name: string, value: unknown): StopMode {
  if (value === undefined) return 'drain';
  if (value !== 'drain' && value !== 'now') invalid(`${name} must be 'drain' or 'now', got ${shown(value)}`);
  return value;
}

export function checkCloseOptions(options: unknown): StopMode {
  const value = optionsObject('close', options, "{ stop?: 'drain' | 'now' }") as CloseOptions;
  checkKnownKeys('close', value, CLOSE_OPTIONS);
  return checkStopMode('stop', value.stop);
}

export function checkPageTimeout(value: number | null): number {
  if (value === null) return DEFAULT_PAGE_TIMEOUT_MS;
  return checkPositive('pageTimeoutMs', value);
}
