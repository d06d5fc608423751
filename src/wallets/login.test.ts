import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLogin } from './login.ts';
import { ETH_CORPUS_LOWER, XMR, ZEC_CORPUS } from './test-helpers/fixtures.ts';

const W = XMR.generalFund;

describe('parseLogin', () => {
  it('WALLET.worker', () => {
    const p = parseLogin(`${W}.worker`);
    assert.equal(p.wallet?.address, W);
    assert.equal(p.wallet?.valid, true);
    assert.equal(p.worker, 'worker');
    assert.equal(p.user, undefined);
  });
  it('WALLET+difficulty', () => {
    const p = parseLogin(`${W}+50000`);
    assert.equal(p.wallet?.coin, 'XMR');
    assert.equal(p.difficulty, 50000);
    assert.equal(p.worker, undefined);
    const q = parseLogin(`${W}.rig2+75000`);
    assert.deepEqual([q.worker, q.difficulty], ['rig2', 75000]);
  });
  it('WALLET/worker/email (nanopool)', () => {
    const p = parseLogin(`${W}/worker/email@x.com`);
    assert.equal(p.wallet?.valid, true);
    assert.equal(p.worker, 'worker');
    assert.equal(p.email, 'email@x.com');
  });
  it('WALLET:x is a wallet with no worker', () => {
    const p = parseLogin(`${W}:x`);
    assert.equal(p.wallet?.valid, true);
    assert.equal(p.worker, undefined);
  });
  it('pool accounts: user.worker and a bare user', () => {
    assert.deepEqual(
      { ...parseLogin('tester.worker1') },
      { raw: 'tester.worker1', user: 'tester', worker: 'worker1' },
    );
    assert.deepEqual({ ...parseLogin('Bigsky') }, { raw: 'Bigsky', user: 'Bigsky' });
  });
  it('ZCash wallet with a rig name', () => {
    const p = parseLogin(`${ZEC_CORPUS[0]}.rig4`);
    assert.equal(p.wallet?.coin, 'ZEC');
    assert.equal(p.wallet?.valid, true);
    assert.equal(p.worker, 'rig4');
  });
  it('ETH wallet with a rig name', () => {
    const p = parseLogin(`${ETH_CORPUS_LOWER}.rig`);
    assert.equal(p.wallet?.coin, 'ETH');
    assert.equal(p.wallet?.valid, null);
    assert.equal(p.worker, 'rig');
  });
  it('WALLET.<payment id> as old pools took it (corpus login)', () => {
    const pid = 'cb2b73415c4faf214035a73b9d947c202342f3a8b8ff8e7fdd0aca6d84b1e7b0';
    const p = parseLogin(`${XMR.corpusBitfinex}.${pid}`);
    assert.equal(p.wallet?.valid, true);
    assert.equal(p.payment_id, pid);
    assert.equal(p.worker, undefined);
  });
  it('xmrig password as worker name; x means none; d= is difficulty', () => {
    assert.equal(parseLogin(W, 'rig7').worker, 'rig7');
    assert.equal(parseLogin(W, 'x').worker, undefined);
    const p = parseLogin(W, 'rig9:me@example.org');
    assert.deepEqual([p.worker, p.email], ['rig9', 'me@example.org']);
    assert.equal(parseLogin(W, 'd=4096,c=XMR').difficulty, 4096);
    assert.equal(parseLogin(`${W}.w1`, 'other').worker, 'w1', 'the login worker wins over the password');
  });
  it('email logins (MinerGate style) are accounts, not worker-split', () => {
    const p = parseLogin('someone@mail.example.com');
    assert.deepEqual(
      [p.user, p.email, p.worker],
      ['someone@mail.example.com', 'someone@mail.example.com', undefined],
    );
  });
  it('survives hostile input', () => {
    const p = parseLogin('.'.repeat(100_000));
    assert.equal(p.wallet, undefined);
    assert.equal(parseLogin('').user, undefined);
  });
});
