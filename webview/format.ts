/** How the panel writes numbers, rates, durations and times. Pure: unit-tested in Node. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? integer.format(n) : '–';
}

/** A rate per second: "0", "0.4", "12.5", "1,234". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  return perSecond < 100 ? oneDecimal.format(perSecond) : integer.format(perSecond);
}

/** A duration in ms: "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${oneDecimal.format(ms / 1000)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  const totalMinutes = Math.round(totalSeconds / 60);
  if (totalMinutes < 48 * 60) return `${Math.floor(totalMinutes / 60)} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
  return `${oneDecimal.format(totalMinutes / 1440)} days`;
}

/**
 * A fraction done as a percentage, rounded down: "100.0%" only once all is done, never for
 * 29,990 of 30,000. Two decimals under 10%, where a tenth of a percent is a long wait.
 */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction) || fraction <= 0) return fraction === 0 ? '0.00%' : '–';
  const digits = fraction < 0.1 ? 2 : 1;
  const scale = 10 ** digits;
  // The epsilon keeps 0.5 (50.0%) from flooring to 49.9 through binary rounding.
  const shown = Math.min(100, Math.floor(fraction * 100 * scale + 1e-9) / scale);
  return `${shown.toFixed(digits)}%`;
}

/** Seconds left as "ETA" text: null when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 1) return 'under 1 s';
  return formatDuration(seconds * 1000);
}

/** A time of day, local: "14:03:07", with ms when asked: "14:03:07.250". */
export function formatClock(ms: number, withMs = false): string {
  const d = new Date(ms);
  const hms = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return withMs ? `${hms}.${String(d.getMilliseconds()).padStart(3, '0')}` : hms;
}

/** A cursor as short text: JSON, cut at `max` characters. */
export function formatCursor(cursor: unknown, max = 120): string {
  let text: string;
  try {
    text = JSON.stringify(cursor) ?? String(cursor);
  } catch {
    text = String(cursor);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Time-axis ticks for a range: a "nice" step and the ticks in it. */
export function timeTicks(from: number, to: number, maxTicks: number): { step: number; ticks: number[] } {
  const span = Math.max(1, to - from);
  const steps = [10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];
  const step = steps.find((s) => span / s <= Math.max(1, maxTicks)) ?? Math.ceil(span / Math.max(1, maxTicks) / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return { step, ticks };
}

/** Lane '?' holds attempts whose slot was never recorded: they ran in a process that died. */
export function slotLabel(slot: number): string {
  return slot < 0 ? 'slot ?: not recorded, its process died' : `slot ${slot}`;
}
