// A synthetic panel session for the panel benchmark: one job of `pages` pages over `lanes`
// slots, finishing `eventsPerSecond` pages a second. Most pages are sent at once as history (as
// if the job had been running); the rest end live, in activities four times a second, the way
// the runner sends them. One page in 200 fails its first attempt and is retried.

const ACTIVITY_MS = 250;

/** Page numbers and times of a job that ends `eventsPerSecond` pages a second across `lanes` lanes. */
function attemptOf(page, { t0, eventsPerSecond, lanes }) {
  const gap = 1000 / eventsPerSecond;
  const duration = lanes * gap;
  const startedAt = t0 + (page - 1) * gap;
  const slot = (page - 1) % lanes;
  const fails = page % 200 === 0;
  return { page, slot, startedAt, endedAt: startedAt + duration, fails };
}

function info(a, attempt, outcome, startedAt, endedAt) {
  return {
    page: a.page,
    attempt,
    slot: a.slot,
    outcome,
    cursor: { after: a.page * 500, table: 'prices' },
    startedAt: Math.round(startedAt),
    endedAt: endedAt === null ? null : Math.round(endedAt),
    items: outcome === 'succeeded' ? 500 : null,
    error: outcome === 'failed' ? { name: 'TimeoutError', message: `page ${a.page}: the API did not answer in 5 s`, stack: null } : null,
  };
}

/** The attempts of one page that have started by `now`: a failed first try (split in two) and its retry. */
function attemptsOf(a, now) {
  if (!a.fails) return [info(a, 1, a.endedAt <= now ? 'succeeded' : 'running', a.startedAt, a.endedAt <= now ? a.endedAt : null)];
  const mid = (a.startedAt + a.endedAt) / 2;
  const out = [info(a, 1, mid <= now ? 'failed' : 'running', a.startedAt, mid <= now ? mid : null)];
  if (mid <= now) out.push(info(a, 2, a.endedAt <= now ? 'succeeded' : 'running', mid, a.endedAt <= now ? a.endedAt : null));
  return out;
}

/** Opens a session for `baton ui`'s server (UiServer's openSession). */
export function syntheticSessions({ pages, eventsPerSecond, seconds, lanes }) {
  const livePages = Math.min(pages, eventsPerSecond * seconds);
  const historyPages = pages - livePages;
  // Time is laid out so that the history has just finished when the first session opens.
  let t0 = null;
  const jobId = 'bench-panel';
  const summary = (now, done) => ({
    jobId,
    name: 'inflate-prices',
    processor: '/bench/inflate-prices.ts',
    state: 'running',
    live: true,
    pages: { total: done + lanes, queued: lanes, running: lanes, succeeded: done, failed: 0 },
    items: done * 500,
    attempts: done + Math.floor(done / 200),
    maxInFlight: lanes,
    limits: { maxParallel: lanes, rateLimit: { itemsPerSecond: eventsPerSecond * 600 } },
    paused: false,
    estimatedTotalItems: pages * 500,
    lastError: null,
    startedAt: new Date(t0).toISOString(),
  });

  return (send) => {
    let timer;
    let seq = 0;
    let lastNow = null;
    const config = () => ({ t0, eventsPerSecond, lanes });
    const pageAt = (time) => Math.floor((time - t0) * eventsPerSecond / 1000) + 1;
    const tick = () => {
      const now = Date.now();
      const last = Math.min(pages, pageAt(now));
      const ended = [];
      const running = [];
      // Pages whose attempts ended since the last tick, and those running now.
      for (let page = Math.max(1, pageAt(lastNow - lanes * (1000 / eventsPerSecond)) - 1); page <= last; page++) {
        const a = attemptOf(page, config());
        for (const attempt of attemptsOf(a, now)) {
          if (attempt.endedAt === null) running.push(attempt);
          else if (attempt.endedAt > lastNow) ended.push(attempt);
        }
      }
      lastNow = now;
      const done = Math.max(0, last - lanes);
      send({
        type: 'activity',
        activity: {
          jobId,
          seq: ++seq,
          snapshot: {
            ...summary(now, done),
            throughput: { itemsPerSecond: eventsPerSecond * 500, pagesPerSecond: eventsPerSecond },
            itemsLive: done * 500,
            inFlight: running.length,
            effectiveParallel: lanes,
            percent: (done / pages) * 100,
            etaSeconds: (pages - done) / eventsPerSecond,
          },
          running,
          runningDropped: 0,
          ended,
          endedDropped: 0,
        },
      });
    };
    return {
      async handle(request) {
        if (request?.type !== 'ready') return;
        if (t0 === null) t0 = Date.now() - historyPages * (1000 / eventsPerSecond);
        const now = Date.now();
        send({ type: 'jobs', jobs: [summary(now, historyPages)] });
        // Newest first, in the runner's 5,000-attempt answers.
        const history = [];
        for (let page = Math.min(pages, pageAt(now)); page >= 1; page--) {
          for (const attempt of attemptsOf(attemptOf(page, config()), now).reverse()) if (attempt.endedAt !== null) history.push(attempt);
        }
        for (let i = 0; i < history.length; i += 5_000) {
          send({ type: 'history', jobId, attempts: history.slice(i, i + 5_000), complete: i + 5_000 >= history.length });
        }
        send({ type: 'failures', jobId, failures: [] });
        lastNow = now;
        timer = setInterval(tick, ACTIVITY_MS);
      },
      dispose() {
        clearInterval(timer);
      },
    };
  };
}
