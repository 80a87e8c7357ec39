import { MinHeap } from './min-heap.js';

/**
 * Hands out the lowest free slot number, so the panel's timeline has one compact lane per
 * slot however pages come and go.
 */
export class SlotAllocator {
  private readonly free = new MinHeap<number>((slot) => slot);
  private highWater = 0;

  acquire(): number {
    return this.free.pop() ?? this.highWater++;
  }

  release(slot: number): void {
    this.free.push(slot);
  }
}
