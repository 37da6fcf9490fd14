import type { ServerResponse } from 'node:http';

/** One Server-Sent Event: `data` is sent as one line of JSON. */
export interface SseMessage {
  id?: number;
  event?: string;
  data: unknown;
}

/**
 * A response that carries Server-Sent Events (text/event-stream). `send` says
 * whether the reader keeps up (false: the socket's buffer is past its
 * high-water mark, and the producer should wait for `onDrain`).
 */
export class SseStream {
  constructor(private readonly response: ServerResponse) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    response.flushHeaders();
  }

  send({ id, event, data }: SseMessage): boolean {
    if (this.closed) return false;
    const head = `${id === undefined ? '' : `id: ${id}\n`}${event === undefined ? '' : `event: ${event}\n`}`;
    return this.response.write(`${head}data: ${JSON.stringify(data)}\n\n`);
  }

  get keepingUp(): boolean {
    return !this.response.writableNeedDrain;
  }

  get closed(): boolean {
    return this.response.writableEnded || this.response.destroyed;
  }

  onDrain(resume: () => void): void {
    this.response.on('drain', resume);
  }

  /** Called once the reader has gone (or the stream was ended). */
  onClose(stop: () => void): void {
    this.response.on('close', stop);
  }

  end(): void {
    if (!this.closed) this.response.end();
  }
}
