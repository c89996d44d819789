import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '@certsmith/core';
import { EmailNotifier } from './email-notifier.js';
import { settingsOf, type RawEmailOptions } from './options.js';
import { Outbox } from './outbox.js';
import type { MailSender } from './sender.js';

const PASSWORD = 'pl4nted-Secret-9f3';

const failing: RunReport = {
  hostname: 'host.example.test',
  startedAt: '2026-11-25T00:00:00.000Z',
  finishedAt: '2026-11-25T00:00:01.000Z',
  dryRun: false,
  exitCode: 1,
  targets: [
    {
      target: 'hostname',
      names: ['host.example.test'],
      result: 'failed',
      validations: [],
      failures: [],
      actions: [],
      services: [
        {
          service: 'cpanel',
          failures: [
            {
              stage: 'install',
              target: 'hostname',
              service: 'cpanel',
              code: 'INSTALL_FAILED',
              message: `disk full (the server said ${PASSWORD})`,
              next: 'the previous certificate stays',
              severity: 'error',
            },
          ],
        },
      ],
    },
  ],
};
const healthy: RunReport = { ...failing, exitCode: 0, targets: [{ ...failing.targets[0]!, result: 'healthy', services: [] }] };

/** A sender that fails with the given errors first, then accepts; records what it got. */
function scripted(errors: object[]): MailSender & { sent: string[]; attempts: number } {
  const queue = [...errors];
  const sender = {
    sent: [] as string[],
    attempts: 0,
    async send(raw: Buffer) {
      sender.attempts++;
      const error = queue.shift();
      if (error) throw Object.assign(new Error((error as { message?: string }).message ?? 'failed'), error);
      sender.sent.push(raw.toString('utf8'));
    },
  };
  return sender;
}

describe('EmailNotifier delivery', () => {
  let dir: string;
  const clock = { now: () => new Date('2026-11-25T00:00:02Z') };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-notify-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const settings = (raw: RawEmailOptions) =>
    settingsOf(raw, {
      file: join(dir, 'config.json'),
      hostname: 'host.example.test',
      paths: { stateDir: join(dir, 'state'), sslDir: join(dir, 'ssl'), logDir: join(dir, 'logs') },
    });
  const smtp = { smtp: { host: '127.0.0.1', port: 2525, user: 'certsmith', password: PASSWORD }, retry: { attempts: 3, delayMs: 100, maxDelayMs: 150 } };

  it('sends nothing when nothing is wrong', async () => {
    const sender = scripted([]);
    const result = await new EmailNotifier(settings(smtp), clock, sender).deliver(healthy);
    expect(result).toEqual({ delivered: false, detail: 'nothing to report', failures: [] });
    expect(sender.attempts).toBe(0);
  });

  it('retries transient trouble with a doubling, capped delay, then keeps the message in a 0600 outbox file', async () => {
    const waits: number[] = [];
    const refused = { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:2525' };
    const sender = scripted([refused, refused, refused]);
    const notifier = new EmailNotifier(settings(smtp), clock, sender, async (ms) => waits.push(ms));
    const result = await notifier.deliver(failing);
    expect(sender.attempts).toBe(3);
    expect(waits).toEqual([100, 150]);
    expect(result.delivered).toBe(false);
    expect(result.failures).toEqual([expect.objectContaining({ stage: 'notify', code: 'MAIL_UNREACHABLE', severity: 'warning' })]);
    const outbox = join(dir, 'state/outbox');
    const files = await readdir(outbox);
    expect(files).toHaveLength(1);
    expect(result.detail).toContain(join(outbox, files[0]!));
    expect((await stat(outbox)).mode & 0o777).toBe(0o700);
    expect((await stat(join(outbox, files[0]!))).mode & 0o777).toBe(0o600);
    const kept = await readFile(join(outbox, files[0]!), 'utf8');
    expect(kept).toContain('Subject: 1 service(s) generated warnings while checking SSL certificates.');
    expect(kept).not.toContain(PASSWORD);

    // The next run, server back: the outbox goes first, then nothing new is sent for a healthy run.
    const back = scripted([]);
    const next = await new EmailNotifier(settings(smtp), clock, back).deliver(healthy);
    expect(back.sent).toEqual([kept]);
    expect(next).toMatchObject({ delivered: true, detail: expect.stringContaining('1 of 1 waiting message(s) from the outbox') });
    expect(await readdir(outbox)).toEqual([]);
  });

  it('sets aside an outbox message the server rejects for good, and sends the ones after it', async () => {
    const outbox = new Outbox(join(dir, 'state/outbox'));
    const first = await outbox.put(Buffer.from('Subject: one\r\n\r\nfirst\r\n'), new Date('2026-11-23T00:00:00Z'));
    await outbox.put(Buffer.from('Subject: two\r\n\r\nsecond\r\n'), new Date('2026-11-24T00:00:00Z'));
    const sender = scripted([{ code: 'EMESSAGE', responseCode: 550, response: '550 message refused' }]);
    const result = await new EmailNotifier(settings(smtp), clock, sender).deliver(healthy);
    expect(sender.sent).toEqual(['Subject: two\r\n\r\nsecond\r\n']);
    expect(sender.attempts).toBe(2);
    expect(result.failures).toEqual([expect.objectContaining({ code: 'MAIL_REJECTED', next: `set aside as ${first}.rejected; it is not sent again` })]);
    expect(await readdir(join(dir, 'state/outbox'))).toEqual([`${first.split('/').pop()}.rejected`]);
  });

  it('does not retry a refused login, and says which user was refused without the password', async () => {
    const waits: number[] = [];
    const sender = scripted([
      { code: 'EAUTH', responseCode: 535, response: `535 Incorrect authentication data ${Buffer.from(`\0certsmith\0${PASSWORD}`).toString('base64')}` },
    ]);
    const result = await new EmailNotifier(settings(smtp), clock, sender, async (ms) => waits.push(ms)).deliver(failing);
    expect(sender.attempts).toBe(1);
    expect(waits).toEqual([]);
    expect(result.failures?.[0]?.code).toBe('MAIL_AUTH_REFUSED');
    expect(result.failures?.[0]?.message).toMatch(/refused the login of user "certsmith": 535 Incorrect authentication data \[redacted\]/);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
    expect(JSON.stringify(result)).not.toContain(Buffer.from(`\0certsmith\0${PASSWORD}`).toString('base64'));
  });

  it('repeats a "will expire" notice about the same certificate only after expiryNoticeRepeatDays', async () => {
    const summary = {
      subject: 'CN=host.example.test',
      commonName: 'host.example.test',
      issuer: 'CN=x',
      serial: '01',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-12-15T00:00:00.000Z',
      names: ['host.example.test'],
      hasSan: true,
      key: 'EC P-256',
      signatureAlgorithm: 'ecdsa-with-SHA256',
      fingerprint: 'cd'.repeat(32),
      selfSigned: false,
      extendedKeyUsage: ['serverAuth'],
    };
    const expiring = (startedAt: string): RunReport => ({
      ...healthy,
      startedAt,
      finishedAt: startedAt,
      targets: [
        {
          ...healthy.targets[0]!,
          services: [
            {
              service: 'exim',
              failures: [],
              inspect: {
                target: 'hostname',
                service: 'exim',
                files: [],
                live: [],
                summary,
                chain: [],
                defects: [],
                status: 'OK',
                action: 'keep',
                providerIssued: false,
              },
            },
          ],
        },
      ],
    });
    const notifier = () => new EmailNotifier(settings({ expiryNoticeRepeatDays: 7 }), clock);
    expect((await notifier().deliver(expiring('2026-11-25T00:00:00.000Z'))).detail).toMatch(/written to/);
    expect((await notifier().deliver(expiring('2026-11-26T00:00:00.000Z'))).detail).toBe('nothing to report');
    expect((await notifier().deliver(expiring('2026-12-02T01:00:00.000Z'))).detail).toMatch(/written to/);
    const ledger = join(dir, 'state/notify-email/expiry-notices.json');
    expect((await stat(ledger)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(ledger, 'utf8'))).toEqual({ [`hostname/exim/${'cd'.repeat(32)}`]: '2026-12-02T01:00:00.000Z' });
    // 0: every run.
    const every = new EmailNotifier(settings({ expiryNoticeRepeatDays: 0 }), clock);
    expect((await every.deliver(expiring('2026-12-02T02:00:00.000Z'))).detail).toMatch(/written to/);
  });

  it('writes to the outbox when no transport is configured', async () => {
    const result = await new EmailNotifier(settings({}), clock).deliver(failing);
    expect(result.delivered).toBe(false);
    expect(result.detail).toMatch(/^no mail transport configured: the message was written to .*state\/outbox\/20261125T000002Z-[0-9a-f]{8}\.eml$/);
    expect(result.failures).toBeUndefined();
  });

  it('composes one multipart message from the service warnings sender', async () => {
    const composed = await new EmailNotifier(settings({ to: ['admin@example.test', 'ops@example.test'] }), clock).compose(failing);
    const raw = composed!.raw.toString('utf8');
    expect(raw).toMatch(/^From: Service SSL Certificate Warnings <certsmith@host\.example\.test>$/m);
    expect(raw).toMatch(/^To: admin@example\.test, ops@example\.test$/m);
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(raw).toMatch(/^Content-Type: text\/plain; charset=utf-8$/m);
    expect(raw).toMatch(/^Content-Type: text\/html; charset=utf-8$/m);
  });
});
