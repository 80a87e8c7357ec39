import { describe, expect, it } from 'vitest';
import { BLOCKED_AFTER_MS, ThreadBeats } from '../../runner/engine/thread-beats.js';

describe('ThreadBeats', () => {
  it('calls a thread blocked once its count has stayed still for 250 ms, not a moment before', () => {
    const beats = new ThreadBeats();
    beats.note(1, 5, 1_000);
    // Read again unchanged: the wait still runs from when this count was first seen.
    beats.note(1, 5, 1_200);
    expect(beats.isBlocked(1, 1_000 + BLOCKED_AFTER_MS - 1)).toBe(false);
    expect(beats.isBlocked(1, 1_000 + BLOCKED_AFTER_MS)).toBe(true);
  });

  it('starts the wait again when the count moves, even by one beat', () => {
    const beats = new ThreadBeats();
    beats.note(1, 5, 0);
    beats.note(1, 6, 240);
    expect(beats.isBlocked(1, 300)).toBe(false);
    expect(beats.isBlocked(1, 240 + BLOCKED_AFTER_MS)).toBe(true);
  });

  it('does not call a thread blocked for a long gap between two reads that found its count moved', () => {
    // The scheduler's own tick can come late (its thread busy): the thread ran meanwhile.
    const beats = new ThreadBeats();
    beats.note(1, 5, 0);
    beats.note(1, 9, 5_000);
    expect(beats.isBlocked(1, 5_000)).toBe(false);
  });

  it('never calls a thread blocked before its count is first read', () => {
    expect(new ThreadBeats().isBlocked(7, 1_000_000)).toBe(false);
  });

  it('keeps each thread apart, and forgets a thread that stopped', () => {
    const beats = new ThreadBeats();
    beats.note(1, 5, 0);
    beats.note(2, 3, 0);
    beats.note(2, 4, 200);
    expect(beats.isBlocked(1, 300)).toBe(true);
    expect(beats.isBlocked(2, 300)).toBe(false);
    beats.forget(1);
    expect(beats.isBlocked(1, 10_000)).toBe(false);
  });
});
