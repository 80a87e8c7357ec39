import { BatonError } from './errors.js';

/**
 * Options written in JavaScript get no type check: a misspelt key (`maxParalel`, `intialPages`)
 * would be ignored in silence, and a job would run on a default its author never chose.
 */

/** Every key of T's options, spelt once, so that the compiler keeps the list in step with T. */
export type KeySet<T> = { readonly [K in keyof Required<T>]: true };

/** The message for the first key of `value` that `known` lacks; null when every key is known. */
export function unknownKeyMessage<T>(what: string, value: object, known: KeySet<T>): string | null {
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(known, key)) return `${what} has no option ${JSON.stringify(key)}: the options are ${Object.keys(known).join(', ')}`;
  }
  return null;
}

/** Throws INVALID_OPTION for the first key of `value` that `known` lacks. */
export function checkKnownKeys<T>(what: string, value: object, known: KeySet<T>): void {
  const message = unknownKeyMessage(what, value, known);
  if (message !== null) throw new BatonError('INVALID_OPTION', message);
}
