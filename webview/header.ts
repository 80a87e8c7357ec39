/**
 * The header: the job's name and state, a progress bar, pages by state, items done, rates, ETA,
 * and the job picker when the database holds several jobs. Each update writes only the text
 * that changed.
 */
import { jobHasEnded, shownState, type JobSnapshot, type JobSummary } from '../runner/protocol.js';
import { byId, h, setAttr, setText } from './dom.js';
import { formatCount, formatDuration, formatEta, formatPercent, formatRate } from './format.js';


export class Header {
  private readonly picker = byId<HTMLElement & { value: string }>('job-picker');
  private readonly pickerLabel = byId('job-picker-label');
  private pickerKey = '';
  private selected: string | null = null;

  constructor(private readonly onPick: (jobId: string) => void) {
    this.picker.addEventListener('change', () => {
      const value = this.picker.value;
      if (value && value !== this.selected) this.onPick(value);
    });
    // A click on an option is a choice even when the list's value already matched it (the list
    // may have moved its selection itself when options were added).
    this.picker.addEventListener('click', (event) => {
      const option = (event.target as Element).closest('vscode-option');
      const value = option?.getAttribute('value');
      if (value && value !== this.selected) this.onPick(value);
    });
  }

  /**
   * Shows the selected job in the picker. The toolkit's list settles its own selection after
   * its options change (on slotchange, later), so this runs again once it has.
   */
  private syncPicker(): void {
    const apply = () => {
      const picker = this.picker as typeof this.picker & { open?: boolean };
      if (this.selected !== null && !picker.open && picker.value !== this.selected) picker.value = this.selected;
    };
    apply();
    requestAnimationFrame(() => setTimeout(apply, 0));
  }

  /** The job list changed: refill the picker (shown when there are several jobs). */
  setJobs(jobs: JobSummary[], selected: string | null): void {
    const reselect = selected !== this.selected;
    this.selected = selected;
    let changed = false;
    const key = JSON.stringify(jobs.map((job) => [job.jobId, job.name, shownState(job)]));
    if (key !== this.pickerKey) {
      this.pickerKey = key;
      // Options are updated in place, so that a list the user has open does not jump under the
      // pointer. Newest first, the way a user looks for the job just started.
      const existing = new Map<string, HTMLElement>();
      for (const option of this.picker.querySelectorAll<HTMLElement>('vscode-option')) existing.set(option.getAttribute('value') ?? '', option);
      const wanted = [...jobs].reverse();
      wanted.forEach((job, index) => {
        const label = `${job.jobId} (${job.name}, ${shownState(job)})`;
        let option = existing.get(job.jobId);
        existing.delete(job.jobId);
        if (option === undefined) option = h('vscode-option', { value: job.jobId }, label);
        else setText(option, label);
        const at = this.picker.querySelectorAll('vscode-option')[index];
        if (at !== option) {
          this.picker.insertBefore(option, at ?? null);
          changed = true;
        }
      });
      for (const stale of existing.values()) {
        stale.remove();
        changed = true;
      }
    }
    this.pickerLabel.hidden = jobs.length < 2;
    // Only when the options moved or the job changed: setting it at every tick would undo a
    // choice the user is making in the open list.
    if (changed || reselect) this.syncPicker();
  }

  /** The selected job changed; nothing known of it yet. */
  select(jobId: string | null): void {
    this.selected = jobId;
    this.syncPicker();
  }

  /** A job's latest state: a live snapshot, or the summary of one nobody runs. */
  update(job: JobSummary | JobSnapshot, now: number): void {
    const live = 'throughput' in job ? job : null;
    setText(byId('job-name'), job.name);
    setText(byId('job-id'), job.jobId);
    const state = byId('job-state');
    const shown = shownState(job);
    const ended = jobHasEnded(job.state);
    setText(state, shown);
    setAttr(state, 'data-state', shown);
    const runner = job.runBy ? `process ${job.runBy.pid} on ${job.runBy.host}` : 'a process';
    setAttr(state, 'title', job.live ? `${runner} runs this job now` : ended ? 'this job has ended' : 'no process runs this job now: Resume runs it here');

    const doneFraction = job.state === 'succeeded' ? 1 : live?.percent != null ? live.percent / 100 : null;
    const progress = byId('progress');
    const fill = byId('progress-fill');
    if (doneFraction === null) {
      setAttr(progress, 'aria-valuenow', null);
      // Pipelined pages: the total grows as pages enqueue the next; pages done so far is all we know.
      setAttr(progress, 'data-indeterminate', job.state === 'running' && job.live ? 'true' : null);
      const pagesDone = job.pages.total > 0 ? (job.pages.succeeded + job.pages.failed) / job.pages.total : 0;
      fill.style.width = `${(pagesDone * 100).toFixed(2)}%`;
      setText(byId('stat-percent'), job.pages.total > 0 ? `${formatCount(job.pages.succeeded + job.pages.failed)} of ${formatCount(job.pages.total)} pages so far` : '–');
    } else {
      setAttr(progress, 'aria-valuenow', (doneFraction * 100).toFixed(1));
      setAttr(progress, 'data-indeterminate', null);
      fill.style.width = `${(doneFraction * 100).toFixed(2)}%`;
      setText(byId('stat-percent'), formatPercent(doneFraction));
    }
    setAttr(progress, 'data-state', job.state);

    setText(byId('stat-items'), formatCount(live?.itemsLive ?? job.items) + (job.estimatedTotalItems ? ` of ${formatCount(job.estimatedTotalItems)}` : ''));
    // Rates and an ETA only while a process runs the job and it is not paused: the last ones
    // it published would otherwise stay on screen after its end, or its death, and a paused
    // job's fading rate and growing ETA read as if it moved on (baton status leaves them out too).
    const running = job.live && !ended && !(live?.paused ?? job.paused) ? live : null;
    setText(byId('stat-items-rate'), running ? formatRate(running.throughput.itemsPerSecond) : '–');
    setText(byId('stat-pages-rate'), running ? formatRate(running.throughput.pagesPerSecond) : '–');
    setText(byId('stat-eta'), job.state === 'succeeded' ? 'done' : formatEta(running?.etaSeconds ?? null));
    const started = Date.parse(job.startedAt);
    // A job no process runs stopped counting when its process let it go, or died.
    const until = job.endedAt ? Date.parse(job.endedAt) : job.lastRunAt ? Date.parse(job.lastRunAt) : now;
    setText(byId('stat-elapsed'), Number.isFinite(started) ? formatDuration(Math.max(0, until - started)) : '–');

    // As `baton status` says them: an ended job's queued and running pages never ran; a job no
    // process runs has no page running, and the pages its rows say run were interrupted (they
    // run again when it is resumed).
    setText(byId('label-queued'), ended ? 'not run' : 'queued');
    setText(byId('count-queued'), formatCount(ended ? job.pages.queued + job.pages.running : job.pages.queued));
    setText(byId('label-running'), ended || job.live ? 'running' : 'interrupted');
    setText(byId('count-running'), formatCount(ended ? 0 : job.live ? (live?.inFlight ?? job.pages.running) : job.pages.running));
    setText(byId('count-succeeded'), formatCount(job.pages.succeeded));
    setText(byId('count-failed'), formatCount(job.pages.failed));
    setText(byId('count-total'), formatCount(job.pages.total));

    const error = byId('job-error');
    error.hidden = !job.lastError;
    setText(error, job.lastError ?? '');
  }
}
