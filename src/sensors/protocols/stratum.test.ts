import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Direction,
  LineSplitter,
  looksLikeStratumStart,
  MINING_THRESHOLD,
  StratumFlow,
  StratumSession,
} from './stratum.ts';

type Line = [Direction, string];

function run(lines: Line[]) {
  const s = new StratumSession();
  lines.forEach(([dir, line], i) => {
    s.feed(dir, line, i + 1);
  });
  return s.result();
}

// ---- Real lines from the corpus (see test/corpus/README.md)

// ndpi/mining.pcapng flow (a): Ethereum getwork-over-stratum (ethproxy) to 185.71.66.39:9999.
const ETH: Line[] = [
  [
    'c2s',
    '{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0x9c99d212f7e5daa18ab50810e0fd255d1f04303b/tester.worker1/vvesely@mailinator", "x"], "id": 2, "method": "eth_submitLogin"}',
  ],
  ['s2c', '{"jsonrpc":"2.0","id":2,"result":true}'],
  [
    's2c',
    '{"jsonrpc":"2.0","id":0,"result":["0x415559c31768833f25b6dbfbb39be72e71375e14a3a711e589696850bc9431ec","0x71a56feffb6f10ea9d76e1a9464eb0abd86e4349ae98fb794923a65b650282a3","0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e"]}',
  ],
  ['c2s', '{"worker": "", "jsonrpc": "2.0", "params": [], "id": 3, "method": "eth_getWork"}'],
  [
    'c2s',
    '{"id":6,"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x1d08a61", "0x0000000000000000000000000000000000000000000000000000000002df91be"]}',
  ],
  [
    'c2s',
    '{"id":4,"method":"eth_submitWork","params":["0x07a05fa4133e5126","0x41f3161ce643ebcf25d34dde1ac0d3e695edcbf136eed96680bac4cf1a82e417","0x44e9206e9c830706f60e0129bdd117a2718d6553f3405b477541994df3583d4b"]}',
  ],
  ['s2c', '{"jsonrpc":"2.0","id":4,"result":true}'],
];

// ndpi/mining.pcapng flow (b): xmr-stak-cpu, Monero style, to 178.32.196.217:9050.
const XMR_LOGIN =
  '{"method":"login","params":{"login":"4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1dtSMLTLCEYvAj9QXjXAfF7CugEbmfBhgkqHbdgK9b2wKA6nqRZQCgvCDm.cb2b73415c4faf214035a73b9d947c202342f3bf3bdf632132bd6d7af98cb257.ryzen","pass":"x","agent":"xmr-stak-cpu/1.3.0-1.5.0"},"id":1}';
const XMR_LOGIN_RESULT =
  '{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"479059546883218","job":{"blob":"0606e89883d205a65d8ee78991838a1cf3ec2ebbc5fb1fa43dec5fa1cd2bee4069212a549cd731000000005a88235653097aa3e97ef2ceef4aee610751a828f9be1a0758a78365fb0a4c8c05","job_id":"722134174127131","target":"dc460300"},"status":"OK"}}';
const XMR_SUBMIT =
  '{"method":"submit","params":{"id":"479059546883218","job_id":"722134174127131","nonce":"98024001","result":"c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100"},"id":1}';
const XMR_OK = '{"id":1,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}';
const XMR_JOB =
  '{"jsonrpc":"2.0","method":"job","params":{"blob":"06069c9983d2052e885e6d1f99749ae1c263f36cb423bd1b71eafb4c84eeadb83b5dc8e1a84be60000000017a6f964a2409168ca9e88b304d405e6119728483fc40c588a9be058d78beaf904","job_id":"652010620664805","target":"dc460300"}}';

// ndpi/mining.pcapng flow (c): EWBF ZCash miner to flypool, 94.23.199.191:3333.
const ZEC: Line[] = [
  [
    'c2s',
    '{"id":1,"method":"mining.subscribe","params":["EWBF 0.3.4b",null,"eu1-zcash.flypool.org","3333"]}',
  ],
  ['s2c', '{"id":1,"result":["04d567b212", "04d567b212"], "error": null}'],
  ['c2s', '{"id":2,"method":"mining.authorize","params":["t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd.rig4","x"]}'],
  ['s2c', '{"id":2,"result":true, "error": null}'],
  [
    's2c',
    '{"id":null,"method":"mining.set_target","params":["0004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a"]}',
  ],
  ['c2s', '{"id":3,"method":"mining.extranonce.subscribe","params":[]}'],
  [
    's2c',
    '{"id":null,"method":"mining.notify","params":["8c6f2d4c6d2c7014fb26","04000000","9e2fc768bd1977528c8d6096d46376758179e25bf3293428b65f120100000000","35d341a8b19a38cd584cb5494185b4dbf1a7eaa91a9ff6541e851de50cbc88a2","0000000000000000000000000000000000000000000000000000000000000000","a9cc405a","09d8151c",true]}',
  ],
  // The real submit carries a 1,344-byte Equihash solution; shortened here.
  [
    'c2s',
    '{"id":100,"method":"mining.submit","params":["t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd.rig4","8c6f2d4c6d2c7014fb26","a9cc405a","3e2700000000000000000000000000000000000000000000000000","fd400500175f90a42059650b66c0"]}',
  ],
  ['s2c', '{"id":100,"result":true}'],
];

// zeek-cryptomining/bitcoin-mining.pcap: bfgminer stratum to bitminter.
const BFG: Line[] = [
  ['c2s', '{"id": 1, "method": "mining.subscribe", "params": ["bfgminer/5.2.0", "1"]}'],
  [
    's2c',
    '{"result":[[["mining.notify","1"],["mining.set_difficulty","2"]],"00b617a3",4],"error":null,"id":1}',
  ],
  ['s2c', '{"method":"mining.set_difficulty","params":[4096],"id":1}'],
  ['c2s', '{"id": "auth", "method": "mining.authorize", "params": ["broatcast", "123"]}'],
  ['s2c', '{"result":true,"error":null,"id":"auth"}'],
];

// zeek-cryptomining/bitcoin-mining-in-progress.pcap: capture starts mid-session.
const NOTIFY_MID =
  '{"method":"mining.notify","params":["26eb-2","e4ca1ae652ae9314ee3c1d811b054b16a2114e9b002403430000000000000000","01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d03e42908094269744d696e7465722cfabe6d6d9a3299eecd016ae5fd41c9f34f718b67ccec4ec03e61785f4b83c9b5f5239e8a01000000000000000975733426eb00000002","ffffffff0249d9154b000000001976a9145c0e4a6830ff6ea9aea773d75bc207299cd50b7488ac0000000000000000266a24aa21a9ed45f47768565af855109b6081b8573a4f590964d3fdb11949c78a02b8986caaa900000000",["d5c33689bb605271802806b6c999c2047658b64ad9afbf7b1e4b03824922bfa1","112318d27603e27513831e7c0c89c7e1fe4d9749c05df595c6e4a42d5679f5a2"],"20000000","172f4f7b","5b646002",false],"id":1}';
const GET_TX = '{"params": ["26eb-2"], "id": "txlist26eb-2", "method": "mining.get_transactions"}';
const GET_TX_ERR =
  '{"result":null,"error":[20,"Unknown method \'mining.get_transactions\'",null],"id":"txlist26eb-2"}';

// zeek-cryptomining/coinhive-stratum.pcap: stratum proxy, Monero login without agent.
const COINHIVE_LOGIN =
  '{"id":1,"method":"login","params":{"login":"46WNbmwXpYxiBpkbHjAgjC65cyzAxtaaBQjcGpAZquhBKw2r8NtPQniEgMJcwFMCZzSBrEJtmPsTR54MoGBDbjTi2W1XmgM","pass":"donations"}}';
const COINHIVE_RESULT =
  '{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"3dce749b-7604-4206-a591-c69d079baadb","job":{"blob":"0707c5e0dfdc057c60c5dbdb26b716a880df1188dc87aac5d21a6a8230adcf679c2058fd7b807e0000000099330aefd29c503d834876f4d322f20473210298ff97414fec94dc5ec919da8507","job_id":"x9pNUIWAceXY1JxrwmLYh4g+Bdy+","target":"711b0d00","id":"3dce749b-7604-4206-a591-c69d079baadb"},"status":"OK"}}';

// ndpi/jsonrpc-negative.pcap: generic JSON-RPC echo (nDPI 4.2 calls it mining).
const ECHO =
  '{"jsonrpc": "2.0", "method": "echo", "params": ["Testing!"], "id": "ca08159b-af1a-481f-a9e1-0dafdd22bdec"}';
const ZABBIX =
  '{"jsonrpc": "2.0", "method": "zabbix.status", "params": {}, "auth": "608917ce3dd5c681debca02b7757aba4", "id": 103796}';
const ZABBIX_RESULT = '{"jsonrpc":"2.0","result":{"result":true,"message":""},"id":103796}';

describe('StratumSession: mining dialects on corpus lines', () => {
  it('Ethereum ethproxy: login, work pushes, shares', () => {
    const r = run(ETH);
    assert.equal(r.isMining, true);
    assert.equal(r.dialect, 'ethereum');
    assert.equal(r.login, '0x9c99d212f7e5daa18ab50810e0fd255d1f04303b/tester.worker1/vvesely@mailinator');
    assert.equal(r.pass, 'x');
    assert.equal(r.worker, 'eth1.0');
    assert.equal(r.jobs, 1);
    assert.equal(r.shares, 1);
    assert.equal(r.acceptedShares, 1);
    assert.deepEqual(r.methods, {
      eth_submitLogin: 1,
      eth_getWork: 1,
      eth_submitHashrate: 1,
      eth_submitWork: 1,
    });
    assert.deepEqual(r.firstEvidence, { dir: 'c2s', method: 'eth_submitLogin', packet: 1 });
    assert.ok(r.confidence > 0.95);
  });

  it('xmr-stak Monero: login with agent, job in result, submits', () => {
    const r = run([
      ['c2s', XMR_LOGIN],
      ['s2c', XMR_LOGIN_RESULT],
      ['c2s', XMR_SUBMIT],
      ['s2c', XMR_OK],
      ['s2c', XMR_JOB],
    ]);
    assert.equal(r.isMining, true);
    assert.equal(r.dialect, 'monero');
    assert.ok(r.login?.startsWith('4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhhdZdA1'));
    assert.equal(r.pass, 'x');
    assert.equal(r.agent, 'xmr-stak-cpu/1.3.0-1.5.0');
    assert.equal(r.jobs, 2);
    assert.equal(r.shares, 1);
    assert.equal(r.acceptedShares, 1);
    assert.deepEqual(r.packets, [1, 2, 3, 4, 5]);
    assert.ok(r.reasons.some((x) => /agent/.test(x)));
  });

  it('xmr-stak client side only (login + submit) is still mining', () => {
    const r = run([
      ['c2s', XMR_LOGIN],
      ['c2s', XMR_SUBMIT],
    ]);
    assert.equal(r.isMining, true);
    assert.equal(r.acceptedShares, undefined);
  });

  it('ZCash EWBF: subscribe host/port, authorize, notify, submit', () => {
    const r = run(ZEC);
    assert.equal(r.isMining, true);
    assert.equal(r.dialect, 'bitcoin');
    assert.equal(r.host, 'eu1-zcash.flypool.org');
    assert.equal(r.port, 3333);
    assert.equal(r.agent, 'EWBF 0.3.4b');
    assert.equal(r.login, 't1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd.rig4');
    assert.equal(r.pass, 'x');
    assert.equal(r.jobs, 1);
    assert.equal(r.shares, 1);
    assert.equal(r.acceptedShares, 1);
    assert.equal(r.methods['mining.notify'], 1);
  });

  it('bfgminer Bitcoin stratum: subscribe answer and authorize', () => {
    const r = run(BFG);
    assert.equal(r.isMining, true);
    assert.equal(r.dialect, 'bitcoin');
    assert.equal(r.agent, 'bfgminer/5.2.0');
    assert.equal(r.login, 'broatcast');
    assert.equal(r.pass, '123');
    assert.equal(r.host, undefined);
  });

  it('mid-session capture: notify pushes and get_transactions only', () => {
    const r = run([
      ['s2c', NOTIFY_MID],
      ['c2s', GET_TX],
      ['s2c', GET_TX_ERR],
    ]);
    assert.equal(r.isMining, true);
    assert.equal(r.dialect, 'bitcoin');
    assert.equal(r.jobs, 1);
    assert.equal(r.login, undefined);
    // Server lines alone are enough.
    const s = run([['s2c', NOTIFY_MID]]);
    assert.equal(s.isMining, true);
    // And a single job push seen from the "wrong" side (flow direction guessed wrongly) too.
    assert.equal(run([['c2s', XMR_JOB]]).isMining, true);
  });

  it('coinhive proxy: login without agent becomes mining once answered with a job', () => {
    const loginOnly = run([['c2s', COINHIVE_LOGIN]]);
    assert.equal(loginOnly.isMining, false, 'login/pass alone is not enough');
    assert.ok(loginOnly.confidence > 0);
    assert.ok(loginOnly.login?.startsWith('46WNbmwX'));
    const r = run([
      ['c2s', COINHIVE_LOGIN],
      ['s2c', COINHIVE_RESULT],
    ]);
    assert.equal(r.isMining, true);
    assert.equal(r.dialect, 'monero');
    assert.equal(r.pass, 'donations');
    assert.equal(r.agent, undefined);
  });

  it('xmrig-style login with algo list and rigid', () => {
    const r = run([
      [
        'c2s',
        '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"84abc","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","rigid":"box7","algo":["rx/0","cn/r","cn/2"]}}',
      ],
      ['c2s', '{"id":2,"jsonrpc":"2.0","method":"keepalived","params":{"id":"abcdef"}}'],
    ]);
    assert.equal(r.isMining, true);
    assert.equal(r.algo, 'rx/0,cn/r,cn/2');
    assert.equal(r.rigid, 'box7');
    assert.equal(r.methods.keepalived, 1);
  });

  it('NiceHash EthereumStratum/1.0.0', () => {
    const r = run([
      [
        'c2s',
        '{"id": 1, "method": "mining.subscribe", "params": ["ethminer/0.19.0", "EthereumStratum/1.0.0"]}',
      ],
      [
        's2c',
        '{"id": 1, "result": [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f", "EthereumStratum/1.0.0"], "080c"], "error": null}',
      ],
      [
        'c2s',
        '{"id": 2, "method": "mining.authorize", "params": ["0xb85150eb365e7df0941f0cf08235f987ba91506a.rig1", "x"]}',
      ],
      ['s2c', '{"id": null, "method": "mining.set_difficulty", "params": [0.5]}'],
      [
        's2c',
        '{"id": null, "method": "mining.notify", "params": ["bf0488aa", "abad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c", "645cf20198c2f3861e947d4f67e3ab63b7b2e24dcc9095bd9123e7b33371f6cc", true]}',
      ],
      [
        'c2s',
        '{"id": 244, "method": "mining.submit", "params": ["0xb85150eb365e7df0941f0cf08235f987ba91506a.rig1", "bf0488aa", "6a909d9bbc0f"]}',
      ],
    ]);
    assert.equal(r.isMining, true);
    assert.equal(r.dialect, 'ethereum-nicehash');
    assert.equal(r.agent, 'ethminer/0.19.0');
    assert.equal(r.jobs, 1);
    assert.equal(r.shares, 1);
  });

  it('falls back to the mining.submit worker when authorize was not seen', () => {
    const r = run([
      ['s2c', NOTIFY_MID],
      [
        'c2s',
        '{"id":5,"method":"mining.submit","params":["wallet.rig","26eb-2","00000001","5b646002","a1b2c3d4"]}',
      ],
    ]);
    assert.equal(r.login, 'wallet.rig');
    assert.equal(r.shares, 1);
  });
});

describe('StratumSession: look-alikes that must not be mining', () => {
  const notMining = (lines: Line[]) => {
    const r = run(lines);
    assert.equal(r.isMining, false, JSON.stringify(r));
    assert.ok(r.confidence < MINING_THRESHOLD);
    return r;
  };

  it('JSON-RPC echo (nDPI false positive)', () => {
    const r = notMining([
      ['c2s', ECHO],
      ['s2c', '{"jsonrpc": "2.0", "result": ["Testing!"], "id": "ca08159b-af1a-481f-a9e1-0dafdd22bdec"}'],
    ]);
    assert.equal(r.dialect, 'unknown');
    assert.equal(r.confidence, 0);
  });

  it('Zabbix JSON-RPC', () => {
    notMining([
      ['c2s', ZABBIX],
      ['s2c', ZABBIX_RESULT],
    ]);
  });

  it('chat app login with username/password', () => {
    const r = notMining([
      ['c2s', '{"jsonrpc":"2.0","id":1,"method":"login","params":{"username":"alice","password":"hunter2"}}'],
      ['s2c', '{"jsonrpc":"2.0","id":1,"result":{"token":"abc","status":"OK"}}'],
      ['c2s', '{"jsonrpc":"2.0","method":"submit","params":{"room":"general","text":"hi"}}'],
      ['c2s', '{"jsonrpc":"2.0","id":2,"method":"job","params":{"name":"export"}}'],
    ]);
    assert.equal(r.login, undefined);
    assert.equal(r.confidence, 0);
  });

  it('chat login that happens to use login/pass/agent keys stays below the line', () => {
    notMining([
      ['c2s', '{"id":1,"method":"login","params":{"login":"alice","pass":"pw","agent":"ChatDesk/2.1"}}'],
    ]);
  });

  it('Electrum wallet sync', () => {
    const r = notMining([
      ['c2s', '{"jsonrpc": "2.0", "method": "server.version", "params": ["electrum/4.4.6", "1.4"], "id": 0}'],
      ['s2c', '{"jsonrpc": "2.0", "result": ["ElectrumX 1.16.0", "1.4"], "id": 0}'],
      ['c2s', '{"jsonrpc": "2.0", "method": "blockchain.headers.subscribe", "params": [], "id": 1}'],
      ['s2c', '{"jsonrpc": "2.0", "result": {"hex": "00e0ff3f5ad1b3b2c8b9d4e2", "height": 812345}, "id": 1}'],
      [
        'c2s',
        '{"jsonrpc": "2.0", "method": "blockchain.scripthash.subscribe", "params": ["8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161"], "id": 2}',
      ],
      ['s2c', '{"jsonrpc": "2.0", "result": null, "id": 2}'],
    ]);
    assert.ok(r.reasons.some((x) => /non-mining/.test(x)));
  });

  it('LSP with Content-Length framing', () => {
    const r = notMining([
      ['c2s', 'Content-Length: 62'],
      ['c2s', '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}Content-Length: 52'],
      [
        'c2s',
        '{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///a.ts"}}}',
      ],
      ['s2c', 'Content-Length: 40'],
    ]);
    assert.ok(r.reasons.some((x) => /LSP/.test(x)));
  });

  it('bitcoind RPC, including getblocktemplate', () => {
    notMining([
      ['c2s', '{"jsonrpc":"1.0","id":"curltest","method":"getblockchaininfo","params":[]}'],
      ['c2s', '{"jsonrpc":"1.0","id":"t2","method":"getrawtransaction","params":["aa",true]}'],
      ['c2s', '{"jsonrpc":"1.0","id":"t3","method":"getblocktemplate","params":[{"rules":["segwit"]}]}'],
      [
        's2c',
        '{"result":{"version":536870912,"previousblockhash":"00000000000000000002a7c4"},"error":null,"id":"t3"}',
      ],
    ]);
  });

  it('Ethereum node RPC eth_getWork from a dashboard, answered with null', () => {
    notMining([
      ['c2s', '{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}'],
      ['c2s', '{"jsonrpc":"2.0","method":"eth_getWork","params":[],"id":2}'],
      [
        's2c',
        '{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"the method eth_getWork does not exist"}}',
      ],
    ]);
  });

  it('a lone ambiguous stratum method is not enough', () => {
    notMining([['c2s', GET_TX]]);
    notMining([['s2c', '{"id":null,"method":"mining.set_difficulty","params":[16]}']]);
    notMining([['c2s', '{"id":1,"method":"mining.subscribe","params":[]}']]);
  });
});

describe('hostile input', () => {
  it('deeply nested JSON, invalid UTF-8 and junk do not throw', () => {
    const s = new StratumSession();
    s.feed('c2s', '{"a":' + '['.repeat(30000) + ']'.repeat(30000) + '}', 1);
    s.feed('c2s', '{"method":"login","params":' + '{"x":'.repeat(10000) + '1' + '}'.repeat(10001), 2);
    s.feed('c2s', '{"method":"__proto__","params":{"__proto__":{"polluted":1}},"id":{"x":1}}', 3);
    s.feed('c2s', '{"method":"login","params":{"login":{"toString":1},"pass":[]}}', 4);
    s.feed('c2s', 'x'.repeat(200_000), 5);
    const r = s.result();
    assert.equal(r.isMining, false);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(r.lines.dropped, 1);

    const f = new StratumFlow();
    f.push('c2s', Uint8Array.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d, 0x0a]), 1);
    f.push('c2s', new TextEncoder().encode(XMR_LOGIN.replace('xmr-stak', 'xmr\udcff-stak') + '\n'), 2);
    assert.equal(f.result().lines.total, 2);
  });

  it('huge strings are capped in the result', () => {
    const big = 'A'.repeat(50_000);
    const r = run([['c2s', `{"id":1,"method":"mining.authorize","params":["${big}","x"]}`]]);
    assert.ok((r.login?.length ?? 0) <= 512);
  });

  it('a method flood keeps the method table and reasons bounded', () => {
    const s = new StratumSession();
    for (let i = 0; i < 5000; i++) s.feed('c2s', `{"id":${i},"method":"m${i}","params":[]}`, i);
    const r = s.result();
    assert.ok(Object.keys(r.methods).length <= 64);
    assert.ok(r.reasons.length <= 32);
  });
});

describe('LineSplitter', () => {
  it('splits across chunk boundaries and strips CR', () => {
    const sp = new LineSplitter();
    const enc = new TextEncoder();
    assert.deepEqual(sp.push(enc.encode('{"a":1}\r\n{"b"')), ['{"a":1}']);
    assert.deepEqual(sp.push(enc.encode(':2}\n\n')), ['{"b":2}']);
    assert.deepEqual(sp.push(enc.encode('tail')), []);
    assert.deepEqual(sp.flush(), ['tail']);
  });

  it('decodes UTF-8 split across chunks', () => {
    const sp = new LineSplitter();
    const bytes = new TextEncoder().encode('"é€"\n');
    assert.deepEqual([...sp.push(bytes.subarray(0, 2)), ...sp.push(bytes.subarray(2))], ['"é€"']);
  });

  it('a 100 MB line without newline, fed in 64 KiB chunks, keeps memory bounded', () => {
    const sp = new LineSplitter(64 * 1024);
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    const before = process.memoryUsage().arrayBuffers;
    let maxBuffered = 0;
    for (let i = 0; i < 1600; i++) {
      assert.deepEqual(sp.push(chunk), []);
      maxBuffered = Math.max(maxBuffered, sp.buffered);
    }
    assert.ok(maxBuffered <= 64 * 1024);
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
    // The over-long line is dropped once its newline arrives; the next line is fine.
    assert.deepEqual(sp.push(new TextEncoder().encode('\n{"ok":1}\n')), ['{"ok":1}']);
    assert.equal(sp.droppedLines, 1);
    assert.ok(sp.droppedBytes >= 100 * 1024 * 1024);
  });
});

describe('StratumFlow', () => {
  it('bytes in both directions, lines spanning packets (ZCash submit split in two segments)', () => {
    const f = new StratumFlow();
    const enc = (s: string) => new TextEncoder().encode(s + '\n');
    let pkt = 0;
    for (const [dir, line] of ZEC) {
      const b = enc(line);
      const mid = Math.floor(b.length / 2);
      f.push(dir, b.subarray(0, mid), ++pkt);
      f.push(dir, b.subarray(mid), ++pkt);
    }
    const r = f.result();
    assert.equal(r.isMining, true);
    assert.equal(r.firstEvidence?.packet, 2, 'the line is attributed to the packet that completed it');
    assert.equal(r.host, 'eu1-zcash.flypool.org');
  });

  it('counts lines the splitter dropped', () => {
    const f = new StratumFlow(1024);
    f.push('c2s', new Uint8Array(4096).fill(0x7b), 1);
    f.push('c2s', new TextEncoder().encode('\n'), 2);
    f.end(3);
    assert.equal(f.result().lines.dropped, 1);
  });
});

describe('looksLikeStratumStart', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('accepts JSON-RPC starts', () => {
    assert.ok(looksLikeStratumStart(enc(XMR_LOGIN)));
    assert.ok(looksLikeStratumStart(enc(' \r\n{"id": 1, "method": "mining.subscribe"')));
    assert.ok(looksLikeStratumStart(enc('{"worker": "eth1.0", "jsonrpc": "2.0"')));
  });
  it('rejects others', () => {
    assert.ok(!looksLikeStratumStart(enc('GET / HTTP/1.1\r\n')));
    assert.ok(!looksLikeStratumStart(Uint8Array.from([0x16, 3, 1, 0, 0x20])));
    assert.ok(!looksLikeStratumStart(enc('{"a":1}')));
    assert.ok(!looksLikeStratumStart(new Uint8Array(0)));
  });
});
