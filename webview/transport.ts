/**
 * How the panel talks to its host, and where it keeps its state while hidden. In VS Code:
 * acquireVsCodeApi().postMessage and setState. In a browser: a WebSocket back to `baton ui`
 * (same origin, token from the page's address), reconnecting with backoff, and sessionStorage.
 * The messages are the same either way (runner/protocol.ts).
 */
import { UI_TOKEN_REFUSED, type PanelMessage, type PanelRequest } from '../runner/protocol.js';
import { reconnectDelay } from './backoff.js';

/** 'refused': baton ui no longer takes this page's token; only a new address helps. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'refused';

export interface PanelTransport {
  readonly host: 'vscode' | 'browser';
  /** Sends a request; false when the link is down (the caller shows it). */
  send(request: PanelRequest): boolean;
  /** Messages from the host, in order. */
  onMessage(listener: (message: PanelMessage) => void): void;
  /** The link's state; 'connected' again after 'reconnecting' means the panel must send 'ready'. */
  onConnection(listener: (state: ConnectionState, detail?: string) => void): void;
  loadState<T>(): T | undefined;
  saveState(state: unknown): void;
  /** Starts the link (the browser opens its socket). */
  start(): void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

/** Picks the transport for the page's host. */
export function createTransport(): PanelTransport {
  const host = document.body.dataset.host;
  if (host !== 'browser' && typeof acquireVsCodeApi === 'function') return new VsCodeTransport(acquireVsCodeApi());
  return new WebSocketTransport();
}

function isMessage(value: unknown): value is PanelMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

class VsCodeTransport implements PanelTransport {
  readonly host = 'vscode';
  private messageListener: ((message: PanelMessage) => void) | undefined;
  private connectionListener: ((state: ConnectionState, detail?: string) => void) | undefined;

  constructor(private readonly api: VsCodeApi) {}

  send(request: PanelRequest): boolean {
    this.api.postMessage(request);
    return true;
  }

  onMessage(listener: (message: PanelMessage) => void): void {
    this.messageListener = listener;
  }

  onConnection(listener: (state: ConnectionState, detail?: string) => void): void {
    this.connectionListener = listener;
  }

  loadState<T>(): T | undefined {
    return (this.api.getState() ?? undefined) as T | undefined;
  }

  saveState(state: unknown): void {
    this.api.setState(state);
  }

  start(): void {
    window.addEventListener('message', (event: MessageEvent) => {
      const message: unknown = event.data;
      if (!isMessage(message)) return;
      // The extension reports its link to the runner; the panel's own link is always up.
      if (message.type === 'connection') this.connectionListener?.(message.state, message.message);
      this.messageListener?.(message);
    });
    this.connectionListener?.('connected');
  }
}

const STATE_KEY = 'baton.panel.state';

class WebSocketTransport implements PanelTransport {
  readonly host = 'browser';
  private socket: WebSocket | undefined;
  private attempts = 0;
  private everConnected = false;
  private messageListener: ((message: PanelMessage) => void) | undefined;
  private connectionListener: ((state: ConnectionState, detail?: string) => void) | undefined;

  send(request: PanelRequest): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(request));
    return true;
  }

  onMessage(listener: (message: PanelMessage) => void): void {
    this.messageListener = listener;
  }

  onConnection(listener: (state: ConnectionState, detail?: string) => void): void {
    this.connectionListener = listener;
  }

  loadState<T>(): T | undefined {
    try {
      const text = sessionStorage.getItem(STATE_KEY);
      return text === null ? undefined : (JSON.parse(text) as T);
    } catch {
      return undefined;
    }
  }

  saveState(state: unknown): void {
    try {
      sessionStorage.setItem(STATE_KEY, JSON.stringify(state));
    } catch {
      // Storage full or disabled: the panel still works, it only forgets on reload.
    }
  }

  start(): void {
    this.connectionListener?.('connecting');
    this.open();
  }

  private url(): string {
    const token = new URLSearchParams(location.search).get('token') ?? '';
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`;
  }

  private open(): void {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.attempts = 0;
      this.everConnected = true;
      this.connectionListener?.('connected');
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (isMessage(message)) this.messageListener?.(message);
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (this.socket !== socket) return;
      if (event.code === UI_TOKEN_REFUSED) {
        this.connectionListener?.('refused', `baton ui at ${location.host} no longer takes this page's token (it was restarted with a new one, or serves another database): open the address it printed`);
        return;
      }
      this.attempts++;
      const delay = reconnectDelay(this.attempts);
      const detail = this.everConnected
        ? `lost the link to baton ui; trying again in ${(delay / 1000).toFixed(1)} s (attempt ${this.attempts})`
        : `cannot reach baton ui at ${location.host}; trying again in ${(delay / 1000).toFixed(1)} s (attempt ${this.attempts})`;
      this.connectionListener?.('reconnecting', detail);
      setTimeout(() => this.open(), delay);
    });
  }
}
