#!/usr/bin/env node
/**
 * The runner server's process: the VS Code extension starts it with vscode-languageclient on the
 * user's Node (>= 20) and talks JSON-RPC to it over stdio; it runs jobs with the engine and sends
 * back what changes.
 *
 *   node dist/runner/server/main.js --stdio --db <path of the SQLite file>
 *
 * `--db` defaults to .baton/baton.db under the current folder, as the CLI's does.
 */
import { resolve } from 'node:path';
import { createConnection, ProposedFeatures, ResponseError, StreamMessageReader, StreamMessageWriter, type InitializeError } from 'vscode-languageserver/node';
import { packageVersion } from '../cli/package-version.js';
import { Baton } from '../engine/baton.js';
import { DEFAULT_DB } from '../engine/options.js';
import { PanelSession } from '../panel/panel-session.js';
import { wordDatabaseFix } from '../protocol.js';
import { RunnerServer } from './runner-server.js';

// stdout carries the protocol, and nothing else may write to it: user processors' console.log
// in worker threads is forwarded by Node to the main thread's process.stdout. Point that at
// stderr, which the extension shows in the "Baton" output channel.
const protocolOut = process.stdout;
Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => process.stderr });

const db = resolve(argument('--db') ?? DEFAULT_DB);
const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new StreamMessageWriter(protocolOut));
const log = (line: string) => {
  try {
    connection.console.log(line);
  } catch {
    // The extension went away (its jobs stop as it does): the line still reaches stderr.
    process.stderr.write(`${line}\n`);
  }
};

let baton: Baton | undefined;
let server: RunnerServer | undefined;

connection.onInitialize(async () => {
  try {
    baton = await Baton.open({ db });
  } catch (error) {
    const message = `Baton could not open its database ${db}: ${wordDatabaseFix((error as Error).message, 'vscode')}`;
    return new ResponseError<InitializeError>(1, message, { retry: false });
  }
  server = new RunnerServer({ baton, connection, log, createPanelSession: (b, send) => new PanelSession(b, send, 'vscode') });
  return { capabilities: {}, serverInfo: { name: 'baton-runner', version: packageVersion() } };
});

connection.onInitialized(() => {
  log(`Baton runner ${packageVersion()} (Node ${process.version}, pid ${process.pid}), database ${db}`);
  server?.watchJobs();
});

connection.onShutdown(() => stop());
connection.onExit(() => void stop());
// The extension host went away without a shutdown: stop too (jobs stay resumable).
process.stdin.on('close', () => void stop().finally(() => process.exit(0)));

connection.listen();

let stopping: Promise<void> | undefined;

/** Lets running pages finish for a moment, then stops them; their jobs can be resumed. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    server?.dispose();
    if (!baton) return;
    const drained = baton.close({ stop: 'drain' });
    const late = setTimeout(() => void baton?.close({ stop: 'now' }), 1500);
    await drained.catch(() => {});
    clearTimeout(late);
  })();
  return stopping;
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  if (index >= 0) return process.argv[index + 1];
  const inline = process.argv.find((arg) => arg.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}
