/**
 * The content matcher the file sensor streams bytes through. One combined RegExp per chunk (V8's irregexp
 * is fastest when every alternative starts with a literal or a small class): stratum URLs, Monero-style
 * wallets, '.tld' anchors of pool domains (the host is read backwards from the dot and looked up in intel,
 * so a thousand pool names cost one lookup per candidate instead of a thousand alternatives), ':port' after
 * a digit (IP:port endpoints) and a short list of strong miner/campaign tokens from intel.
 */
import type { ContentMatcher } from '../../sensors/host/types.ts';
import type { IntelView } from './intel-view.ts';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const HOST_CHAR = /[A-Za-z0-9.-]/;
const KEEP_RE =
  /\b(?:curl|wget|bitsadmin|certutil|Invoke-WebRequest|DownloadString|DownloadFile|XMLHTTP|WinHttpRequest|urllib|requests\.get|pkill|killall|chattr|crontab|authorized_keys|iptables|setenforce|nr_hugepages|nmi_watchdog|ld\.so\.preload|base64|WScript\.Shell|schtasks|stratum)\b/i;

export function contentMatcher(iv: IntelView): ContentMatcher {
  const tokens = new Set<string>();
  for (const t of iv.contentTokens()) {
    tokens.add(t);
    tokens.add(t.toLowerCase());
  }
  const tlds = iv.poolTlds();
  const parts = [
    /* 1 */ 'stratum[12]?\\+(?:tcp|ssl|tls|udp)://[^\\s"\'<>\\\\\\x00-\\x1f]{3,200}',
    /* 2 */ '[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}(?:[1-9A-HJ-NP-Za-km-z]{11})?(?![1-9A-HJ-NP-Za-km-z])',
    /* 3 */ tlds.length ? `\\.(?:${tlds.map(esc).join('|')})(?![A-Za-z0-9-])` : '(?!)',
    // No lookbehind for the digit before ':' (it makes irregexp test every position): checked in code.
    /* 4 */ ':\\d{2,5}(?!\\d)',
    /* 5 */ tokens.size ? [...tokens].map(esc).join('|') : '(?!)',
  ];
  const re = new RegExp(parts.map((p) => `(${p})`).join('|'), 'g');

  return {
    scan(text, base, out) {
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        const at = m.index;
        if (m[1] !== undefined) out.push({ kind: 'stratum', value: m[1], offset: base + at });
        else if (m[2] !== undefined) out.push({ kind: 'wallet', value: m[2], offset: base + at });
        else if (m[3] !== undefined) {
          let s = at;
          while (s > 0 && at - s < 253 && HOST_CHAR.test(text[s - 1]!)) s--;
          let host = text.slice(s, at + m[3].length);
          const lead = host.search(/[A-Za-z0-9]/);
          if (lead < 0) continue;
          host = host.slice(lead);
          let end = at + m[3].length;
          let port = '';
          if (text[end] === ':') {
            const pm = /^:(\d{1,5})(?!\d)/.exec(text.slice(end, end + 7));
            if (pm) {
              port = pm[0];
              end += port.length;
            }
          }
          if (!host.includes('.') || iv.isExcluded(host)) continue;
          if (iv.pool(host)) out.push({ kind: 'domain', value: host + port, offset: base + s + lead });
          else if (iv.families(host).length)
            out.push({ kind: 'family', value: host + port, offset: base + s + lead });
        } else if (m[4] !== undefined) {
          const prev = text.charCodeAt(at - 1);
          if (!(prev >= 48 && prev <= 57)) continue;
          let s = at;
          while (s > 0 && at - s < 15 && /[0-9.]/.test(text[s - 1]!)) s--;
          const ip = text.slice(s, at);
          if (!/^\d{1,3}(?:\.\d{1,3}){3}$/.test(ip)) continue;
          const port = Number(m[4].slice(1));
          if (iv.endpoint(ip, port) || iv.families(`${ip}:${port}`).length || iv.families(ip).length)
            out.push({ kind: 'ip-port', value: `${ip}:${port}`, offset: base + s });
        } else if (m[5] !== undefined) out.push({ kind: 'miner', value: m[5], offset: base + at });
      }
    },
    keepText: (text) => KEEP_RE.test(text),
  };
}
