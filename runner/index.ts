/**
 * baton: run many like operations safely. Processors import definePageProcessor and
 * NonRetryableError; programs that run jobs import Baton.
 */
export { definePageProcessor, NonRetryableError } from './processor-api.js';
export type {
  JsonValue,
  PageContext,
  PageFailure,
  PageInfo,
  PageLogger,
  PageProcessor,
  PageProcessorDefinition,
  PageResult,
  PageSpec,
  RetryMode,
  RetryOptions,
} from './processor-api.js';
export { Baton, type RetryFailedResult } from './engine/baton.js';
export { Job } from './engine/job.js';
export type { ProblemListener, Unsubscribe } from './engine/job-feed.js';
export type { StopMode } from './engine/job-runner.js';
export type { AttemptQuery, BatonOptions, CloseOptions, Limits, PageQuery, RateLimit, ResumeOptions, RetryFailedOptions, StartOptions } from './engine/options.js';
export type { Rampup } from './engine/rampup.js';
export { BatonError, isBatonError, type BatonErrorCode } from './errors.js';
export type * from './protocol.js';
