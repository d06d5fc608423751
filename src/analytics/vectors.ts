/**
 * Intrusion vectors: how a miner got in, where a finding shows it. A finding names its vector explicitly
 * (`finding.vector`) or is classified by rule name and ATT&CK technique:
 *  - redis-crontab:  a crontab written through Redis (rule mentions redis; T1053.003 with redis evidence)
 *  - ssh-bruteforce: many failed SSH logins in auth logs (rule mentions ssh + brute/auth; T1110)
 *  - web-exploit:    exploit requests in web logs (T1190, or rule mentions exploit/webshell)
 *  - smb-scan:       SMB/445 scanning in flows (rule mentions smb/445/eternal; T1210; T1046 on port 445)
 */

export type Vector = 'redis-crontab' | 'ssh-bruteforce' | 'web-exploit' | 'smb-scan';
export const VECTORS: readonly Vector[] = ['redis-crontab', 'ssh-bruteforce', 'web-exploit', 'smb-scan'];

export const VECTOR_LABELS: Record<Vector, string> = {
  'redis-crontab': 'Redis-written crontab',
  'ssh-bruteforce': 'SSH brute force (auth logs)',
  'web-exploit': 'Exploit requests (web logs)',
  'smb-scan': 'SMB/445 scanning (flows)',
};

/** What to do about each vector: the report's advice. */
export const VECTOR_ADVICE: Record<Vector, string> = {
  'redis-crontab': 'bind Redis to localhost or require AUTH and rename CONFIG; remove the crontab entries',
  'ssh-bruteforce':
    'turn off SSH password logins (keys only), rate-limit or fail2ban port 22, rotate passwords',
  'web-exploit': 'patch the exploited web applications and put a WAF rule in front of them',
  'smb-scan': 'block outbound 445 at the firewall and patch SMB (MS17-010) on the scanning hosts',
};

function techniques(f: Record<string, unknown>): string[] {
  const a = f.attack;
  if (!Array.isArray(a)) return [];
  return a.map((x) =>
    x && typeof x === 'object' ? String((x as Record<string, unknown>).technique ?? '') : '',
  );
}

/** The vector a stored finding shows, or null. */
export function classifyVector(f: Record<string, unknown>): Vector | null {
  if (typeof f.vector === 'string' && (VECTORS as readonly string[]).includes(f.vector))
    return f.vector as Vector;
  const rule = String(f.rule ?? '').toLowerCase();
  const tech = techniques(f);
  const text = `${rule} ${JSON.stringify(f.evidence ?? '')}`.toLowerCase();
  const port = Number((f.pool as Record<string, unknown> | undefined)?.port ?? f.port ?? f.dst_port ?? 0);
  if (rule.includes('redis') || (tech.includes('T1053.003') && text.includes('redis')))
    return 'redis-crontab';
  if (
    (rule.includes('ssh') && /brute|auth|login/.test(rule)) ||
    (tech.includes('T1110') && /ssh|:22\b|port 22/.test(text))
  )
    return 'ssh-bruteforce';
  if (/smb|\b445\b|eternal/.test(rule) || tech.includes('T1210') || (tech.includes('T1046') && port === 445))
    return 'smb-scan';
  if (tech.includes('T1190') || /exploit|webshell/.test(rule)) return 'web-exploit';
  if (tech.includes('T1110')) return 'ssh-bruteforce';
  return null;
}
