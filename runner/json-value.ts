/** A value that survives JSON.stringify and JSON.parse unchanged. Cursors, sizes and args are these. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Finds the first part of `value` that is not plain JSON, or returns null when all of it is.
 * The answer names the path and what was found there, so an error can say what to change.
 */
export function findNonJson(value: unknown, path = '$'): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${value} (JSON has no NaN or Infinity)`;
    case 'undefined':
      return `${path} is undefined (use null)`;
    case 'bigint':
      return `${path} is a BigInt (convert it to a string or number)`;
    case 'function':
    case 'symbol':
      return `${path} is a ${typeof value}`;
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonJson(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const kind = (value as object).constructor?.name ?? 'object';
    const hint = value instanceof Date ? ' (use date.toISOString())' : '';
    return `${path} is a ${kind}${hint}`;
  }
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const found = findNonJson(child, `${path}.${key}`);
    if (found) return found;
  }
  return null;
}
