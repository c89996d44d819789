// The embedded default is hermetic: every README command on config/sandbox.json behaves the same in a network
// namespace that has only loopback, and strace sees no packet addressed off the machine. Inside the namespace the
// shipped CLI runs (no test entry, so no loopback-only DNS policy), as an administrator runs it.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, cliNodeFlags, ensurePackages, labDir, run, runCli, type RunResult } from '@certsmith/testlab';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The README's commands on the sandbox config, in the order a new user runs them (`npm start` is the first). */
const COMMANDS: string[][] = [
  ['check', '--config', 'config/sandbox.json'],
  ['check', '--config', 'config/sandbox.json'],
  ['check', '--dry-run', '--verbose', '--config', 'config/sandbox.json'],
  ['check', '--json', '--config', 'config/sandbox.json'],
  ['check', '--target', 'hostname', '--config', 'config/sandbox.json'],
  ['dcv', '--config', 'config/sandbox.json'],
  ['dcv', '--json', '--config', 'config/sandbox.json'],
  ['dcv', '--verbose', '--config', 'config/sandbox.json'],
  ['plugins', '--config', 'config/sandbox.json'],
  ['plugins', '--json', '--config', 'config/sandbox.json'],
  ['status', '--config', 'config/sandbox.json'],
  ['status', '--json', '--config', 'config/sandbox.json'],
  ['--help'],
  ['--version'],
];

let outside: { path: string; cleanup: () => Promise<void> };
let inside: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  await ensurePackages({ '/usr/bin/strace': 'strace', '/usr/bin/unshare': 'util-linux', '/usr/sbin/ip': 'iproute2' });
  outside = await labDir('sandbox-outside');
  inside = await labDir('sandbox-inside');
  // The repository's sandbox config, copied so that its relative paths (../sandbox/...) land in each temp dir.
  for (const dir of [outside.path, inside.path]) {
    await mkdir(join(dir, 'config'));
    await writeFile(join(dir, 'config', 'sandbox.json'), await readFile(join(REPO, 'config', 'sandbox.json'), 'utf8'));
  }
});
afterAll(async () => {
  await outside?.cleanup();
  await inside?.cleanup();
});

/** One command in a fresh network namespace (loopback only, up), under strace; returns its result and what it sent where. */
async function inNamespace(args: string[], trace: string): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const command = ['strace', '-f', '-qq', '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-o', trace, process.execPath, ...cliNodeFlags(), CLI_PATH, ...args];
  return run('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...command], { env, cwd: inside.path, timeoutMs: 120_000 });
}

/** Addresses of the IPv4/IPv6 sockets a trace connected or sent to. */
function destinations(trace: string): string[] {
  const found = new Set<string>();
  for (const match of trace.matchAll(/inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"/g)) found.add(match[1] ?? match[2]!);
  return [...found];
}

/** The output with what differs between two runs by nature masked: the temp dir, times, serials, tokens, counts. */
function normalized(text: string, dir: string): string {
  return text
    .split(dir)
    .join('<dir>')
    .replace(/[\w-]+\.eml\b/g, '<message>.eml')
    .replace(/[0-9a-f]{16,}/gi, '<hex>')
    .replace(/[0-9A-F]{2}(:[0-9A-F]{2}){7,}/g, '<hex>')
    .replace(/\d+/g, 'N');
}

describe('the sandbox config sends nothing off the machine', { timeout: 600_000 }, () => {
  it('npm start runs the first of these commands', async () => {
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toMatch(/&& node apps\/cli\/dist\/main\.js check --config config\/sandbox\.json$/);
    expect(await readFile(join(REPO, 'README.md'), 'utf8')).toContain('certsmith dcv --config config/sandbox.json');
  });

  it('every README command behaves the same with loopback only, and no socket is addressed beyond it', async () => {
    const problems: string[] = [];
    for (const [index, args] of COMMANDS.entries()) {
      const trace = join(dirname(inside.path), `${inside.path.split('/').pop()}-trace-${index}.txt`);
      const there = await inNamespace(args, trace);
      const here = await runCli(args, { cwd: outside.path });
      const label = `certsmith ${args.join(' ')}`;
      if (there.code !== here.code) problems.push(`${label}: exit ${there.code} in the namespace, ${here.code} outside\n${there.stderr}`);
      const [a, b] = [normalized(there.stdout, inside.path).split('\n'), normalized(here.stdout, outside.path).split('\n')];
      const differing = a.findIndex((line, i) => line !== b[i]);
      if (differing >= 0 || a.length !== b.length)
        problems.push(`${label}: another output in the namespace, line ${differing + 1}: "${a[differing] ?? ''}" (outside: "${b[differing] ?? ''}")`);
      if (there.stderr !== '') problems.push(`${label}: stderr in the namespace: ${there.stderr}`);
      const offMachine = destinations(await readFile(trace, 'utf8')).filter((a) => !a.startsWith('127.') && a !== '::1');
      if (offMachine.length) problems.push(`${label}: addressed ${offMachine.join(', ')}`);
      await run('rm', ['-f', trace]);
    }
    expect(problems).toEqual([]);
  });

  it('dcv says why the sandbox names fail, without asking any server', async () => {
    const result = await runCli(['dcv', '--verbose', '--config', 'config/sandbox.json'], { cwd: outside.path });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "host.sandbox.test does not resolve: .test is a special-use name: the Internet's DNS never delegates it and no public CA issues for it (answered locally, no query sent)",
    );
    expect(result.stdout).toContain('0 of 1 name(s) passed local HTTP DCV.');
  });
});
