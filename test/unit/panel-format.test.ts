import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../../webview/backoff.js';
import { formatCount, formatCursor, formatDuration, formatEta, formatPercent, formatRate, slotLabel, timeTicks } from '../../webview/format.js';
import { MAX_PARALLEL, shownState } from '../../runner/protocol.js';
import { parseLimitField } from '../../webview/limits-input.js';

describe('the panel\'s numbers', () => {
  it('writes counts, rates, durations and ETAs for people', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatRate(0)).toBe('0');
    expect(formatRate(12.345)).toBe('12.3');
    expect(formatRate(4_321.6)).toBe('4,322');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(7_380_000)).toBe('2 h 03 min');
    expect(formatEta(null)).toBe('–');
    expect(formatEta(0.2)).toBe('under 1 s');
    expect(formatEta(90)).toBe('1 min 30 s');
  });

  it('rounds progress down, so that 100.0% means every item is done', () => {
    expect(formatPercent(29_990 / 30_000)).toBe('99.9%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(0.5)).toBe('50.0%');
    expect(formatPercent(0.0138)).toBe('1.38%');
    expect(formatPercent(0.09999)).toBe('9.99%');
    expect(formatPercent(0)).toBe('0.00%');
  });

  it('shows a job whose row says running, but that no process runs, as stopped', () => {
    expect(shownState({ state: 'running', live: false })).toBe('stopped');
    expect(shownState({ state: 'running', live: true })).toBe('running');
    expect(shownState({ state: 'paused', live: false })).toBe('paused');
    expect(shownState({ state: 'cancelled', live: false })).toBe('cancelled');
  });

  it('cuts long cursors', () => {
    expect(formatCursor({ id: 1 })).toBe('{"id":1}');
    expect(formatCursor('x'.repeat(50), 10)).toBe('"xxxxxxxx…');
    expect(formatCursor(null)).toBe('null');
  });

  it('places time ticks on round steps within the range', () => {
    const { step, ticks } = timeTicks(1_000_500, 1_030_500, 6);
    expect(step).toBe(5_000);
    expect(ticks[0]).toBe(1_005_000);
    expect(ticks.every((t) => t % 5_000 === 0 && t >= 1_000_500 && t <= 1_030_500)).toBe(true);
  });
});

describe('the limits fields', () => {
  it('reads a number above 0, or empty for no limit', () => {
    expect(parseLimitField(' 16 ', 'Max parallel', true)).toEqual({ value: 16 });
    expect(parseLimitField('', 'Items/s limit', false)).toEqual({ value: null });
    expect(parseLimitField('2.5', 'Items/s limit', false)).toEqual({ value: 2.5 });
    expect(parseLimitField('2.5', 'Max parallel', true)).toEqual({ error: 'Max parallel must be a whole number above 0, such as 8' });
    expect(parseLimitField('-1', 'Items/s limit', false)).toEqual({ error: 'Items/s limit must be a number above 0, such as 500, or empty for no limit' });
    expect(parseLimitField('lots', 'Items/s limit', false)).toHaveProperty('error');
  });

  it('takes counts written as the panel writes them, and nothing but plain numbers', () => {
    expect(parseLimitField('1,000', 'Max parallel', true)).toEqual({ value: 1_000 });
    expect(parseLimitField('12,500.5', 'Items/s limit', false)).toEqual({ value: 12_500.5 });
    for (const text of ['0x10', '1e3', 'Infinity', '1,00', '12,5000', '+5', '.5']) {
      expect(parseLimitField(text, 'Items/s limit', false), text).toEqual({ error: 'Items/s limit must be a number above 0, such as 500, or empty for no limit' });
    }
  });

  it('stops at the caps the runner takes, in its own words', () => {
    expect(parseLimitField(String(MAX_PARALLEL), 'Max parallel', true)).toEqual({ value: 1_000_000 });
    expect(parseLimitField('1000001', 'Max parallel', true)).toEqual({ error: 'Max parallel must be at most 1,000,000' });
    expect(parseLimitField('2000000000', 'Pages/s limit', false)).toEqual({ error: 'Pages/s limit must be at most 1,000,000,000' });
  });
});

describe('reconnecting', () => {
  it('waits 250 ms, then twice as long each time, up to 5 s', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => reconnectDelay(n, middle))).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(reconnectDelay(1, () => 0)).toBe(200);
    expect(reconnectDelay(1, () => 1)).toBe(300);
  });
});

describe('lane names', () => {
  it("explain the '?' lane: attempts whose slot died with their process", () => {
    expect(slotLabel(3)).toBe('slot 3');
    expect(slotLabel(-1)).toBe('slot ?: not recorded, its process died');
  });
});
