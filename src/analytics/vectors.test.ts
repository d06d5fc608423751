import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyVector } from './vectors.ts';

test('vectors from rule names, ATT&CK techniques and explicit fields', () => {
  assert.equal(classifyVector({ rule: 'host.persistence.redis-crontab' }), 'redis-crontab');
  assert.equal(classifyVector({ rule: 'log.auth.ssh-bruteforce' }), 'ssh-bruteforce');
  assert.equal(
    classifyVector({
      rule: 'x',
      attack: [{ technique: 'T1110' }],
      evidence: [{ path: '/var/log/auth.log', excerpt: 'sshd port 22' }],
    }),
    'ssh-bruteforce',
  );
  assert.equal(classifyVector({ rule: 'log.web.exploit-request' }), 'web-exploit');
  assert.equal(classifyVector({ rule: 'y', attack: [{ technique: 'T1190' }] }), 'web-exploit');
  assert.equal(classifyVector({ rule: 'net.flow.smb-scan' }), 'smb-scan');
  assert.equal(classifyVector({ rule: 'z', attack: [{ technique: 'T1046' }], port: 445 }), 'smb-scan');
  assert.equal(classifyVector({ rule: 'whatever', vector: 'redis-crontab' }), 'redis-crontab');
  assert.equal(classifyVector({ rule: 'host.process.miner-exe', attack: [{ technique: 'T1496' }] }), null);
  assert.equal(classifyVector({ rule: 'host.persistence.cron', attack: [{ technique: 'T1053.003' }] }), null);
  assert.equal(classifyVector({}), null);
});
