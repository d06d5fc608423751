export {
  buildServer,
  findingToEvent,
  parseListen,
  type RunningServer,
  type ServerOptions,
  startServer,
} from './app.ts';
export { RateLimiter } from './ratelimit.ts';
export { matchesAdminToken, newToken, parseToken, sha256Hex, verifySecret } from './tokens.ts';
