import { readFile, utimes, writeFile } from 'node:fs/promises';
import type { DnsLab } from './bind.js';
import { LabError, mustRun, sleep } from './process.js';

/** Records of files.test (zone-file lines, names relative to the zone) as its two servers will serve them. */
export interface StaleSecondaryRecords {
  /** Transferred to the secondary, under a new serial: what both servers serve at first. */
  transferred: string[];
  /** Served by the primary alone afterwards, in place of `transferred`. */
  primaryOnly: string[];
}

/**
 * Makes the two servers of files.test disagree as a zone edited without bumping its serial does: the secondary
 * transfers `transferred` under a new serial, then the primary reloads `primaryOnly` under that same serial. Its
 * NOTIFY then finds nothing newer, so the secondary keeps its copy until the zone's next serial.
 * (ns1.example.test is the primary, ns2.example.test the secondary.)
 */
export async function makeStaleSecondary(dns: DnsLab, records: StaleSecondaryRecords): Promise<void> {
  const { primary, secondary } = dns.addresses;
  const serial = ((await dns.serial(primary, 'files.test')) ?? 0) + 1;
  await loadFilesZone(dns, serial, records.transferred, 0);
  await waitFor(async () => (await dns.serial(secondary, 'files.test')) === serial, `the secondary did not transfer files.test serial ${serial}`);
  // A later mtime than the first write's, whatever the clock's resolution: BIND reloads only a file that changed.
  await loadFilesZone(dns, serial, records.primaryOnly, 2);
  const first = /^(\S+)\s+IN\s+(\S+)\s+(\S+)/.exec(records.primaryOnly[0] ?? '');
  if (!first) throw new LabError(`primaryOnly: "${records.primaryOnly[0] ?? ''}" is not "owner IN TYPE data"`);
  const [, owner, type, data] = first;
  await waitFor(
    async () => (await dns.dig(primary, `${owner}.files.test`, type!)).split('\n').includes(data!),
    `the primary did not reload files.test with ${records.primaryOnly.join('; ')}`,
  );
}

async function loadFilesZone(dns: DnsLab, serial: number, lines: string[], futureSeconds: number): Promise<void> {
  const original = await readFile(dns.filesZoneFile, 'utf8');
  // The SOA and NS lines, which come first in the lab's file; the rest is replaced.
  const head = /^[\s\S]*?IN NS +ns2\.example\.test\.\n/.exec(original)?.[0];
  if (!head) throw new LabError(`${dns.filesZoneFile} does not start with the lab's SOA and NS lines`);
  await writeFile(dns.filesZoneFile, `${head.replace(/\d+ ; serial/, `${serial} ; serial`)}${lines.join('\n')}\n`);
  const when = new Date(Date.now() + futureSeconds * 1000);
  await utimes(dns.filesZoneFile, when, when);
  const reload = dns.reloadCommand.map((arg) => arg.replace('{zone}', 'files.test'));
  await mustRun(reload[0]!, reload.slice(1));
}

async function waitFor(done: () => Promise<boolean>, failure: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new LabError(failure);
    await sleep(100);
  }
}
