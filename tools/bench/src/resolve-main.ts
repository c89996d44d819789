// Runs the resolver benchmark alone, until tools/bench's main.ts registers it:
//   npx tsc --module nodenext --moduleResolution nodenext --target es2022 --skipLibCheck --esModuleInterop \
//     --types node --outDir tools/bench/dist tools/bench/src/resolve.ts tools/bench/src/resolve-main.ts
//   node tools/bench/dist/resolve-main.js [names] [rounds]
import { benchResolve, printResolveTable } from './resolve.js';

const names = Number(process.argv[2] ?? 1_000);
printResolveTable(await benchResolve({ names, concurrency: 50, rounds: Number(process.argv[3] ?? 2) }));
