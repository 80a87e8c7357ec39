/**
 * The controls: Pause/Resume, max parallel, rate limits, Retry failed and Cancel (after a
 * confirmation in the panel: webviews cannot open dialogs). Each sends a request with an id and
 * shows the host's answer; the job's next activity shows the effect. The fields show the job's
 * limits unless the user is editing them.
 */
import { jobHasEnded, sameLimits, type JobLimits, type JobSnapshot, type JobSummary, type PanelRequest, type PanelResult, type RateLimitSetting } from '../runner/protocol.js';
import { byId, setText } from './dom.js';
import { parseLimitField } from './limits-input.js';

type Field = HTMLElement & { value: string; disabled: boolean };
type Button = HTMLElement & { disabled: boolean };
/** A control request without its id, which the controls add. */
export type ControlRequest = PanelRequest extends infer R ? (R extends { requestId: number } ? Omit<R, 'requestId'> : never) : never;

export class Controls {
  private readonly pauseResume = byId<Button>('pause-resume');
  private readonly maxParallel = byId<Field>('max-parallel');
  private readonly rateItems = byId<Field>('rate-items');
  private readonly ratePages = byId<Field>('rate-pages');
  private readonly applyLimits = byId<Button>('apply-limits');
  private readonly retryAll = byId<Button>('retry-all');
  private readonly failuresRetryAll = byId<Button>('failures-retry-all');
  private readonly cancel = byId<Button>('cancel');
  private readonly confirm = byId('cancel-confirm');
  private readonly message = byId('control-message');
  private nextId = 1;
  /** Requests sent and not answered: what each does ("pausing") and what to say once done. */
  private readonly pending = new Map<number, { what: string; done: string }>();
  private job: JobSummary | null = null;
  private connected = false;
  /** Limits sent and not yet seen in the job's state. */
  private submitted: JobLimits | null = null;
  /** Fields the user has typed in since the job's limits were last shown. */
  private readonly edited = new Set<Field>();

  constructor(private readonly send: (request: PanelRequest) => boolean) {
    this.pauseResume.addEventListener('click', () => {
      if (!this.job) return;
      const resume = wantsResume(this.job);
      this.request({ type: resume ? 'resume' : 'pause', jobId: this.job.jobId }, resume ? 'resuming' : 'pausing', resume ? 'Resumed.' : 'Paused: pages running now finish, and no new page starts.');
    });
    for (const field of [this.maxParallel, this.rateItems, this.ratePages]) {
      field.addEventListener('input', () => this.edited.add(field));
      field.addEventListener('keydown', (event) => {
        if ((event as KeyboardEvent).key === 'Enter') this.submitLimits();
        if ((event as KeyboardEvent).key === 'Escape') this.resetFields();
      });
    }
    this.applyLimits.addEventListener('click', () => this.submitLimits());
    const retryAll = () => this.job && this.request({ type: 'retryFailed', jobId: this.job.jobId }, 'retrying failed pages', 'The failed pages run again.');
    this.retryAll.addEventListener('click', retryAll);
    this.failuresRetryAll.addEventListener('click', retryAll);
    this.cancel.addEventListener('click', () => {
      this.confirm.hidden = false;
      byId('cancel-no').focus();
    });
    byId('cancel-no').addEventListener('click', () => (this.confirm.hidden = true));
    byId('cancel-yes').addEventListener('click', () => {
      this.confirm.hidden = true;
      if (this.job) this.request({ type: 'cancel', jobId: this.job.jobId }, 'cancelling', 'Cancelled.');
    });
  }

  /** Retries one page (from the failures table or the page view). */
  retryPage(page: number): void {
    if (this.job) this.request({ type: 'retryFailed', jobId: this.job.jobId, page }, `retrying page ${page}`, `Page ${page} runs again.`);
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    if (!connected) this.dropPending();
    this.refresh();
  }

  /**
   * The link dropped: requests still unanswered will never be (a new link is a new session), and
   * waiting for them would keep the controls disabled for good. Whether they were done shows in
   * the job's state.
   */
  private dropPending(): void {
    if (this.pending.size === 0) return;
    const what = [...this.pending.values()].map((sent) => sent.what).join(', ');
    this.pending.clear();
    this.message.dataset.kind = 'error';
    setText(this.message, `The link dropped before the host answered (${what}): the job's state shows whether it was done.`);
  }

  /** Another job was selected. */
  reset(): void {
    this.job = null;
    this.submitted = null;
    this.edited.clear();
    this.confirm.hidden = true;
    setText(this.message, '');
    this.refresh();
  }

  update(job: JobSummary | JobSnapshot): void {
    this.job = job;
    if (this.submitted !== null && sameLimits(this.submitted, job.limits)) {
      this.submitted = null;
      this.edited.clear();
    }
    if (!this.edited.has(this.maxParallel)) this.setField(this.maxParallel, String(job.limits.maxParallel));
    if (!this.edited.has(this.rateItems)) this.setField(this.rateItems, job.limits.rateLimit?.itemsPerSecond?.toString() ?? '');
    if (!this.edited.has(this.ratePages)) this.setField(this.ratePages, job.limits.rateLimit?.pagesPerSecond?.toString() ?? '');
    this.refresh();
  }

  onResult(result: PanelResult): void {
    const sent = this.pending.get(result.requestId);
    if (sent === undefined) return;
    this.pending.delete(result.requestId);
    this.message.dataset.kind = result.ok ? 'ok' : 'error';
    setText(this.message, result.ok ? sent.done : `Could not finish ${sent.what}: ${result.error ?? 'the host gave no reason'}`);
    // The fields keep what was typed until the job's limits show it (the next activity), so
    // they never flick back to the old values; a job that never shows them is reset anyway.
    if (result.ok && this.submitted !== null) window.setTimeout(() => this.submitted !== null && this.resetFields(), 3_000);
    if (!result.ok) this.submitted = null;
    this.refresh();
  }

  private setField(field: Field, value: string): void {
    if (document.activeElement === field) return;
    if (field.value !== value) field.value = value;
  }

  private resetFields(): void {
    this.submitted = null;
    this.edited.clear();
    if (this.job) this.update(this.job);
  }

  private submitLimits(): void {
    if (!this.job) return;
    const parallel = parseLimitField(this.maxParallel.value, 'Max parallel', true);
    const items = parseLimitField(this.rateItems.value, 'Items/s limit', false);
    const pages = parseLimitField(this.ratePages.value, 'Pages/s limit', false);
    for (const parsed of [parallel, items, pages]) {
      if ('error' in parsed) {
        this.message.dataset.kind = 'error';
        setText(this.message, parsed.error);
        return;
      }
    }
    const maxParallel = (parallel as { value: number | null }).value;
    if (maxParallel === null) {
      this.message.dataset.kind = 'error';
      setText(this.message, 'Max parallel must be a whole number above 0, such as 8');
      return;
    }
    const rate: RateLimitSetting = {};
    const itemsValue = (items as { value: number | null }).value;
    const pagesValue = (pages as { value: number | null }).value;
    if (itemsValue !== null) rate.itemsPerSecond = itemsValue;
    if (pagesValue !== null) rate.pagesPerSecond = pagesValue;
    const rateLimit = itemsValue === null && pagesValue === null ? null : rate;
    this.submitted = { maxParallel, ...(rateLimit ? { rateLimit } : {}) };
    const limits = `max parallel ${maxParallel}${rateLimit ? `, ${describeRate(rateLimit)}` : ', no rate limit'}`;
    this.request({ type: 'setLimits', jobId: this.job.jobId, maxParallel, rateLimit }, `setting limits (${limits})`, `Limits set: ${limits}.`);
  }

  private request(request: ControlRequest, what: string, done: string): void {
    const requestId = this.nextId++;
    const sent = this.send({ ...request, requestId } as PanelRequest);
    this.message.dataset.kind = sent ? 'pending' : 'error';
    if (!sent) {
      setText(this.message, `Not connected: ${what} was not sent.`);
      return;
    }
    this.pending.set(requestId, { what, done });
    setText(this.message, `${what[0]!.toUpperCase()}${what.slice(1)}…`);
    this.refresh();
  }

  private refresh(): void {
    const job = this.job;
    const can = this.connected && job !== null;
    const finished = job !== null && jobHasEnded(job.state);
    const busy = this.pending.size > 0;
    setText(this.pauseResume, job !== null && wantsResume(job) ? 'Resume' : 'Pause');
    this.pauseResume.disabled = !can || finished || busy;
    for (const field of [this.maxParallel, this.rateItems, this.ratePages]) field.disabled = !can || finished;
    this.applyLimits.disabled = !can || finished || busy;
    const failed = job?.pages.failed ?? 0;
    this.retryAll.disabled = !can || failed === 0 || busy || job?.state === 'cancelled';
    this.failuresRetryAll.disabled = this.retryAll.disabled;
    this.cancel.disabled = !can || finished || busy;
    if (this.cancel.disabled) this.confirm.hidden = true;
  }
}

/** Paused, or stopped with no process running it (Resume then runs it in the host). */
function wantsResume(job: JobSummary): boolean {
  return job.paused || (!job.live && !jobHasEnded(job.state));
}

function describeRate(rate: RateLimitSetting): string {
  return [rate.itemsPerSecond !== undefined ? `${rate.itemsPerSecond} items/s` : '', rate.pagesPerSecond !== undefined ? `${rate.pagesPerSecond} pages/s` : ''].filter(Boolean).join(', ');
}
