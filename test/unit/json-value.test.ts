import { describe, expect, it } from 'vitest';
import { findNonJson } from '../../runner/json-value.js';

describe('findNonJson', () => {
  it('accepts plain JSON values', () => {
    expect(findNonJson({ a: [1, 'two', null, true, { b: 2.5 }] })).toBeNull();
    expect(findNonJson(null)).toBeNull();
  });

  it('names a cycle, rather than follow it until the stack overflows', () => {
    const args: Record<string, unknown> = { a: 1 };
    args.self = args;
    expect(findNonJson(args, 'args')).toBe('args.self refers back to args (a cycle: JSON cannot hold one; copy the values instead)');
    const list: unknown[] = [1, { inner: [] as unknown[] }];
    ((list[1] as { inner: unknown[] }).inner).push(list[1]);
    expect(findNonJson({ list })).toBe('$.list[1].inner[0] refers back to $.list[1] (a cycle: JSON cannot hold one; copy the values instead)');
  });

  it('accepts one object reached by two paths: that is no cycle, and JSON writes it twice', () => {
    const shared = { id: 1 };
    expect(findNonJson({ a: shared, b: [shared, shared] })).toBeNull();
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
