/**
 * Ethereum getwork over HTTP as miners and eth-proxy style pools speak it: ethminer (libjson-rpc-cpp over
 * libcurl: `Content-Type: application/json`, `"params":null` for eth_getWork, no User-Agent header, no
 * X-Mining headers) POSTing to a URL that carries the wallet and rig (`/?miner=<MH/s>@<0x wallet>@<rig>`),
 * answered by a Go net/http pool proxy with chunked bodies. Hashes are deterministic, not real work.
 */
import { createHash } from 'node:crypto';

export const GETWORK_WALLET = '0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c';

const hex32 = (seed: string) => `0x${createHash('sha256').update(seed).digest('hex')}`;
const hex8 = (seed: string) => `0x${createHash('sha256').update(seed).digest('hex').slice(0, 16)}`;

function post(path: string, host: string, body: string): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\nContent-Type: application/json\r\n` +
    `charset: utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** A chunked 200 answer, the body cut in `pieces` chunks (Go's net/http streams a body it did not size). */
export function chunkedAnswer(body: string, pieces = 2): string {
  const size = Math.ceil(body.length / pieces);
  let out =
    'HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nDate: Fri, 04 Dec 2026 20:00:00 GMT\r\n' +
    'Transfer-Encoding: chunked\r\n\r\n';
  for (let i = 0; i < body.length; i += size) {
    const c = body.slice(i, i + size);
    out += `${c.length.toString(16)}\r\n${c}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

export interface GetworkTurn {
  from: 'c' | 's';
  data: string;
  dt?: number;
}

/**
 * One keep-alive connection of an ethminer-style getwork client: eth_getWork polls (the pool answers
 * [header, seed, boundary]), an eth_submitHashrate, and `shares` eth_submitWork calls.
 */
export function getworkSession(
  o: { host?: string; path?: string; polls?: number; shares?: number; chunked?: boolean } = {},
): GetworkTurn[] {
  const host = o.host ?? '203.0.113.40:8888';
  const path = o.path ?? `/?miner=30@${GETWORK_WALLET}@rig07`;
  const answer = (b: string) =>
    o.chunked === false
      ? `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`
      : chunkedAnswer(b);
  const turns: GetworkTurn[] = [];
  let id = 1;
  const boundary = '0x0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba';
  const seed = hex32('epoch-512');
  for (let i = 0; i < (o.polls ?? 4); i++) {
    turns.push({
      from: 'c',
      data: post(path, host, `{"id":${id},"jsonrpc":"2.0","method":"eth_getWork","params":null}`),
      dt: 0.5,
    });
    turns.push({
      from: 's',
      data: answer(
        `{"id":${id++},"jsonrpc":"2.0","result":["${hex32(`header-${i}`)}","${seed}","${boundary}"]}`,
      ),
      dt: 0.03,
    });
    if (i === 0) {
      turns.push({
        from: 'c',
        data: post(
          path,
          host,
          `{"id":${id},"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x0000000000000000000000000000000000000000000000000000000001c9c380","${hex32('client-id')}"]}`,
        ),
      });
      turns.push({ from: 's', data: answer(`{"id":${id++},"jsonrpc":"2.0","result":true}`), dt: 0.03 });
    }
    if (i < (o.shares ?? 1)) {
      turns.push({
        from: 'c',
        data: post(
          path,
          host,
          `{"id":${id},"jsonrpc":"2.0","method":"eth_submitWork","params":["${hex8(`nonce-${i}`)}","${hex32(`header-${i}`)}","${hex32(`mix-${i}`)}"]}`,
        ),
      });
      turns.push({ from: 's', data: answer(`{"id":${id++},"jsonrpc":"2.0","result":true}`), dt: 0.03 });
    }
  }
  return turns;
}

/** A dapp backend asking its own Ethereum node ordinary questions over the same JSON-RPC, chunked too. */
export function nodeRpcSession(): GetworkTurn[] {
  const host = '10.0.0.8:8545';
  const turns: GetworkTurn[] = [];
  const calls = [
    ['eth_blockNumber', '[]', '"0x12a05f2"'],
    ['eth_getBalance', `["${GETWORK_WALLET}","latest"]`, '"0x1bc16d674ec80000"'],
    ['eth_mining', '[]', 'false'],
    ['eth_hashrate', '[]', '"0x0"'],
    [
      'eth_getBlockByNumber',
      '["latest",false]',
      `{"hash":"${hex32('b')}","number":"0x12a05f2","miner":"${GETWORK_WALLET}"}`,
    ],
  ];
  calls.forEach(([m, p, r], i) => {
    turns.push({
      from: 'c',
      data: post('/', host, `{"jsonrpc":"2.0","method":"${m}","params":${p},"id":${i + 1}}`),
      dt: 0.2,
    });
    turns.push({ from: 's', data: chunkedAnswer(`{"jsonrpc":"2.0","id":${i + 1},"result":${r}}`), dt: 0.01 });
  });
  return turns;
}
