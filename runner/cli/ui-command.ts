/**
 * `baton ui [--port N] [--db PATH]`: serves the progress panel to a browser on 127.0.0.1, with
 * a token in the printed address, until Ctrl-C. Jobs run elsewhere (`baton run` in a terminal)
 * show live; Resume and Retry failed on a job nobody runs run it in this process.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Baton } from '../engine/baton.js';
import { BatonError } from '../errors.js';
import { PanelSession } from '../panel/panel-session.js';
import { shownPath } from '../store/database.js';
import { DEFAULT_UI_PORT, PortInUseError, UiServer, newUiToken } from '../ui/ui-server.js';
import { dbPath, holdsDatabase, noDatabaseAt, parseIntegerOption, type DbOption } from './cli-options.js';

export interface UiOptions extends DbOption {
  /** The port; 0 picks a free one. Default 7788. */
  port?: string;
}

/**
 * The token is kept next to the database (readable by its owner only), so that a restarted
 * `baton ui` on the same port answers the pages still open, which reconnect by themselves.
 */
function tokenFor(db: string): string {
  const file = join(dirname(db), 'ui-token');
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{32,}$/.test(saved)) return saved;
  }
  const token = newUiToken();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs the server until SIGINT or SIGTERM; resolves with the exit code. */
export async function uiCommand(options: UiOptions): Promise<number> {
  const port = options.port !== undefined ? parseIntegerOption('--port', options.port, 0) : DEFAULT_UI_PORT;
  if (port > 65_535) throw new BatonError('INVALID_OPTION', `--port must be an integer from 0 to 65535, got ${JSON.stringify(options.port)}`);
  const db = dbPath(options);
  // A --db that names no file is most likely mistyped: serving it would create an empty database
  // there and show "No job yet". Without --db, the panel may be opened before the first job.
  if (options.db !== undefined && !holdsDatabase(db)) {
    throw new BatonError('INVALID_OPTION', `--db ${options.db}: ${noDatabaseAt(db)}; pass the file your jobs were run with, or leave --db out for .baton/baton.db`);
  }
  const baton = await Baton.open({ db });
  let server: UiServer;
  try {
    server = await UiServer.start({ port, token: tokenFor(db), openSession: (send) => new PanelSession(baton, send, 'cli') });
  } catch (error) {
    await baton.close();
    if (error instanceof PortInUseError) {
      throw new BatonError('INVALID_OPTION', `--port ${port}: ${error.message}; pass another with --port N, or --port 0 for a free one`);
    }
    throw error;
  }

  say(`baton ui: the progress panel for ${shownPath(db)}`);
  say(`  open ${server.url}`);
  say('the address works only with its token, and only on this machine; press Ctrl-C to stop');

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second Ctrl-C: pages of jobs run here are aborted and run again on resume.
        say('stopping at once');
        void baton.close({ stop: 'now' });
        return;
      }
      stopping = true;
      say(signal === 'SIGINT' ? 'stopping: running pages of jobs run here finish; Ctrl-C again to stop at once' : 'stopping');
      void server
        .close()
        .then(() => baton.close({ stop: 'drain' }))
        .finally(() => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
