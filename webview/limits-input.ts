/** Reads what the user typed in the limits fields. Pure: unit-tested in Node. */
import { MAX_PARALLEL, MAX_RATE } from '../runner/protocol.js';

const NUMBER = /^\d+(\.\d+)?$/;
/** Digits grouped by commas, as the panel writes its counts: 1,000 or 12,500.5. */
const GROUPED = /^\d{1,3}(,\d{3})+(\.\d+)?$/;
const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 20 });

/**
 * A limits field: '' → null (no limit), else a plain decimal number above 0 and at most the
 * limit's cap (max parallel a whole number), or a message saying what to type.
 */
export function parseLimitField(text: string, what: string, integer: boolean): { value: number | null } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { value: null };
  const plain = GROUPED.test(trimmed) ? trimmed.replace(/,/g, '') : trimmed;
  const value = NUMBER.test(plain) ? Number(plain) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    return { error: `${what} must be ${integer ? 'a whole number' : 'a number'} above 0, such as ${integer ? '8' : '500'}${integer ? '' : ', or empty for no limit'}` };
  }
  const max = integer ? MAX_PARALLEL : MAX_RATE;
  if (value > max) return { error: `${what} must be at most ${grouped.format(max)}` };
  return { value };
}
