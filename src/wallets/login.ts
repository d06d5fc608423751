/**
 * Stratum login parsing. Pools pack several things into the login (and xmrig-style miners into the password):
 *   WALLET                      WALLET.worker               WALLET+50000 (fixed difficulty)
 *   WALLET.worker+50000         WALLET/worker/email@x.com   (nanopool)
 *   WALLET.<16|64 hex>[.worker] (payment id, old Monero pools)
 *   WALLET:x                    (user:pass pasted into the login)
 *   user.worker / user          (pool accounts: 'tester.worker1', 'Bigsky')
 *   email@example.com           (MinerGate-style accounts)
 * and pass: 'x' (nothing), 'worker', 'worker:email', 'd=1024,c=XMR'.
 */
import type { LoginParts, WalletInfo } from './types.ts';
import { validateWallet } from './validate.ts';

/** Stratum logins are short; cap hostile input before any splitting. */
const MAX_LOGIN = 512;
const EMAIL = /^[^\s@/]{1,64}@[^\s@/]{1,255}\.[A-Za-z]{2,24}$/;
const PAYMENT_ID = /^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{64})$/;
const DIGITS = /^\d{1,15}$/;
/** Passwords that mean "no worker name". */
const EMPTY_PASS = new Set(['', 'x', 'X']);

function setWorker(p: LoginParts, w: string | undefined): void {
  if (w && p.worker === undefined && !EMPTY_PASS.has(w)) p.worker = w;
}

function walletOf(s: string): WalletInfo | undefined {
  return validateWallet(s) ?? undefined;
}

export function parseLogin(login: string, pass?: string): LoginParts {
  const raw = typeof login === 'string' ? login : '';
  const out: LoginParts = { raw };
  let s = raw.trim().slice(0, MAX_LOGIN);

  // The whole login may be a wallet or an email (emails contain '.', so test before splitting on it).
  const whole = walletOf(s);
  if (whole) {
    out.wallet = whole;
    parsePass(out, pass);
    return out;
  }
  if (EMAIL.test(s)) {
    out.user = s;
    out.email = s;
    parsePass(out, pass);
    return out;
  }

  // '/' segments: WALLET/worker/email (nanopool); an '@' marks the email.
  const slash = s.split('/');
  s = slash[0] ?? '';
  for (const seg of slash.slice(1)) {
    if (seg.includes('@')) out.email ??= seg;
    else setWorker(out, seg);
  }

  // ':' splits a pasted user:pass; keep 'bitcoincash:' cashaddr prefixes.
  const colon = s.toLowerCase().startsWith('bitcoincash:') ? s.indexOf(':', 12) : s.indexOf(':');
  let colonPass: string | undefined;
  if (colon >= 0) {
    colonPass = s.slice(colon + 1);
    s = s.slice(0, colon);
  }

  // '+' fixed difficulty (MoneroOcean, SupportXMR...): WALLET+50000 or WALLET.worker+50000 or WALLET+50000.worker
  const plus = s.indexOf('+');
  if (plus >= 0) {
    const tail = s.slice(plus + 1);
    s = s.slice(0, plus);
    const dot = tail.indexOf('.');
    const diff = dot >= 0 ? tail.slice(0, dot) : tail;
    if (DIGITS.test(diff)) out.difficulty = Number(diff);
    if (dot >= 0) setWorker(out, tail.slice(dot + 1));
  }

  // '.' segments: head is the wallet or account; then payment id and/or worker.
  const dots = s.split('.');
  const head = dots[0] ?? '';
  const wallet = walletOf(head);
  if (wallet) out.wallet = wallet;
  else if (head) out.user = head;
  const rest = dots.slice(1);
  for (let i = 0; i < rest.length; i++) {
    const seg = rest[i]!;
    if (wallet && out.payment_id === undefined && PAYMENT_ID.test(seg)) {
      out.payment_id = seg.toLowerCase();
      continue;
    }
    // Worker names may themselves hold dots ('rig.eu.1'): the remainder is the worker.
    setWorker(out, rest.slice(i).join('.'));
    break;
  }
  setWorker(out, colonPass);
  parsePass(out, pass);
  return out;
}

/** xmrig-style password: worker name, 'worker:email', or comma-separated key=value options (d= difficulty). */
function parsePass(out: LoginParts, pass: string | undefined): void {
  if (typeof pass !== 'string') return;
  const p = pass.trim().slice(0, MAX_LOGIN);
  if (EMPTY_PASS.has(p)) return;
  for (const item of p.split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) {
      const key = item.slice(0, eq).trim().toLowerCase();
      const val = item.slice(eq + 1).trim();
      if ((key === 'd' || key === 'diff' || key === 'difficulty') && DIGITS.test(val))
        out.difficulty ??= Number(val);
      continue;
    }
    const colon = item.indexOf(':');
    if (colon >= 0) {
      setWorker(out, item.slice(0, colon).trim());
      const rest = item.slice(colon + 1).trim();
      if (EMAIL.test(rest)) out.email ??= rest;
    } else if (EMAIL.test(item.trim())) {
      out.email ??= item.trim();
    } else {
      setWorker(out, item.trim());
    }
  }
}

/** Worker names too common to tie two hosts together ('worker', 'rig1' set by every how-to, a bare number). */
const GENERIC_WORKER = /^(?:worker|default|rig|miner|x|xmrig|test|\d+|worker\d+|rig\d+)$/i;

/**
 * The pool account a login names, as a campaign key: the e-mail or user name of an account-based pool
 * (MinerGate logs in with an e-mail), else a distinctive worker name scoped to the pool it mines at
 * ('worker@pool'). None for a wallet login (the wallet is the key) or a generic worker name.
 */
export function accountKey(p: LoginParts, pool?: string): string | undefined {
  if (p.email) return p.email.toLowerCase();
  if (p.user) return p.user;
  if (!p.wallet && p.worker && pool && !GENERIC_WORKER.test(p.worker))
    return `${p.worker}@${pool.toLowerCase()}`;
  return undefined;
}
