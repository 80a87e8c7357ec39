/** Reads what the user typed in the limits fields. Pure: unit-tested in Node. */

/** A limits field: '' → null (no limit), else a number above 0, or a message saying what to type. */
export function parseLimitField(text: string, what: string, integer: boolean): { value: number | null } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { value: null };
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    return { error: `${what} must be ${integer ? 'a whole number' : 'a number'} above 0${integer ? '' : ', or empty for no limit'}` };
  }
  return { value };
}
