/**
 * Checks a message from the panel before a host acts on it. The webview is a web page: whatever
 * it sends is untrusted input, so every field is checked for its type and range, and a field
 * the protocol does not declare is refused.
 */
import { MAX_PARALLEL, MAX_RATE, type PanelRequest, type RateLimitSetting } from '../protocol.js';

export type PanelRequestCheck = { ok: true; request: PanelRequest } | { ok: false; error: string };

/** Longest job id accepted; the engine's own limit is 128. */
const MAX_JOB_ID_LENGTH = 200;
/** Most attempts one loadHistory may ask for. */
export const MAX_HISTORY_LIMIT = 10_000;
/** ms since the epoch up to the year 2286: anything later is a mistake. */
const MAX_TIME_MS = 1e13;

class Invalid extends Error {}

function fail(message: string): never {
  throw new Invalid(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${what} has an unknown field ${JSON.stringify(key.slice(0, 40))}; allowed: ${allowed.join(', ')}`);
  }
}

function jobIdOf(value: Record<string, unknown>, type: string): string {
  const jobId = value.jobId;
  if (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > MAX_JOB_ID_LENGTH) {
    fail(`${type}.jobId must be a job id of 1-${MAX_JOB_ID_LENGTH} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(jobId)) fail(`${type}.jobId must not contain control characters`);
  return jobId;
}

function integerIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function finiteIn(value: unknown, name: string, min: number, max: number, minExclusive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value > max || (minExclusive ? value <= min : value < min)) {
    fail(`${name} must be a number ${minExclusive ? '>' : '>='} ${min} and <= ${max}, got ${describe(value)}`);
  }
  return value;
}

function requestIdOf(value: Record<string, unknown>, type: string): number {
  return integerIn(value.requestId, `${type}.requestId`, 0, Number.MAX_SAFE_INTEGER);
}

function rateLimitOf(value: unknown): RateLimitSetting | null {
  if (value === null) return null;
  if (!isRecord(value)) fail(`setLimits.rateLimit must be { itemsPerSecond?, pagesPerSecond? } or null, got ${describe(value)}`);
  onlyKeys(value, ['itemsPerSecond', 'pagesPerSecond'], 'setLimits.rateLimit');
  const out: RateLimitSetting = {};
  if (value.itemsPerSecond !== undefined) out.itemsPerSecond = finiteIn(value.itemsPerSecond, 'setLimits.rateLimit.itemsPerSecond', 0, MAX_RATE, true);
  if (value.pagesPerSecond !== undefined) out.pagesPerSecond = finiteIn(value.pagesPerSecond, 'setLimits.rateLimit.pagesPerSecond', 0, MAX_RATE, true);
  if (out.itemsPerSecond === undefined && out.pagesPerSecond === undefined) {
    fail('setLimits.rateLimit must set itemsPerSecond or pagesPerSecond; send null to remove the rate limit');
  }
  return out;
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return Array.isArray(value) ? 'an array' : typeof value;
}

function check(value: unknown): PanelRequest {
  if (!isRecord(value)) fail(`a panel request must be an object with a type, got ${describe(value)}`);
  const type = value.type;
  switch (type) {
    case 'ready': {
      onlyKeys(value, ['type', 'jobId'], 'ready');
      if (value.jobId === null || value.jobId === undefined) return { type, jobId: null };
      return { type, jobId: jobIdOf(value, type) };
    }
    case 'select':
      onlyKeys(value, ['type', 'jobId'], type);
      return { type, jobId: jobIdOf(value, type) };
    case 'pause':
    case 'resume':
    case 'cancel':
      onlyKeys(value, ['type', 'jobId', 'requestId'], type);
      return { type, jobId: jobIdOf(value, type), requestId: requestIdOf(value, type) };
    case 'setLimits': {
      onlyKeys(value, ['type', 'jobId', 'maxParallel', 'rateLimit', 'requestId'], type);
      const request: PanelRequest = { type, jobId: jobIdOf(value, type), requestId: requestIdOf(value, type) };
      if (value.maxParallel !== undefined) request.maxParallel = integerIn(value.maxParallel, 'setLimits.maxParallel', 1, MAX_PARALLEL);
      if (value.rateLimit !== undefined) request.rateLimit = rateLimitOf(value.rateLimit);
      if (request.maxParallel === undefined && request.rateLimit === undefined) fail('setLimits must set maxParallel, rateLimit, or both');
      return request;
    }
    case 'retryFailed': {
      onlyKeys(value, ['type', 'jobId', 'page', 'requestId'], type);
      const request: PanelRequest = { type, jobId: jobIdOf(value, type), requestId: requestIdOf(value, type) };
      if (value.page !== undefined) request.page = integerIn(value.page, 'retryFailed.page', 1, Number.MAX_SAFE_INTEGER);
      return request;
    }
    case 'loadHistory':
      onlyKeys(value, ['type', 'jobId', 'before', 'limit'], type);
      return {
        type,
        jobId: jobIdOf(value, type),
        before: finiteIn(value.before, 'loadHistory.before', 0, MAX_TIME_MS),
        limit: integerIn(value.limit, 'loadHistory.limit', 1, MAX_HISTORY_LIMIT),
      };
    case 'openPage':
      onlyKeys(value, ['type', 'jobId', 'page'], type);
      return { type, jobId: jobIdOf(value, type), page: integerIn(value.page, 'openPage.page', 1, Number.MAX_SAFE_INTEGER) };
    default:
      return fail(`unknown panel request type ${describe(type)}`);
  }
}

/**
 * Checks that `value` is a well-formed PanelRequest: known type, known fields only, strings and
 * numbers of the right kind and range. Never throws.
 */
export function validatePanelRequest(value: unknown): PanelRequestCheck {
  try {
    return { ok: true, request: check(value) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, error: error.message };
    return { ok: false, error: `a panel request could not be read: ${(error as Error).message}` };
  }
}

/** The requestId of a request that failed validation, when it has a usable one. */
export function requestIdOfInvalid(value: unknown): number | undefined {
  if (!isRecord(value)) return undefined;
  const id = value.requestId;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}
