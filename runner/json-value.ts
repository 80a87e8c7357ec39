/** A value that survives JSON.stringify and JSON.parse unchanged. Cursors, sizes and args are these. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Finds the first part of `value` that is not plain JSON, or returns null when all of it is.
 * The answer names the path and what was found there, so an error can say what to change.
 */
export function findNonJson(value: unknown, path = '$'): string | null {
  return findIn(value, path, new Map());
}

/**
 * `inside` holds the objects on the path to `value` (with their paths): a value that is one of
 * them is a cycle, which JSON cannot spell, and following it would overflow the stack. An object
 * reached twice by separate paths is no cycle, and is left to pass.
 */
function findIn(value: unknown, path: string, inside: Map<object, string>): string | null {
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
  if (value === null || typeof value !== 'object') return null;
  const outer = inside.get(value);
  if (outer !== undefined) return `${path} refers back to ${outer} (a cycle: JSON cannot hold one; copy the values instead)`;
  inside.set(value, path);
  const found = findInObject(value, path, inside);
  inside.delete(value);
  return found;
}

function findInObject(value: object, path: string, inside: Map<object, string>): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findIn(value[i], `${path}[${i}]`, inside);
      if (found) return found;
    }
    return null;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const kind = value.constructor?.name ?? 'object';
    const hint = value instanceof Date ? ' (use date.toISOString())' : '';
    return `${path} is a ${kind}${hint}`;
  }
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const found = findIn(child, `${path}.${key}`, inside);
    if (found) return found;
  }
  return null;
}
