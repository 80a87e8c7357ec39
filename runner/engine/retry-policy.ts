/** When a failed page runs again, and when it gives up. Pure: the random source is passed in. */
import { BatonError } from '../errors.js';
import { checkKnownKeys, type KeySet } from '../known-keys.js';
import type { RetryMode, RetryOptions } from '../processor-api.js';

export type RetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  mode: 'at-least-once',
  maxAttempts: 5,
  initialDelayMs: 200,
  backoffFactor: 2,
  maxDelayMs: 30_000,
  nonRetryable: [],
});

const RETRY_OPTIONS: KeySet<RetryOptions> = { mode: true, maxAttempts: true, initialDelayMs: true, backoffFactor: true, maxDelayMs: true, nonRetryable: true };

/** Fills defaults and checks keys and ranges; throws INVALID_OPTION naming the field. */
export function fillRetryPolicy(options: RetryOptions | null | undefined): RetryPolicy {
  if (options !== null && options !== undefined) {
    if (typeof options !== 'object') fail(`retry must be an object such as { maxAttempts: 5 }, got ${JSON.stringify(options)}`);
    checkKnownKeys('retry', options, RETRY_OPTIONS);
  }
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...(options ?? {}) } as RetryPolicy;
  const modes: RetryMode[] = ['at-least-once', 'at-most-once'];
  if (!modes.includes(policy.mode)) fail(`retry.mode must be 'at-least-once' or 'at-most-once', got ${JSON.stringify(policy.mode)}`);
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) fail(`retry.maxAttempts must be an integer >= 1, got ${policy.maxAttempts}`);
  for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) fail(`retry.${key} must be a number >= 0, got ${policy[key]}`);
  }
  if (!Number.isFinite(policy.backoffFactor) || policy.backoffFactor < 1) fail(`retry.backoffFactor must be a number >= 1, got ${policy.backoffFactor}`);
  if (!Array.isArray(policy.nonRetryable) || policy.nonRetryable.some((name) => typeof name !== 'string')) {
    fail('retry.nonRetryable must be an array of error names');
  }
  return policy;
}

function fail(message: string): never {
  throw new BatonError('INVALID_OPTION', message);
}

/**
 * Delay before retry number `retry` (1 = the first retry): exponential, capped, with "equal
 * jitter" (half fixed, half random) so pages that failed together do not retry together.
 */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.backoffFactor ** Math.max(0, retry - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped / 2 + (capped / 2) * random());
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

/**
 * Decides what follows a failed attempt. `attemptsUsed` counts the attempts that count against
 * maxAttempts (those interrupted by Baton itself do not).
 */
export function decideRetry(
  policy: RetryPolicy,
  attemptsUsed: number,
  failure: { nonRetryable: boolean },
  random: () => number = Math.random,
): RetryDecision {
  if (policy.mode === 'at-most-once') return { retry: false, reason: 'at-most-once: never retried' };
  if (failure.nonRetryable) return { retry: false, reason: 'non-retryable error' };
  if (attemptsUsed >= policy.maxAttempts) return { retry: false, reason: `gave up after ${attemptsUsed} attempts` };
  return { retry: true, delayMs: backoffDelayMs(policy, attemptsUsed, random) };
}
