import { describe, expect, it } from 'vitest';
import { msUntilNextRampStep, parseRampup, rampedParallel } from '../../runner/engine/rampup.js';

describe('rampedParallel', () => {
  const rampup = { from: 2, step: 3, everyMs: 1_000 };

  it('is maxParallel without rampup', () => {
    expect(rampedParallel(16, undefined, 0)).toBe(16);
  });

  it('starts at `from` and adds `step` every `everyMs`, up to maxParallel', () => {
    expect(rampedParallel(16, rampup, 0)).toBe(2);
    expect(rampedParallel(16, rampup, 999)).toBe(2);
    expect(rampedParallel(16, rampup, 1_000)).toBe(5);
    expect(rampedParallel(16, rampup, 4_500)).toBe(14);
    expect(rampedParallel(16, rampup, 60_000)).toBe(16);
  });

  it('says when the next step comes, and null once ramped', () => {
    expect(msUntilNextRampStep(16, rampup, 250)).toBe(750);
    expect(msUntilNextRampStep(16, rampup, 60_000)).toBeNull();
    expect(msUntilNextRampStep(16, undefined, 0)).toBeNull();
  });
});

describe('parseRampup', () => {
  it('reads FROM:STEP:MS', () => {
    expect(parseRampup('1:2:500')).toEqual({ from: 1, step: 2, everyMs: 500 });
  });

  it('refuses anything else, with the expected form', () => {
    expect(() => parseRampup('fast')).toThrow('--rampup must be FROM:STEP:MS, such as 1:1:2000, got "fast"');
  });
});
