import { describe, expect, it } from 'vitest';
import { requestIdOfInvalid, validatePanelRequest } from '../../runner/panel/validate-panel-request.js';

function error(value: unknown): string {
  const result = validatePanelRequest(value);
  if (result.ok) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return result.error;
}

describe('validatePanelRequest', () => {
  it('accepts every request type of the protocol as it is written', () => {
    const requests = [
      { type: 'ready', jobId: null },
      { type: 'ready', jobId: 'prices-2026-11' },
      { type: 'select', jobId: 'J' },
      { type: 'pause', jobId: 'J', requestId: 1 },
      { type: 'resume', jobId: 'J', requestId: 2 },
      { type: 'cancel', jobId: 'J', requestId: 3 },
      { type: 'setLimits', jobId: 'J', maxParallel: 16, requestId: 4 },
      // As high as `baton limits --parallel` goes: a job set there can still be changed here.
      { type: 'setLimits', jobId: 'J', maxParallel: 1_000_000, requestId: 9 },
      { type: 'setLimits', jobId: 'J', rateLimit: { itemsPerSecond: 2.5 }, requestId: 5 },
      { type: 'setLimits', jobId: 'J', rateLimit: null, requestId: 6 },
      { type: 'retryFailed', jobId: 'J', requestId: 7 },
      { type: 'retryFailed', jobId: 'J', page: 12, requestId: 8 },
      { type: 'loadHistory', jobId: 'J', before: 1_764_000_000_000, limit: 5000 },
      { type: 'openPage', jobId: 'J', page: 3 },
    ];
    for (const request of requests) expect(validatePanelRequest(request)).toEqual({ ok: true, request });
  });

  it('treats a missing jobId on ready as none', () => {
    expect(validatePanelRequest({ type: 'ready' })).toEqual({ ok: true, request: { type: 'ready', jobId: null } });
  });

  it('refuses what is not an object with a known type', () => {
    for (const value of [null, 42, 'ready', [], {}, { type: 'delete' }, { type: 7 }]) expect(error(value)).toMatch(/panel request/);
  });

  it('refuses fields the protocol does not declare', () => {
    expect(error({ type: 'pause', jobId: 'J', requestId: 1, force: true })).toBe('pause has an unknown field "force"; allowed: type, jobId, requestId');
    expect(error({ type: 'setLimits', jobId: 'J', rateLimit: { itemsPerSecond: 1, burst: 9 }, requestId: 1 })).toMatch(/setLimits.rateLimit has an unknown field "burst"/);
  });

  it('refuses job ids that are not sane strings', () => {
    expect(error({ type: 'select', jobId: '' })).toMatch(/select.jobId must be a job id/);
    expect(error({ type: 'select', jobId: 'x'.repeat(201) })).toMatch(/select.jobId must be a job id/);
    expect(error({ type: 'select', jobId: 12 })).toMatch(/select.jobId/);
    expect(error({ type: 'select', jobId: 'a\nb' })).toMatch(/control characters/);
  });

  it('refuses numbers that are not finite, whole where they must be, or out of range', () => {
    expect(error({ type: 'pause', jobId: 'J', requestId: -1 })).toMatch(/pause.requestId must be an integer/);
    expect(error({ type: 'pause', jobId: 'J', requestId: 1.5 })).toMatch(/requestId/);
    expect(error({ type: 'pause', jobId: 'J' })).toMatch(/requestId/);
    expect(error({ type: 'setLimits', jobId: 'J', maxParallel: 0, requestId: 1 })).toMatch(/setLimits.maxParallel must be an integer from 1/);
    expect(error({ type: 'setLimits', jobId: 'J', maxParallel: 1_000_001, requestId: 1 })).toBe('setLimits.maxParallel must be an integer from 1 to 1000000, got 1000001');
    expect(error({ type: 'setLimits', jobId: 'J', maxParallel: '8', requestId: 1 })).toMatch(/maxParallel/);
    expect(error({ type: 'setLimits', jobId: 'J', rateLimit: { itemsPerSecond: 0 }, requestId: 1 })).toMatch(/itemsPerSecond must be a number > 0/);
    expect(error({ type: 'setLimits', jobId: 'J', rateLimit: { pagesPerSecond: Number.POSITIVE_INFINITY }, requestId: 1 })).toMatch(/pagesPerSecond/);
    expect(error({ type: 'loadHistory', jobId: 'J', before: Number.NaN, limit: 10 })).toMatch(/loadHistory.before/);
    expect(error({ type: 'loadHistory', jobId: 'J', before: 1, limit: 1_000_000 })).toMatch(/loadHistory.limit must be an integer from 1 to 10000/);
    expect(error({ type: 'openPage', jobId: 'J', page: 0 })).toMatch(/openPage.page/);
    expect(error({ type: 'retryFailed', jobId: 'J', page: 2.5, requestId: 1 })).toMatch(/retryFailed.page/);
  });

  it('refuses a setLimits that sets nothing, or an empty rate limit', () => {
    expect(error({ type: 'setLimits', jobId: 'J', requestId: 1 })).toBe('setLimits must set maxParallel, rateLimit, or both');
    expect(error({ type: 'setLimits', jobId: 'J', rateLimit: {}, requestId: 1 })).toMatch(/send null to remove the rate limit/);
  });

  it('finds the requestId of a refused request so the answer can name it', () => {
    expect(requestIdOfInvalid({ type: 'pause', requestId: 9, jobId: '' })).toBe(9);
    expect(requestIdOfInvalid({ type: 'pause', requestId: -3 })).toBeUndefined();
    expect(requestIdOfInvalid('nonsense')).toBeUndefined();
  });
});
