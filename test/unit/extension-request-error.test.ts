import { describe, expect, it } from 'vitest';
import { errorLocation } from '../../extension/request-error.js';

describe("the place a runner request's error names", () => {
  it('is read from the error data the runner sends with a processor that does not build or load', () => {
    const error = Object.assign(new Error('processor x.ts does not build'), { data: { code: 'PROCESSOR_BUILD_FAILED', location: { file: '/work/x.ts', line: 6, column: 3 } } });
    expect(errorLocation(error)).toEqual({ file: '/work/x.ts', line: 6, column: 3 });
  });

  it('is none for an error without one, or with one that is not a place', () => {
    expect(errorLocation(Object.assign(new Error('job "x" does not exist'), { data: { code: 'JOB_NOT_FOUND' } }))).toBeNull();
    expect(errorLocation(new Error('plain'))).toBeNull();
    expect(errorLocation('a string')).toBeNull();
    expect(errorLocation({ data: { location: { file: '', line: 1, column: 1 } } })).toBeNull();
    expect(errorLocation({ data: { location: { file: '/x.ts', line: 0, column: 1 } } })).toBeNull();
    expect(errorLocation({ data: { location: { file: '/x.ts', line: 2.5, column: 1 } } })).toBeNull();
    expect(errorLocation({ data: { location: null } })).toBeNull();
  });
});
