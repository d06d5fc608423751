import { Parser, Language } from 'web-tree-sitter';
await Parser.init(); const lang = await Language.load('node_modules/tree-sitter-bash/tree-sitter-bash.wasm'); const p = new Parser(); p.setLanguage(lang);
for (const end of ['-', '- ;', '-;', 'x']) {
const src = `crontab -l | sed '/pool.minexmr.com/d' | crontab ${end}
echo "0.0.0.0 xmr-eu1.nanopool.org" >> /etc/hosts
`;
console.log(end, p.parse(src).rootNode.toString());
}
