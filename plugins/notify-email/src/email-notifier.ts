import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, Clock, FailedEvent, Notifier, RunReport } from '@certsmith/core';
import { buildNotice, subjectOf, type Notice } from './notice.js';
import type { EmailSettings } from './options.js';
import { ExpiryNoticeLedger } from './expiry-ledger.js';
import { Outbox } from './outbox.js';
import { renderHtml, renderText } from './render.js';
import { nodemailerSender, type MailSender } from './sender.js';
import { scrubberOf, type Scrub } from './scrub.js';

/** The display name cPanel's notice comes from. */
export const FROM_NAME = 'Service SSL Certificate Warnings';

/** Why a message was not sent, as the log and the `failed` event say it. */
export class MailError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'MailError';
  }
}

/**
 * Mails the administrator once per run when services produced warnings (cPanel's notice), over SMTP or the
 * local sendmail. A message that cannot be sent after bounded retries waits in the outbox, and the next run
 * sends it first. Never throws: mail trouble is returned as failures and never changes the run's exit code.
 */
export class EmailNotifier implements Notifier {
  readonly id = 'email';
  private readonly outbox: Outbox;
  private readonly ledger: ExpiryNoticeLedger;
  private readonly scrub: Scrub;

  constructor(
    private readonly settings: EmailSettings,
    private readonly clock: Clock,
    private readonly sender: MailSender | null = settings.transport.kind === 'outbox' ? null : nodemailerSender(settings),
    private readonly wait: (ms: number) => Promise<unknown> = sleep,
  ) {
    this.outbox = new Outbox(settings.outboxDir);
    this.ledger = new ExpiryNoticeLedger(settings.ledgerFile, settings.expiryNoticeRepeatDays);
    this.scrub = scrubberOf(settings.secrets, settings.transport.kind === 'smtp' ? settings.transport.smtp.user : undefined);
  }

  /** The run report is built from the same bus and carries all the message needs; nothing to collect here. */
  listen(_bus: Bus): void {}

  async deliver(report: RunReport): Promise<{ delivered: boolean; detail: string; failures?: FailedEvent[] }> {
    try {
      return await this.deliverOrThrow(report);
    } catch (error) {
      const message = this.scrub(error instanceof Error ? error.message : String(error));
      return {
        delivered: false,
        detail: `mail not handled: ${message}`,
        failures: [this.failure('MAIL_INTERNAL', message, 'the notice is lost for this run')],
      };
    }
  }

  /** The message for a report, or null when there is nothing to tell. Exposed for tests and previews. */
  async compose(report: RunReport): Promise<{ notice: Notice; raw: Buffer } | null> {
    await this.ledger.load();
    const at = new Date(report.startedAt);
    const notice = buildNotice(report, { expiryNoticeDays: this.settings.expiryNoticeDays, recentlyNoticed: (key) => this.ledger.recentlyNoticed(key, at) });
    if (!notice) return null;
    // Loaded only when there is something to tell (a run that sends nothing does not load nodemailer: docs/performance.md).
    const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
    const composer = new MailComposer({
      from: { name: FROM_NAME, address: this.settings.from },
      to: this.settings.to,
      subject: subjectOf(notice),
      date: new Date(report.finishedAt),
      text: this.scrub(renderText(notice)),
      html: this.scrub(renderHtml(notice)),
      headers: { 'X-Certsmith-Host': report.hostname, 'X-Certsmith-Run': report.startedAt, 'Auto-Submitted': 'auto-generated' },
    });
    const raw = await composer.compile().build();
    return { notice, raw };
  }

  private async deliverOrThrow(report: RunReport) {
    const composed = await this.compose(report);
    const now = this.clock.now();
    if (!this.sender) {
      if (!composed) return { delivered: false, detail: 'nothing to report' };
      const file = await this.outbox.put(composed.raw, now);
      await this.ledger.record(composed.notice.expiryKeys, new Date(report.startedAt));
      return { delivered: false, detail: `no mail transport configured: the message was written to ${file}` };
    }

    const failures: FailedEvent[] = [];
    const parts: string[] = [];
    // Older notices first, so the administrator reads them in the order the runs happened.
    const waiting = await this.outbox.list();
    let sentFromOutbox = 0;
    let down: MailError | null = null;
    for (const entry of waiting) {
      try {
        await this.sendWithRetry(entry.raw, 1);
        await this.outbox.remove(entry);
        sentFromOutbox++;
      } catch (error) {
        const mailError = this.asMailError(error);
        if (mailError.code !== 'MAIL_REJECTED') {
          down = mailError;
          break;
        }
        const file = await this.outbox.setAside(entry);
        failures.push(this.failure(mailError.code, mailError.message, `set aside as ${file}; it is not sent again`));
      }
    }
    if (waiting.length) {
      parts.push(`${sentFromOutbox} of ${waiting.length} waiting message(s) from the outbox ${this.settings.outboxDir} sent`);
      if (down)
        failures.push(
          this.failure(
            down.code,
            `could not send the outbox: ${down.message}`,
            `${waiting.length - sentFromOutbox} message(s) stay in ${this.settings.outboxDir} for the next run`,
          ),
        );
    }

    if (!composed) return { delivered: sentFromOutbox > 0, detail: ['nothing to report', ...parts].join('; '), failures };
    try {
      // When the server just failed for the outbox, one more bounded try is enough.
      await this.sendWithRetry(composed.raw, down ? 1 : this.settings.retry.attempts);
      await this.ledger.record(composed.notice.expiryKeys, new Date(report.startedAt));
      parts.unshift(`sent to ${this.settings.to.join(', ')} via ${this.describe()}`);
      return { delivered: true, detail: parts.join('; '), failures };
    } catch (error) {
      const mailError = this.asMailError(error);
      const file = await this.outbox.put(composed.raw, now);
      // Waiting in the outbox counts as told: the next run sends it.
      await this.ledger.record(composed.notice.expiryKeys, new Date(report.startedAt));
      failures.push(this.failure(mailError.code, mailError.message, `the message was written to ${file}; the next run sends it`));
      parts.unshift(`not sent (${mailError.code}: ${mailError.message}); the message was written to ${file}`);
      return { delivered: false, detail: parts.join('; '), failures };
    }
  }

  /** Transient trouble (refused connection, 4xx, timeout) is retried with a doubling delay; the rest fails at once. */
  private async sendWithRetry(raw: Buffer, attempts: number): Promise<void> {
    const { delayMs, maxDelayMs } = this.settings.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sender!.send(raw, { from: this.settings.from, to: this.settings.to });
        return;
      } catch (error) {
        const mailError = this.asMailError(error);
        if (mailError.permanent || attempt >= attempts) throw mailError;
        await this.wait(Math.min(delayMs * 2 ** (attempt - 1), maxDelayMs));
      }
    }
  }

  private asMailError(error: unknown): MailError {
    if (error instanceof MailError) return error;
    const e = error as { code?: string; responseCode?: number; response?: string; message?: string; errno?: string };
    const where = this.describe();
    const said = this.scrub((e.response ?? e.message ?? String(error)).trim());
    const t = this.settings.transport;
    if (e.code === 'EAUTH') {
      const user = t.kind === 'smtp' ? t.smtp.user : undefined;
      return new MailError(
        'MAIL_AUTH_REFUSED',
        `${where} refused the login${user ? ` of user "${user}"` : ''}: ${said} (check smtp.user and smtp.password or smtp.passwordFile)`,
        true,
      );
    }
    if (e.code === 'ETLS' || /certificate|self[- ]signed|SSL|TLS/i.test(e.message ?? '')) {
      const ca = t.kind === 'smtp' && t.smtp.caFile ? ` with the CA in ${t.smtp.caFile}` : ' (a private server needs smtp.caFile)';
      return new MailError('MAIL_TLS_FAILED', `TLS with ${where} failed${ca}: ${said}`, true);
    }
    if (typeof e.responseCode === 'number' && e.responseCode >= 500) return new MailError('MAIL_REJECTED', `${where} rejected the message: ${said}`, true);
    if (typeof e.responseCode === 'number' && e.responseCode >= 400) return new MailError('MAIL_DEFERRED', `${where} deferred the message: ${said}`, false);
    if (e.code === 'ETIMEDOUT') return new MailError('MAIL_TIMEOUT', `${where} did not answer in time: ${said}`, false);
    if (t.kind === 'sendmail') {
      const missing = e.code === 'ENOENT' || /ENOENT/.test(e.message ?? '');
      return new MailError('MAIL_SENDMAIL_FAILED', `${where} failed: ${said}${missing ? ' (is sendmail.path right?)' : ''}`, missing);
    }
    return new MailError('MAIL_UNREACHABLE', `cannot reach ${where}: ${said}`, false);
  }

  private describe(): string {
    const t = this.settings.transport;
    if (t.kind === 'smtp') return `the SMTP server ${t.smtp.host}:${t.smtp.port} (${t.smtp.security})`;
    if (t.kind === 'sendmail') return `sendmail (${t.path})`;
    return 'the outbox';
  }

  private failure(code: string, message: string, next: string): FailedEvent {
    return { stage: 'notify', target: '(run)', code, message: this.scrub(message), next, severity: 'warning' };
  }
}
