/** How the CLI reports an error: one line for Baton's own, message and stack for the rest. */
import { isBatonError } from '../errors.js';
import { wordDatabaseFix } from '../protocol.js';

/** Exit code for input errors: a bad option, a missing or broken processor, an unknown job. */
export const EXIT_INPUT_ERROR = 2;
/** Exit code for errors Baton did not expect. */
export const EXIT_UNEXPECTED = 1;

/** Prints the error on stderr and returns the exit code. */
export function reportError(error: unknown): number {
  if (isBatonError(error)) {
    process.stderr.write(`baton: ${wordDatabaseFix(error.message, 'cli').replace(/\n+/g, ' ')}\n`);
    return EXIT_INPUT_ERROR;
  }
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  process.stderr.write(`baton: unexpected error: ${text}\n`);
  return EXIT_UNEXPECTED;
}

/**
 * Commander's own errors (unknown option, missing argument) in Baton's form: one line with the
 * `baton:` prefix, and where to see the command's options.
 */
export function formatParserError(text: string, helpCommand: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*\(Did you mean (.+)\)$/, ' (did you mean $1)')
    .replace(/\s+/g, ' ')
    .replace(/\.$/, '');
  return `baton: ${message}: see \`${helpCommand}\`\n`;
}
