/**
 * `baton ui`'s server: the panel bundle over HTTP and one PanelSession per WebSocket, on
 * 127.0.0.1 only. Every request and the WebSocket must carry the server's token in the URL
 * (`?token=`); without it the answer is 401. The Host header must name the loopback address,
 * so that a web page that rebinds its own domain to 127.0.0.1 cannot reach the server either.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { panelCsp, renderPanelHtml } from '../../webview/panel-html.js';
import { UI_TOKEN_REFUSED, type PanelMessage } from '../protocol.js';

/** What the server needs of a panel session; PanelSession is one. */
export interface UiSession {
  handle(request: unknown): Promise<void>;
  dispose(): void;
}

export interface UiServerOptions {
  /** Opens a session for a new WebSocket; `send` delivers to that socket. */
  openSession: (send: (message: PanelMessage) => void) => UiSession;
  /** The port; 0 picks a free one. Default DEFAULT_UI_PORT. */
  port?: number;
  /** The secret every URL must carry. Default: 32 random bytes, base64url. */
  token?: string;
  /** The folder holding panel.js, panel.css and theme-browser.css. Default: the built dist/webview. */
  assetsDir?: string;
}

export const DEFAULT_UI_PORT = 7788;
/** The only interface the server listens on. */
export const UI_HOST = '127.0.0.1';
/** Largest message a panel may send; requests are small. */
const MAX_REQUEST_BYTES = 64 * 1024;
/** A socket that answers no ping for this long is closed. */
const PING_MS = 15_000;

const ASSETS: Record<string, string> = {
  '/panel.js': 'text/javascript; charset=utf-8',
  '/panel.css': 'text/css; charset=utf-8',
  '/theme-browser.css': 'text/css; charset=utf-8',
};

/** Raised when the port is taken, so the CLI can say which and what to do. */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} on ${UI_HOST} is in use`);
  }
}

/** A fresh token: 32 random bytes, URL-safe. */
export function newUiToken(): string {
  return randomBytes(32).toString('base64url');
}

/** dist/webview, whether this file runs from dist/runner/ui or from runner/ui in the source. */
export function defaultAssetsDir(): string {
  const up = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const built = join(up, 'webview');
  return existsSync(join(built, 'panel.js')) ? built : join(up, 'dist', 'webview');
}

export class UiServer {
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES });
  private pinger: NodeJS.Timeout | undefined;

  private constructor(
    private readonly server: Server,
    private readonly options: Required<Pick<UiServerOptions, 'token' | 'assetsDir'>> & UiServerOptions,
    /** The port it listens on. */
    readonly port: number,
  ) {}

  /** Starts listening on 127.0.0.1. Rejects with PortInUseError when the port is taken. */
  static async start(options: UiServerOptions): Promise<UiServer> {
    const filled = { ...options, token: options.token ?? newUiToken(), assetsDir: options.assetsDir ?? defaultAssetsDir() };
    for (const name of Object.keys(ASSETS)) {
      if (!existsSync(join(filled.assetsDir, name))) {
        throw new Error(`the panel bundle is missing (${join(filled.assetsDir, name)}): build it with \`npm run build\``);
      }
    }
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(options.port ?? DEFAULT_UI_PORT) : error);
      server.once('error', onError);
      server.listen(options.port ?? DEFAULT_UI_PORT, UI_HOST, () => {
        server.off('error', onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
    const ui = new UiServer(server, filled, port);
    ui.attach();
    return ui;
  }

  /** The address to open, token included. */
  get url(): string {
    return `http://${UI_HOST}:${this.port}/?token=${encodeURIComponent(this.options.token)}`;
  }

  /** Closes every socket and stops listening. */
  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const client of this.clients) client.terminate();
    this.wss.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private attach(): void {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('request', (request, response) => this.onRequest(request, response));
    this.server.on('upgrade', (request, socket, head) => this.onUpgrade(request, socket as Socket, head));
    this.pinger = setInterval(() => {
      for (const client of this.clients) {
        const alive = client as WebSocket & { batonAlive?: boolean };
        if (alive.batonAlive === false) {
          client.terminate();
          continue;
        }
        alive.batonAlive = false;
        client.ping();
      }
    }, PING_MS);
    this.pinger.unref();
  }

  /** The origin the page was loaded from, when the Host header names this server. */
  private originOf(request: IncomingMessage): string | null {
    const host = request.headers.host;
    if (host === `${UI_HOST}:${this.port}` || host === `localhost:${this.port}`) return `http://${host}`;
    return null;
  }

  private authorized(request: IncomingMessage): { path: string; origin: string } | null {
    const origin = this.originOf(request);
    if (origin === null) return null;
    const url = new URL(request.url ?? '/', origin);
    const given = url.searchParams.get('token');
    if (given === null || !sameSecret(given, this.options.token)) return null;
    return { path: url.pathname, origin };
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    const common = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
    const allowed = this.authorized(request);
    if (allowed === null) {
      response.writeHead(401, { ...common, 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('401: open the address `baton ui` printed, token included\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...common, Allow: 'GET, HEAD' });
      response.end();
      return;
    }
    const token = encodeURIComponent(this.options.token);
    if (allowed.path === '/' || allowed.path === '/index.html') {
      const nonce = randomBytes(18).toString('base64');
      const html = renderPanelHtml({
        scriptUri: `/panel.js?token=${token}`,
        styleUri: `/panel.css?token=${token}`,
        extraStyleUris: [`/theme-browser.css?token=${token}`],
        nonce,
        cspSource: allowed.origin,
        host: 'browser',
      });
      response.writeHead(200, {
        ...common,
        'Content-Type': 'text/html; charset=utf-8',
        // As in the page, plus what only a header can say: no framing by another site.
        'Content-Security-Policy': `${panelCsp({ nonce, cspSource: allowed.origin, host: 'browser' })}; frame-ancestors 'none'`,
        'X-Frame-Options': 'DENY',
      });
      response.end(request.method === 'HEAD' ? undefined : html);
      return;
    }
    const type = ASSETS[allowed.path];
    if (type === undefined) {
      response.writeHead(404, { ...common, 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('404\n');
      return;
    }
    // Read on each request: a rebuilt bundle shows on reload.
    const body = readFileSync(join(this.options.assetsDir, allowed.path.slice(1)));
    response.writeHead(200, { ...common, 'Content-Type': type, 'Content-Length': body.length });
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  private onUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const allowed = this.authorized(request);
    // A browser always sends Origin on a WebSocket; it must be this server's own page.
    const origin = request.headers.origin;
    if (allowed === null || allowed.path !== '/ws' || (origin !== undefined && origin !== allowed.origin)) {
      if (this.isOwnPageWithOldToken(request)) {
        // A tab of ours whose token is no longer this server's (a new ui-token, another --db on
        // this port): a browser cannot read a 401 on a WebSocket, so it is told by a close code,
        // and learns nothing else.
        this.wss.handleUpgrade(request, socket, head, (client) => client.close(UI_TOKEN_REFUSED, 'token refused'));
        return;
      }
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (client) => this.onClient(client));
  }

  /** A WebSocket to /ws from this server's own origin, carrying a token that is not this server's. */
  private isOwnPageWithOldToken(request: IncomingMessage): boolean {
    const origin = this.originOf(request);
    if (origin === null || request.headers.origin !== origin) return false;
    const url = new URL(request.url ?? '/', origin);
    return url.pathname === '/ws' && url.searchParams.get('token') !== null;
  }

  private onClient(client: WebSocket): void {
    this.clients.add(client);
    (client as WebSocket & { batonAlive?: boolean }).batonAlive = true;
    client.on('pong', () => ((client as WebSocket & { batonAlive?: boolean }).batonAlive = true));
    const session = this.options.openSession((message) => {
      if (client.readyState === client.OPEN) client.send(JSON.stringify(message));
    });
    client.on('message', (data, isBinary) => {
      if (isBinary) return;
      let request: unknown;
      try {
        request = JSON.parse(data.toString());
      } catch {
        return;
      }
      void session.handle(request);
    });
    client.on('close', () => {
      this.clients.delete(client);
      session.dispose();
    });
    client.on('error', () => client.terminate());
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
