// Loaded by the fleet benchmark into the program it measures (node --import): at exit, the process's own CPU time
// (user and system, all threads, in microseconds) is appended to the file named by CERTSMITH_BENCH_CPU_FILE. GNU
// time's 10 ms steps are a third of what the fleet adds to a run.
import { appendFileSync } from 'node:fs';

const file = process.env.CERTSMITH_BENCH_CPU_FILE;
if (file) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(file, `${user + system}\n`);
  });
}
