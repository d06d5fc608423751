import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chunkedAnswer,
  GETWORK_WALLET,
  type GetworkTurn,
  getworkSession,
  nodeRpcSession,
} from '../../detect/traffic/test-helpers/getwork.ts';
import {
  decodeBasicAuth,
  ethLoginFromPath,
  HTTP_DECISIVE_NEEDLES,
  HTTP_NEEDLE_SEAM,
  HttpMiningAnalyzer,
  HttpMiningSession,
  looksLikeHttpRequestStart,
  MINER_USER_AGENT,
  parseHttpRequestHead,
  parseHttpResponseHead,
} from './http.ts';

const enc = (s: string) => new TextEncoder().encode(s);

// zeek-cryptomining/bitcoin-mining.pcap, TCP stream 0: bfgminer asks a stratum port for getblocktemplate.
const BFG_GBT_BODY =
  '{"id": 0, "method": "getblocktemplate", "params": [{"capabilities": ["coinbasetxn", "workid", "longpoll", "coinbase/append", "time/increment", "version/force", "version/reduce", "submit/coinbase", "submit/truncate"], "maxversion": 4}]}';
const BFG_GBT =
  'POST / HTTP/1.1\r\nHost: us1.bitminter.com:3333\r\nAuthorization: Basic Qmlnc2t5OjEyMw==\r\nAccept: */*\r\n' +
  'Accept-Encoding: deflate, gzip\r\nContent-type: application/json\r\n' +
  'X-Mining-Extensions: longpoll midstate rollntime submitold\r\nContent-Length: 235\r\n' +
  'User-Agent: bfgminer/5.2.0\r\n\r\n' +
  BFG_GBT_BODY;
// Stream 1 of the same capture: getwork with the same headers.
const BFG_GETWORK_BODY = '{"method": "getwork", "params": [], "id":0}\n';
const BFG_ANSWER = '{"id":0,"result":null,"error":[20,"Parse error",null]}\n';

// ndpi/jsonrpc-negative.pcap: Zabbix frontend JSON-RPC (a browser, not a miner).
const ZABBIX =
  'POST /zabbix/jsrpc.php?output=json-rpc HTTP/1.1\r\nHost: mdotti.dyndns.org\r\nConnection: keep-alive\r\n' +
  'Content-Length: 117\r\nAccept: text/javascript, text/html, application/xml, text/xml, */*\r\n' +
  'X-Requested-With: XMLHttpRequest\r\nUser-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_2) AppleWebKit/537.36 ' +
  '(KHTML, like Gecko) Chrome/39.0.2171.95 Safari/537.36\r\nContent-type: application/json-rpc\r\n\r\n' +
  '{"jsonrpc": "2.0", "method": "zabbix.status", "params": {}, "auth": "608917ce3dd5c681debca02b7757aba4", "id": 103796}';
const ZABBIX_RESPONSE =
  'HTTP/1.0 200 OK\r\nDate: Tue, 30 Dec 2014 17:43:51 GMT\r\nServer: Apache/2.2.16 (Debian)\r\nContent-Length: 67\r\n' +
  'Content-Type: application/json-rpc\r\nConnection: keep-alive\r\n\r\n' +
  '{"jsonrpc":"2.0","result":{"result":true,"message":""},"id":103796}';

describe('parseHttpRequestHead', () => {
  it('parses the bfgminer request', () => {
    const r = parseHttpRequestHead(enc(BFG_GBT));
    assert.equal(r.status, 'done');
    if (r.status !== 'done') return;
    assert.equal(r.head.method, 'POST');
    assert.equal(r.head.path, '/');
    assert.equal(r.head.version, 'HTTP/1.1');
    assert.equal(r.head.headers['x-mining-extensions'], 'longpoll midstate rollntime submitold');
    assert.equal(r.head.headers['content-length'], '235');
    assert.equal(enc(BFG_GBT).length - r.bodyOffset, 235);
  });

  it('incremental: need-more until the blank line, early not-http', () => {
    assert.equal(parseHttpRequestHead(enc('POST / HTTP/1.1\r\nHost: x')).status, 'need-more');
    assert.equal(parseHttpRequestHead(enc('PO')).status, 'need-more');
    assert.equal(parseHttpRequestHead(enc('{"id":1')).status, 'not-http');
    assert.equal(parseHttpRequestHead(Uint8Array.from([0x16, 3, 1])).status, 'not-http');
    assert.equal(parseHttpRequestHead(enc('GET / HTTP/2.0\r\n\r\n')).status, 'not-http');
    assert.equal(parseHttpRequestHead(enc('GET / HTTP/1.1\r\nbad header\r\n\r\n')).status, 'not-http');
  });

  it('folds repeated headers and continuation lines, tolerates bare LF', () => {
    const r = parseHttpRequestHead(enc('GET /x HTTP/1.0\nA: 1\nA: 2\nB: x\n  y\n\n'));
    assert.equal(r.status, 'done');
    if (r.status === 'done') assert.deepEqual(r.head.headers, { a: '1, 2', b: 'x y' });
  });

  it('refuses a head over 16 KiB without a blank line', () => {
    const big = enc('GET / HTTP/1.1\r\nX: ' + 'a'.repeat(20000));
    assert.equal(parseHttpRequestHead(big).status, 'not-http');
    assert.equal(parseHttpRequestHead(big.subarray(0, 10000)).status, 'need-more');
  });

  it('looksLikeHttpRequestStart', () => {
    assert.ok(looksLikeHttpRequestStart(enc('POST / HTTP/1.1\r\n')));
    assert.ok(!looksLikeHttpRequestStart(enc('{"method":"login"}')));
    assert.ok(!looksLikeHttpRequestStart(enc('SSH-2.0-OpenSSH_9.2')));
  });
});

describe('parseHttpResponseHead', () => {
  it('parses a status line and headers', () => {
    const r = parseHttpResponseHead(enc(ZABBIX_RESPONSE));
    assert.equal(r.status, 'done');
    if (r.status === 'done') {
      assert.equal(r.head.status, 200);
      assert.equal(r.head.reason, 'OK');
      assert.equal(r.head.headers['content-type'], 'application/json-rpc');
    }
    assert.equal(parseHttpResponseHead(enc('{"id":0}')).status, 'not-http');
  });
});

describe('decodeBasicAuth', () => {
  it('decodes user:pass', () => {
    assert.deepEqual(decodeBasicAuth('Basic Qmlnc2t5OjEyMw=='), { user: 'Bigsky', pass: '123' });
    assert.deepEqual(decodeBasicAuth('Basic YnJvYXRjYXN0OjEyMw=='), { user: 'broatcast', pass: '123' });
    assert.deepEqual(decodeBasicAuth('basic dXNlcg=='), { user: 'user' });
    assert.equal(decodeBasicAuth('Bearer abc'), undefined);
  });
});

describe('HttpMiningSession on corpus flows', () => {
  it('bfgminer getblocktemplate to a stratum port is mining', () => {
    const s = new HttpMiningSession();
    const b = enc(BFG_GBT);
    // Head and body in separate segments, as in the capture.
    s.push('c2s', b.subarray(0, b.length - 235), 4);
    s.push('c2s', b.subarray(b.length - 235), 6);
    s.push('s2c', enc(BFG_ANSWER), 8);
    const r = s.result();
    assert.equal(r.isMining, true);
    assert.equal(r.user, 'Bigsky');
    assert.equal(r.pass, '123');
    assert.equal(r.host, 'us1.bitminter.com');
    assert.equal(r.port, 3333);
    assert.equal(r.agent, 'bfgminer/5.2.0');
    assert.deepEqual(r.methods, { getblocktemplate: 1 });
    assert.ok(r.reasons.some((x) => /X-Mining-Extensions/.test(x)));
    assert.ok(r.reasons.some((x) => /bare JSON-RPC/.test(x)));
    assert.deepEqual(r.packets, [6, 8]);
  });

  it('bfgminer getwork', () => {
    const s = new HttpMiningSession();
    s.push(
      'c2s',
      enc(BFG_GBT.replace('Content-Length: 235', 'Content-Length: 44').split('\r\n\r\n')[0] + '\r\n\r\n'),
    );
    s.push('c2s', enc(BFG_GETWORK_BODY));
    const r = s.result();
    assert.equal(r.isMining, true);
    assert.deepEqual(r.methods, { getwork: 1 });
  });

  it('Zabbix JSON-RPC over HTTP is not mining', () => {
    const s = new HttpMiningSession();
    s.push('c2s', enc(ZABBIX));
    s.push('s2c', enc(ZABBIX_RESPONSE));
    const r = s.result();
    assert.equal(r.isMining, false);
    assert.equal(r.confidence, 0);
    assert.deepEqual(r.methods, { 'zabbix.status': 1 });
    assert.equal(r.host, 'mdotti.dyndns.org');
  });

  it('pipelined keep-alive requests are each analysed', () => {
    const s = new HttpMiningSession();
    s.push('c2s', enc(ZABBIX + ZABBIX));
    assert.deepEqual(s.result().methods, { 'zabbix.status': 2 });
  });
});

describe('HttpMiningAnalyzer: look-alikes and pool responses', () => {
  const req = (raw: string) => {
    const r = parseHttpRequestHead(enc(raw));
    assert.equal(r.status, 'done');
    if (r.status !== 'done') throw new Error();
    return { head: r.head, body: enc(raw).subarray(r.bodyOffset) };
  };

  it("a pool's own full-node getblocktemplate is not mining", () => {
    const body =
      '{"jsonrpc":"1.0","id":"gbt","method":"getblocktemplate","params":[{"capabilities":["coinbasetxn","workid","coinbase/append"],"rules":["segwit"]}]}';
    const { head, body: b } = req(
      `POST / HTTP/1.1\r\nHost: 127.0.0.1:8332\r\nAuthorization: Basic cnBjdXNlcjpycGNwYXNz\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const a = new HttpMiningAnalyzer();
    a.request(head, b);
    const r = a.result();
    assert.equal(r.isMining, false);
    assert.equal(r.user, 'rpcuser');
    assert.deepEqual(r.methods, { getblocktemplate: 1 });
  });

  it('bitcoind RPC from a wallet is not mining', () => {
    const body = '{"jsonrpc":"1.0","id":"1","method":"getblockchaininfo","params":[]}';
    const { head, body: b } = req(
      `POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const a = new HttpMiningAnalyzer();
    a.request(head, b);
    assert.equal(a.result().isMining, false);
  });

  it('pool answer with X-Stratum and X-Long-Polling', () => {
    const a = new HttpMiningAnalyzer();
    const r = parseHttpResponseHead(
      enc(
        'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Long-Polling: /LP\r\n' +
          'X-Stratum: stratum+tcp://stratum.bitcoin.cz:3333\r\nX-Roll-NTime: expire=120\r\nContent-Length: 0\r\n\r\n',
      ),
    );
    assert.equal(r.status, 'done');
    if (r.status !== 'done') return;
    a.response(r.head, undefined, 3);
    const out = a.result();
    assert.equal(out.isMining, true);
    assert.equal(out.stratumUrl, 'stratum+tcp://stratum.bitcoin.cz:3333');
    assert.equal(out.longPolling, '/LP');
  });

  it('cpuminer getwork with hashrate header; and a miner UA on plain GET', () => {
    const body = '{"method":"getwork","params":[],"id":0}';
    const { head, body: b } = req(
      `POST / HTTP/1.1\r\nHost: pool.example:8332\r\nUser-Agent: cpuminer/2.5.1\r\nX-Mining-Hashrate: 1200\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const a = new HttpMiningAnalyzer();
    a.request(head, b);
    assert.equal(a.result().isMining, true);
    const ua = new HttpMiningAnalyzer();
    ua.request(
      req('GET /config.json HTTP/1.1\r\nHost: x\r\nUser-Agent: XMRig/6.21.0 (Linux x86_64)\r\n\r\n').head,
    );
    assert.equal(ua.result().isMining, true);
  });

  it('WebSocket upgrade is reported, not called mining by itself', () => {
    const a = new HttpMiningAnalyzer();
    a.request(
      req(
        'GET /proxy HTTP/1.1\r\nHost: ws027.authedmine.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: Mozilla/5.0\r\n\r\n',
      ).head,
    );
    const r = a.result();
    assert.equal(r.websocket, true);
    assert.equal(r.isMining, false);
  });
});

describe('hostile input', () => {
  it('a 10 MB body is skipped, not buffered; the next request still parses', () => {
    const s = new HttpMiningSession();
    s.push('c2s', enc('POST / HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n'));
    const chunk = new Uint8Array(65536).fill(0x7b);
    for (let i = 0; i < 152; i++) s.push('c2s', chunk);
    s.push('c2s', new Uint8Array(10000000 - 152 * 65536).fill(0x20));
    s.push('c2s', enc(ZABBIX));
    assert.deepEqual(s.result().methods, { 'zabbix.status': 1 });
  });

  it('non-HTTP client bytes switch the session off', () => {
    const s = new HttpMiningSession();
    s.push('c2s', Uint8Array.from([0x16, 3, 1, 0, 5]));
    assert.equal(s.notHttp, true);
    assert.equal(s.result().confidence, 0);
  });

  it('garbage heads, bad base64, nested JSON bodies do not throw', () => {
    const s = new HttpMiningSession();
    const nested = '['.repeat(20000) + ']'.repeat(20000);
    s.push(
      'c2s',
      enc(
        `POST / HTTP/1.1\r\nAuthorization: Basic !!!\r\nHost: [::1]:80\r\nContent-Length: ${nested.length}\r\n\r\n${nested}`,
      ),
    );
    s.push('c2s', enc('GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
    s.push('s2c', enc('HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n'));
    const r = s.result();
    assert.equal(r.isMining, false);
    assert.equal(r.host, '::1');
  });
});

describe('raw JSON answers', () => {
  it('count only after an HTTP request, not on a stratum flow', () => {
    const s = new HttpMiningSession();
    s.push('c2s', enc('{"id":1,"method":"mining.subscribe","params":[]}\n'));
    s.push('s2c', enc(BFG_ANSWER));
    assert.equal(s.result().confidence, 0);
  });
});

describe('Ethereum getwork (eth_getWork / eth_submitWork / eth_submitHashrate)', () => {
  const feed = (turns: GetworkTurn[], split = 0) => {
    const s = new HttpMiningSession();
    for (const t of turns) {
      const b = enc(t.data);
      const dir = t.from === 'c' ? 'c2s' : 's2c';
      // Cut every message at `split` bytes too: chunk sizes and bodies straddle segments in real captures.
      if (split > 0 && b.length > split) {
        s.push(dir, b.subarray(0, split));
        s.push(dir, b.subarray(split));
      } else s.push(dir, b);
    }
    return s.result();
  };

  it('without miner User-Agent or X-Mining headers: decisive by method shape, wallet and rig from the URL', () => {
    for (const split of [0, 7, 150]) {
      const r = feed(getworkSession(), split);
      assert.equal(r.isMining, true, r.reasons.join('; '));
      assert.equal(r.user, GETWORK_WALLET);
      assert.equal(r.worker, 'rig07');
      assert.equal(r.agent, undefined);
      assert.deepEqual(r.methods, { eth_getWork: 4, eth_submitHashrate: 1, eth_submitWork: 1 });
      assert.ok(r.reasons.includes('eth_getWork answered with header, seed and boundary hashes'));
    }
  });

  it('the chunked answer alone decides when the request body was lost', () => {
    const body =
      '{"id":1,"jsonrpc":"2.0","result":["0x' +
      'a'.repeat(64) +
      '","0x' +
      'b'.repeat(64) +
      '","0x' +
      '0'.repeat(8) +
      'f'.repeat(56) +
      '"]}';
    const s = new HttpMiningSession();
    s.push('s2c', enc(chunkedAnswer(body, 3)));
    assert.equal(s.result().isMining, true);
  });

  it('wallet and rig from the URL forms ethminer, Claymore and open-ethereum-pool use', () => {
    assert.deepEqual(ethLoginFromPath(`/?miner=10@${GETWORK_WALLET}@rig1`), {
      wallet: GETWORK_WALLET,
      worker: 'rig1',
    });
    assert.deepEqual(ethLoginFromPath(`/${GETWORK_WALLET}/rig2`), { wallet: GETWORK_WALLET, worker: 'rig2' });
    assert.deepEqual(ethLoginFromPath(`/miner/${GETWORK_WALLET}.rig3`), {
      wallet: GETWORK_WALLET,
      worker: 'rig3',
    });
    assert.deepEqual(ethLoginFromPath(`/${GETWORK_WALLET}`), { wallet: GETWORK_WALLET });
    assert.equal(ethLoginFromPath('/api/v1/0x1234/rig'), undefined);
    assert.equal(ethLoginFromPath('/?miner=%E0%A4%A'), undefined);
  });

  it("a dapp's ordinary JSON-RPC to its own node (eth_mining, eth_hashrate included) is not mining", () => {
    const r = feed(nodeRpcSession(), 9);
    assert.equal(r.isMining, false, r.reasons.join('; '));
    assert.equal(r.methods.eth_blockNumber, 1);
  });

  it('eth method names with the wrong shapes are not decisive', () => {
    const a = new HttpMiningAnalyzer();
    const r = parseHttpRequestHead(
      enc(
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n{"id":1,"method":"eth_submitWork","params":["0x1","0x2","0x3"]}',
      ),
    );
    assert.equal(r.status, 'done');
    if (r.status === 'done')
      a.request(r.head, enc('{"id":1,"method":"eth_submitWork","params":["0x1","0x2","0x3"]}'));
    assert.equal(a.result().isMining, false);
  });

  it('chunked decoding is bounded: a huge chunk is skipped and the next message still parses', () => {
    const s = new HttpMiningSession();
    const big = 'x'.repeat(200_000);
    s.push(
      's2c',
      enc(
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`,
      ),
    );
    const body =
      '{"id":1,"jsonrpc":"2.0","result":["0x' +
      'a'.repeat(64) +
      '","0x' +
      'b'.repeat(64) +
      '","0x' +
      'c'.repeat(64) +
      '"]}';
    s.push('s2c', enc(chunkedAnswer(body)));
    assert.equal(s.result().isMining, true);
  });
});

describe('HTTP_DECISIVE_NEEDLES: what an HTTP flow must hold before the analyzer parses it', () => {
  it('every miner name of MINER_USER_AGENT, in any case, holds a needle', () => {
    const names = /\\b\(([^)]*)\)/.exec(MINER_USER_AGENT.source)![1]!.split('|');
    assert.ok(names.length > 20);
    for (const n of names) {
      assert.ok(HTTP_DECISIVE_NEEDLES.test(n), n);
      assert.ok(HTTP_DECISIVE_NEEDLES.test(n.toUpperCase()), n.toUpperCase());
    }
  });

  it('the miner and pool headers, the getwork methods and answers, and what hides them', () => {
    for (const s of [
      'X-Mining-Extensions: midstate',
      'x-mining-hashrate: 1',
      'X-Stratum: stratum+tcp://p:3333',
      '{"method":"getwork"}',
      '{"method":"eth_getWork"}',
      '{"method":"eth_submitHashrate"}',
      '{"result":["0x1","0x2","0x3"]}',
      'Transfer-Encoding: chunked',
      '{"method":"get\\u0077ork"}',
    ])
      assert.ok(HTTP_DECISIVE_NEEDLES.test(s), s);
    for (const s of [
      'GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\n\r\n',
      'HTTP/1.1 200 OK',
    ])
      assert.ok(!HTTP_DECISIVE_NEEDLES.test(s), s);
  });

  it('the seam holds the longest needle but one byte', () => {
    const longest = Math.max(
      ...HTTP_DECISIVE_NEEDLES.source.split('|').map((n) => n.replaceAll('\\\\', '\\').length),
    );
    assert.equal(HTTP_NEEDLE_SEAM, longest - 1);
  });
});
