// Prints the conformance table (certsmith and `openssl verify` over the x509-limbo corpus): npm run conformance.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { loadCorpus } from './corpus.js';
import { conformanceReport, markdownTable } from './report.js';

const openssl = process.env.OPENSSL ?? 'openssl';
const report = await conformanceReport(loadCorpus(), openssl);
console.log(`x509-limbo, ${execFileSync(openssl, ['version']).toString().trim()}, node ${process.version}\n`);
console.log(markdownTable(report));
if (report.certsmithWrong.length) {
  console.log('\ncertsmith wrong:');
  for (const wrong of report.certsmithWrong) console.log(`- ${wrong.id}: expected ${wrong.expected}, refused by [${wrong.refusals.join(', ')}]`);
}
if (process.argv.includes('--openssl-wrong')) console.log(`\nopenssl wrong:\n${report.opensslWrong.map((id) => `- ${id}`).join('\n')}`);
