/**
 * The host's clock as the panel estimates it. Attempt times come from the host's clock, which
 * may differ from the panel's (VS Code on a remote machine), so the panel learns the offset from
 * times it hears. A time the host sent is a lower bound of its clock, and a tight one only when
 * it is fresh: the ends a live job's activity carries happened since the activity before it (a
 * quarter of a second). History, the ends a job's last activity carried before its process let
 * it go, and the starts of running attempts can be minutes old: taken as "now", they stopped the
 * elapsed time, the chart's axis and the timeline's present where a quiet job last moved. Until
 * a fresh time is heard, the panel's own clock stands in (`baton ui` shares the host's). Pure.
 */
import type { JobActivity } from '../runner/protocol.js';

export class HostClock {
  /** Host clock minus local clock, ms; -Infinity until a fresh time is heard. */
  private offset = -Infinity;

  /** Learns from an activity: only the ends a live job's activity carries are fresh. */
  noteActivity(activity: JobActivity, localNow = Date.now()): void {
    if (!activity.snapshot.live) return;
    for (const attempt of activity.ended) {
      if (attempt.endedAt !== null) this.noteFresh(attempt.endedAt, localNow);
    }
  }

  /** A host time known to be at most a moment old. */
  noteFresh(hostTime: number, localNow = Date.now()): void {
    const offset = hostTime - localNow;
    if (offset > this.offset) this.offset = offset;
  }

  /** Host clock minus local clock as estimated, ms: 0 until a fresh time is heard. */
  get offsetMs(): number {
    return Number.isFinite(this.offset) ? this.offset : 0;
  }

  /** The host's time now, as best known. */
  now(localNow = Date.now()): number {
    return localNow + this.offsetMs;
  }
}
