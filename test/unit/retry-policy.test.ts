import { describe, expect, it } from 'vitest';
import { backoffDelayMs, decideRetry, DEFAULT_RETRY_POLICY, fillRetryPolicy } from '../../runner/engine/retry-policy.js';

describe('fillRetryPolicy', () => {
  it('fills the defaults of DESIGN.md', () => {
    expect(fillRetryPolicy(undefined)).toEqual({ mode: 'at-least-once', maxAttempts: 5, initialDelayMs: 200, backoffFactor: 2, maxDelayMs: 30_000, nonRetryable: [] });
  });

  it('keeps what is given', () => {
    expect(fillRetryPolicy({ maxAttempts: 2, nonRetryable: ['ValidationError'] })).toMatchObject({ maxAttempts: 2, nonRetryable: ['ValidationError'], initialDelayMs: 200 });
  });

  it.each([
    [{ mode: 'sometimes' }, `retry.mode must be 'at-least-once' or 'at-most-once', got "sometimes"`],
    [{ maxAttempts: 0 }, 'retry.maxAttempts must be an integer >= 1, got 0'],
    [{ initialDelayMs: -1 }, 'retry.initialDelayMs must be a number >= 0, got -1'],
    [{ backoffFactor: 0.5 }, 'retry.backoffFactor must be a number >= 1, got 0.5'],
    [{ nonRetryable: [3] }, 'retry.nonRetryable must be an array of error names'],
  ])('refuses %j with a message naming the field', (options, message) => {
    expect(() => fillRetryPolicy(options as never)).toThrow(message);
  });
});

describe('backoffDelayMs', () => {
  const policy = fillRetryPolicy({ initialDelayMs: 100, backoffFactor: 2, maxDelayMs: 1_000 });

  it('doubles from the initial delay, between half and all of it (equal jitter)', () => {
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(50);
    expect(backoffDelayMs(policy, 1, () => 1)).toBe(100);
    expect(backoffDelayMs(policy, 2, () => 1)).toBe(200);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(300);
  });

  it('never exceeds maxDelayMs', () => {
    expect(backoffDelayMs(policy, 20, () => 1)).toBe(1_000);
  });
});

describe('decideRetry', () => {
  const policy = fillRetryPolicy({ maxAttempts: 3 });

  it('retries until maxAttempts are used', () => {
    expect(decideRetry(policy, 1, { nonRetryable: false }, () => 0)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry(policy, 2, { nonRetryable: false })).toMatchObject({ retry: true });
    expect(decideRetry(policy, 3, { nonRetryable: false })).toEqual({ retry: false, reason: 'gave up after 3 attempts' });
  });

  it('never retries a non-retryable failure', () => {
    expect(decideRetry(policy, 1, { nonRetryable: true })).toEqual({ retry: false, reason: 'non-retryable error' });
  });

  it('never retries in at-most-once mode', () => {
    expect(decideRetry({ ...DEFAULT_RETRY_POLICY, mode: 'at-most-once' }, 1, { nonRetryable: false })).toMatchObject({ retry: false });
  });
});
