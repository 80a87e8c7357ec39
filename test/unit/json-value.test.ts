import { describe, expect, it } from 'vitest';
import { findNonJson } from '../../runner/json-value.js';

describe('findNonJson', () => {
  it('accepts plain JSON values', () => {
    expect(findNonJson({ a: [1, 'two', null, true, { b: 2.5 }] })).toBeNull();
    expect(findNonJson(null)).toBeNull();
  });

  it.each([
    [undefined, '$ is undefined (use null)'],
    [{ at: new Date(0) }, '$.at is a Date (use date.toISOString())'],
    [[1, NaN], '$[1] is NaN (JSON has no NaN or Infinity)'],
    [{ id: 10n }, '$.id is a BigInt (convert it to a string or number)'],
    [{ seen: new Set() }, '$.seen is a Set'],
    [{ f() {} }, '$.f is a function'],
  ])('names the first part of %o that is not JSON', (value, found) => {
    expect(findNonJson(value)).toBe(found);
  });
});
