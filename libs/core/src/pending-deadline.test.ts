// The pipeline's side of pending orders, with the issuer faked: the per-name report on the `issued` event and in
// the run report, the deadline (abandon, drop the holders, keep the primary), and a state file edited into nonsense.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completeConfig } from './config/config.js';
import type { AuthorizationState, CsrFactory, Inspector, Installer, Issuer, PendingOrder } from './contracts.js';
import { createBus, type FailedEvent, type IssuedEvent } from './events.js';
import type { Target } from './model.js';
import { Pipeline } from './pipeline.js';
import { RunReportCollector } from './report.js';

const T0 = new Date('2026-03-01T00:00:00Z');
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const target: Target = { id: 'hostname', names: ['a.test', 'www.a.test', 'mail.a.test'], services: ['dovecot'], kind: 'hostname' };
const site: Target = { id: 'site', names: ['site.test'], services: ['dovecot'], kind: 'site' };

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const csrFactory: CsrFactory = {
  create: async () => ({
    keys: {} as never,
    keyPem,
    csrDer: new Uint8Array([1]),
    csrPem: `-----BEGIN CERTIFICATE REQUEST-----\nAQ==\n-----END CERTIFICATE REQUEST-----\n`,
    spec: { type: 'ecdsa-p256' },
  }),
};
const inspector: Inspector = {
  inspect: async () => ({
    files: [],
    live: [],
    summary: null,
    chain: [],
    defects: [{ code: 'SELF_SIGNED', message: 'self-signed', severity: 'upgrade' }],
    providerIssued: false,
  }),
  summarize: () => {
    throw new Error('not used');
  },
  verifyIssued: () => [],
};
const installer: Installer = {
  service: 'dovecot',
  endpoints: () => [],
  read: async () => ({ service: 'dovecot', sources: [], endpoints: [] }),
  install: async () => {
    throw new Error('not used');
  },
  prove: async () => ({ ok: true, observations: [] }),
  rollback: async () => undefined,
};

const processing = (name: string): Omit<AuthorizationState, 'since'> => ({ name, status: 'pending', challenge: { type: 'http-01', status: 'processing' } });
const valid = (name: string): Omit<AuthorizationState, 'since'> => ({ name, status: 'valid', challenge: { type: 'http-01', status: 'valid' } });

/** A CA that leaves every order pending, with the authorizations the test says, and records what it is asked. */
class StuckCa implements Issuer {
  readonly id = 'ca';
  readonly trusted = true;
  readonly precheck = 'none' as const;
  readonly issuerPatterns = [];
  states: Omit<AuthorizationState, 'since'>[] = [];
  readonly issued: string[][] = [];
  readonly resumed: string[] = [];
  readonly abandoned: string[] = [];
  private orders = 0;
  async issue(request: { target: Target; names: string[] }, ctx: { clock: { now(): Date } }) {
    this.issued.push(request.names);
    return {
      status: 'pending' as const,
      order: this.order(request.target.id, `https://ca.test/order/${++this.orders}`, request.names, ctx.clock.now().toISOString(), undefined, ctx.clock.now()),
    };
  }
  async resume(pending: PendingOrder, _csr: unknown, ctx: { clock: { now(): Date } }) {
    this.resumed.push(pending.reference);
    return {
      status: 'pending' as const,
      order: this.order(pending.target, pending.reference, pending.names, pending.createdAt, pending.authorizations, ctx.clock.now()),
    };
  }
  async checkPending(pending: PendingOrder, ctx: { clock: { now(): Date } }) {
    return this.order(pending.target, pending.reference, pending.names, pending.createdAt, pending.authorizations, ctx.clock.now());
  }
  async abandon(pending: PendingOrder) {
    this.abandoned.push(pending.reference);
    return 'deactivated 2 authorizations';
  }
  private order(targetId: string, reference: string, names: string[], createdAt: string, previous: AuthorizationState[] | undefined, now: Date): PendingOrder {
    const authorizations = this.states
      .filter((s) => names.includes(s.name))
      .map((s) => {
        const before = previous?.find((p) => p.name === s.name && p.status === s.status && p.challenge?.status === s.challenge?.status);
        return { ...s, since: before?.since ?? now.toISOString() };
      });
    return { issuer: this.id, target: targetId, reference, names, createdAt, orderStatus: 'pending', authorizations };
  }
}

function run(stateDir: string, ca: Issuer, now: Date, targets: Target[] = [target]) {
  const bus = createBus();
  const failures: FailedEvent[] = [];
  const issued: IssuedEvent[] = [];
  bus.on('failed', (e) => failures.push(e));
  bus.on('issued', (e) => issued.push(e));
  const report = new RunReportCollector(bus);
  const config = completeConfig(
    { hostname: 'a.test', names: ['www.a.test', 'mail.a.test'], issuers: ['ca'], paths: { stateDir }, retry: { abandonPendingAfterHours: 72 } },
    '/etc/certsmith/config.json',
  );
  const pipeline = new Pipeline({
    config,
    bus,
    report,
    csrFactory,
    clock: { now: () => now },
    inspector,
    issuers: [ca],
    installers: [installer],
    dcv: [],
    switches: { noHostnameCertificate: false, noServiceManagement: false },
  });
  return pipeline
    .run(targets, { dryRun: false, allowRetry: false, retryCommand: [], concurrency: 1, signal: new AbortController().signal })
    .then(() => ({ failures, issued, report: report.finish({ hostname: 'a.test', startedAt: now, finishedAt: now, dryRun: false }) }));
}

describe('pending orders in the pipeline', () => {
  it('reports each name and who holds the order, keeps `since` across runs, and abandons past the deadline without the holders', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-deadline-'));
    const ca = new StuckCa();
    ca.states = [valid('a.test'), processing('www.a.test'), { name: 'mail.a.test', status: 'pending' }];
    const first = await run(stateDir, ca, T0);
    expect(ca.issued).toEqual([['a.test', 'www.a.test', 'mail.a.test']]);
    const event = first.issued[0] as Extract<IssuedEvent, { status: 'pending' }>;
    expect(event.heldBy).toBe('www.a.test (processing for 0s), mail.a.test (pending for 0s)');

    // Two days and three hours later mail.a.test has been answered; www.a.test is unchanged.
    ca.states = [valid('a.test'), processing('www.a.test'), processing('mail.a.test')];
    const second = await run(stateDir, ca, at(51));
    expect(ca.resumed).toEqual(['https://ca.test/order/1']);
    const later = second.issued[0] as Extract<IssuedEvent, { status: 'pending' }>;
    expect(later.authorizations?.map((a) => [a.name, a.forSeconds])).toEqual([
      ['a.test', 51 * 3600],
      ['www.a.test', 51 * 3600],
      ['mail.a.test', 0],
    ]);
    expect(later.heldBy).toBe('www.a.test (processing for 2d 3h), mail.a.test (processing for 0s)');
    expect(second.report.targets[0]!.issued).toEqual(later);
    expect(second.report.targets[0]!.actions).toContain('order held by: www.a.test (processing for 2d 3h), mail.a.test (processing for 0s)');
    expect(second.failures).toEqual([]);

    // Past 72 hours: abandoned, and a new order without www and mail.
    const third = await run(stateDir, ca, at(73));
    expect(ca.abandoned).toEqual(['https://ca.test/order/1']);
    expect(ca.issued).toEqual([['a.test', 'www.a.test', 'mail.a.test'], ['a.test']]);
    const warning = third.failures.find((f) => f.code === 'ORDER_ABANDONED')!;
    expect(warning).toMatchObject({ severity: 'warning', issuer: 'ca', next: 'place a new order' });
    expect(warning.message).toBe(
      'the order https://ca.test/order/1 is 3d 1h old (more than retry.abandonPendingAfterHours = 72h), held by www.a.test (processing for 3d 1h), mail.a.test (processing for 22h 0m): abandoned (deactivated 2 authorizations); dropped from the new order: www.a.test, mail.a.test',
    );
    const saved = JSON.parse(await readFile(join(stateDir, 'pending', 'hostname.ca.json'), 'utf8')) as { order: PendingOrder };
    expect(saved.order).toMatchObject({ reference: 'https://ca.test/order/2', names: ['a.test'], createdAt: at(73).toISOString() });
  });

  it('keeps the primary name when it holds the order: the new order tries it again, the other holders are dropped', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-deadline-'));
    const ca = new StuckCa();
    ca.states = [processing('a.test'), processing('www.a.test'), valid('mail.a.test')];
    await run(stateDir, ca, T0);
    const late = await run(stateDir, ca, at(100));
    expect(ca.issued).toEqual([
      ['a.test', 'www.a.test', 'mail.a.test'],
      ['a.test', 'mail.a.test'],
    ]);
    expect(late.failures.map((f) => f.code)).toEqual(['ORDER_ABANDONED']);
    expect(late.failures[0]!.message).toContain(
      'dropped from the new order: www.a.test; the primary name a.test cannot be dropped, so the new order tries it again from scratch',
    );
  });

  it('resumes, never abandons, an old order that no name holds any more (the CA is issuing)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-deadline-'));
    const ca = new StuckCa();
    ca.states = [processing('a.test'), valid('www.a.test'), valid('mail.a.test')];
    await run(stateDir, ca, T0);
    ca.states = [valid('a.test'), valid('www.a.test'), valid('mail.a.test')];
    const late = await run(stateDir, ca, at(200));
    expect(ca.abandoned).toEqual([]);
    expect(ca.resumed).toEqual(['https://ca.test/order/1']);
    expect(late.failures).toEqual([]);
    expect((late.issued[0] as { heldBy?: string }).heldBy).toBe('the CA (every name is valid; the order is pending)');
  });

  it('a pending-order file edited into nonsense: a warning naming the file, set aside, a new order; the other target goes on', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-deadline-'));
    const ca = new StuckCa();
    ca.states = [processing('a.test'), processing('site.test')];
    await run(stateDir, ca, T0, [target, site]);
    const file = join(stateDir, 'pending', 'hostname.ca.json');
    const data = JSON.parse(await readFile(file, 'utf8')) as { order: { createdAt: string } };
    data.order.createdAt = 'last tuesday';
    await writeFile(file, JSON.stringify(data));
    const second = await run(stateDir, ca, at(1), [target, site]);
    expect(second.failures).toEqual([
      expect.objectContaining({
        code: 'PENDING_STATE_INVALID',
        target: 'hostname',
        severity: 'warning',
        message: `the pending-order file ${file} is not usable: "order.createdAt" is not a date ("last tuesday")`,
        next: `moved aside to ${file}.invalid; go on as if no order were pending`,
      }),
    ]);
    // hostname ordered afresh; the site's order was resumed.
    expect(ca.issued.length).toBe(3);
    expect(ca.resumed).toEqual(['https://ca.test/order/2']);
    expect(second.report.targets.map((t) => t.result)).toEqual(['pending', 'pending']);
    expect((await readdir(join(stateDir, 'pending'))).sort()).toEqual(['hostname.ca.json', 'hostname.ca.json.invalid', 'site.ca.json']);

    // Not JSON at all, then not an object.
    for (const [text, why] of [
      ['{"order": {', 'not JSON'],
      ['[1,2]', 'not a JSON object'],
    ] as const) {
      await writeFile(file, text);
      const again = await run(stateDir, ca, at(2), [target]);
      expect(again.failures[0]!.message).toContain(`the pending-order file ${file} is not usable: ${why}`);
    }
  });
});
