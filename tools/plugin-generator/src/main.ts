// `npm run new-plugin -- --kind <kind> --name <name>`: a new plugin package under plugins/ of this workspace.
import { fileURLToPath } from 'node:url';
import { runGenerator } from './command-line.js';

// dist/main.js of tools/plugin-generator: the workspace is three folders up.
const workspace = fileURLToPath(new URL('../../..', import.meta.url));
process.exitCode = await runGenerator(process.argv.slice(2), workspace, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
