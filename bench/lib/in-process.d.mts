// Types for the baselines' runner (in-process.mjs), for the tests that check it.
import type { PageProcessorDefinition } from '../../runner/processor-api.js';

export interface BaselineRun {
  pages: number;
  seconds: number;
}

export function loadProcessor(source: string, tmp: string): Promise<PageProcessorDefinition>;
export function runSerial(processor: PageProcessorDefinition, args: unknown): Promise<BaselineRun>;
export function runPLimit(processor: PageProcessorDefinition, args: unknown, concurrency: number, durableAt?: string): Promise<BaselineRun>;
