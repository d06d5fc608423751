/**
 * Errors a store raises that callers answer differently from a bug: the engine cannot be reached (the HTTP
 * API answers 503 with Retry-After, and an agent keeps its batch and retries; nothing about the batch is wrong).
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    /** Seconds a client should wait before trying again. */
    readonly retryAfterS = 5,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** Error codes of a connection that failed or broke: the engine is away, not the request wrong. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Pure: whether an error (or its cause) is a network failure reaching the engine. */
export function isUnreachable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined, i = 0;
    e && i < 5;
    i++
  ) {
    if (typeof e.code === 'string' && UNREACHABLE.has(e.code)) return true;
    if (
      typeof e.message === 'string' &&
      /socket hang up|fetch failed|ECONNREFUSED|Timeout error/i.test(e.message)
    )
      return true;
    e = e.cause as typeof e;
  }
  return false;
}
