import { describe, expect, it } from 'vitest';
import { hysteresis } from '../../runner/thread-load.js';

describe('hysteresis', () => {
  it('turns on above the high bar and off only below the low one', () => {
    const busy = hysteresis(0.8, 0.5);
    expect([0.3, 0.7, 0.85, 0.7, 0.6, 0.5, 0.45, 0.7].map(busy)).toEqual([false, false, true, true, true, true, false, false]);
  });
});
