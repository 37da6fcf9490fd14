import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Names a browser may use for a loopback relay; a page served by any of them is the relay's own. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Hashed first, so that comparing takes the same time whatever the length or content of a guess. */
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Who may use the relay: whoever holds its token, a random secret made per relay
 * and handed out only inside `viewerUrl`/`inspectUrl`, as Jupyter does. The port
 * alone is no secret: any local user can reach a loopback port, and any web page
 * can make a browser open a WebSocket to one.
 */
export class RelayAccess {
  /** 256 bits from the system CSPRNG, URL-safe. */
  private readonly token = randomBytes(32).toString('base64url');
  private readonly hostnames: Set<string>;

  constructor(
    /** http://host:port, as the relay listens. */
    private readonly base: string,
  ) {
    this.hostnames = new Set([...LOOPBACK_NAMES, new URL(base).hostname]);
  }

  /** The address of one of the relay's pages, token included: a secret to hand only to its user. */
  pageUrl(path: string): string {
    return `${this.base}${path}?token=${this.token}`;
  }

  /** Why `req` is refused (an HTTP status), or undefined when it carries the token. */
  refusal(req: IncomingMessage): 401 | 403 | undefined {
    const given = requestUrl(req)?.searchParams.get('token') ?? null;
    if (given === null) return 401;
    return timingSafeEqual(digest(given), digest(this.token)) ? undefined : 403;
  }

  /**
   * A WebSocket handshake's refusal: besides the token, a browser must be on one
   * of the relay's own pages (its Origin), so no other site's script can read the
   * stream even if it learnt the token. Clients that are not browsers send no Origin.
   */
  upgradeRefusal(req: IncomingMessage): 401 | 403 | undefined {
    const origin = req.headers.origin;
    if (origin !== undefined && !this.ownOrigin(origin)) return 403;
    return this.refusal(req);
  }

  private ownOrigin(origin: string): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    const { port } = new URL(this.base);
    return url.protocol === 'http:' && url.port === port && this.hostnames.has(url.hostname) && url.origin === origin;
  }
}

/** The address `req` asks for, or undefined for one that does not parse (`GET //[`): any client may send that. */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://relay');
  } catch {
    return undefined;
  }
}

/** A relay address for logs: the token shortened to its first characters, enough to tell relays apart. */
export function withoutToken(url: string): string {
  return url.replace(/([?&]token=)([^&]{0,4})[^&]*/, '$1$2…');
}
