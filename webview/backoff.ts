/** How long the browser panel waits before trying its WebSocket again. Pure: unit-tested in Node. */

/** The wait before reconnect attempt n (1-based): 250 ms doubling to 5 s, with ±20% jitter so that several tabs do not knock together. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(5_000, 250 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
