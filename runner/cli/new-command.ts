/** `baton new <name>`: writes a page processor from a template. */
import { DEFAULT_TEMPLATE, writeProcessor } from '../scaffold.js';
import { shownPath } from '../store/database.js';
import { quoteArg } from './cli-options.js';

/** The options of `baton new`. */
export interface NewCommandOptions {
  /** A template id; default sql-keyset. */
  template?: string;
  /** The folder to write in; default the current folder. */
  dir?: string;
}

/** Writes the processor and says how to run it; returns the exit code. */
export function newCommand(name: string, options: NewCommandOptions): number {
  const template = options.template ?? DEFAULT_TEMPLATE;
  const written = writeProcessor(options.dir ?? process.cwd(), name, template);
  const shown = shownPath(written.file);
  const lines = [`created ${shown} from the ${template} template`, `run it: baton run ${quoteArg(shown)}`];
  if (written.needsDependency) {
    lines.push("for types and editor help, add baton to this project: npm install baton (processors import from 'baton')");
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
