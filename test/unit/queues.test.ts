import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../runner/engine/min-heap.js';
import { PageQueue } from '../../runner/engine/page-queue.js';
import { SlotAllocator } from '../../runner/engine/slot-allocator.js';
import type { QueuedPage } from '../../runner/store/page-store.js';

const page = (no: number, runAfter: number | null = null): QueuedPage => ({ no, cursor: String(no), size: null, attempts: 0, retryBase: 0, children: 0, runAfter });

describe('MinHeap', () => {
  it('pops in key order', () => {
    const heap = new MinHeap<number>((n) => n);
    for (const n of [5, 1, 4, 1, 5, 9, 2, 6]) heap.push(n);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!);
    expect(out).toEqual([1, 1, 2, 4, 5, 5, 6, 9]);
  });
});

describe('SlotAllocator', () => {
  it('hands out the lowest free slot', () => {
    const slots = new SlotAllocator();
    expect([slots.acquire(), slots.acquire(), slots.acquire()]).toEqual([0, 1, 2]);
    slots.release(1);
    slots.release(0);
    expect(slots.acquire()).toBe(0);
    expect(slots.acquire()).toBe(1);
    expect(slots.acquire()).toBe(3);
  });
});

describe('PageQueue', () => {
  it('gives ready pages in order, and delayed ones once due, ahead of the rest', () => {
    const queue = new PageQueue(() => []);
    queue.add(page(1), 0);
    queue.add(page(2, 100), 0);
    queue.add(page(3), 0);
    expect(queue.take(0, 10, () => true).map((p) => p.no)).toEqual([1, 3]);
    expect(queue.nextDueAt()).toBe(100);
    queue.add(page(4), 50);
    expect(queue.take(100, 10, () => true).map((p) => p.no)).toEqual([2, 4]);
    expect(queue.isEmpty).toBe(true);
  });

  it('stops taking when admit refuses', () => {
    const queue = new PageQueue(() => []);
    for (let no = 1; no <= 5; no++) queue.add(page(no), 0);
    let budget = 2;
    expect(queue.take(0, 10, () => budget-- > 0).map((p) => p.no)).toEqual([1, 2]);
    expect(queue.readyCount).toBe(3);
  });

  it('holds at most its capacity in memory and reads the rest back from the store in order', () => {
    const stored = new Map<number, QueuedPage>();
    const loads: number[] = [];
    const queue = new PageQueue((from, limit) => {
      loads.push(from);
      return [...stored.values()].filter((p) => p.no >= from).sort((a, b) => a.no - b.no).slice(0, limit);
    }, 3);
    for (let no = 1; no <= 10; no++) {
      stored.set(no, page(no));
      queue.add(page(no), 0);
    }
    expect(queue.readyCount).toBe(3);
    const taken: number[] = [];
    while (!queue.isEmpty) {
      for (const p of queue.take(0, 2, () => true)) {
        taken.push(p.no);
        stored.delete(p.no);
      }
    }
    expect(taken).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(loads[0]).toBe(4);
  });
});
