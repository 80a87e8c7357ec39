/** Types of server.mjs, for the TypeScript tests that import it. */
export interface ServerStats {
  notified: Map<number, number>;
  times: number[];
  listCalls: number;
  tooMany: number;
  refused: number;
}
export declare function startServer(options?: { customers?: number; gone?: number[]; busyOnce?: number[]; limitPerSecond?: number | null }): Promise<{ url: string; stats: ServerStats; close(): Promise<void> }>;
export declare function observedRate(times: number[]): { busiestSecond: number; seconds: number; average: number };
export declare function describeRates(times: number[], limit: number): string;
