/** The inspection events other Stately inspectors publish (what `createWebSocketInspector` sends). */
const STATELY_TYPES = new Set(['@xstate.actor', '@xstate.snapshot', '@xstate.event']);
/** Actor ids: what XState makes is a few characters ("x:12"); anything near this is not one. */
const MAX_ID_LENGTH = 256;
/** Fields that name an actor; all of them get the publisher's prefix. */
const ID_FIELDS = ['sessionId', 'rootId', 'parentId', 'sourceId'] as const;
/** Fields that must be JSON objects when present (null counts as absent: Stately sends `id: null`). */
const OBJECT_FIELDS = ['snapshot', 'event'] as const;
/** Fields that must be strings when present. */
const STRING_FIELDS = ['name', 'definition', 'createdAt', 'id', '_version'] as const;

/** An inspection event a publisher sent, checked, its actor ids moved into the publisher's namespace. */
export interface PublishedEvent {
  type: string;
  sessionId: string;
  snapshot?: { status?: unknown };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;

/**
 * Reads one WebSocket message from a publisher: a Stately inspection event, or
 * undefined for anything else (not JSON, not an object, another type, ids that
 * are not short strings, berth's own journal rows). Its actor ids get `prefix`,
 * so two publishers' actors never share an id: XState numbers every system's
 * actors from "x:0", and without it another program's root would replace berth's.
 */
export function readPublished(text: string, prefix: string): PublishedEvent | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(message) || typeof message.type !== 'string' || !STATELY_TYPES.has(message.type)) return undefined;
  if (!isId(message.sessionId)) return undefined;
  for (const field of ID_FIELDS) {
    const value = message[field];
    if (value === undefined || (value === null && field !== 'sessionId')) continue;
    if (!isId(value)) return undefined;
    message[field] = prefix + value;
  }
  if (OBJECT_FIELDS.some((field) => message[field] != null && !isObject(message[field]))) return undefined;
  if (STRING_FIELDS.some((field) => message[field] != null && typeof message[field] !== 'string')) return undefined;
  return message as unknown as PublishedEvent;
}
