import type { Transporter } from 'nodemailer';
import type { EmailSettings } from './options.js';

/** Hands one raw message to the configured transport; rejects with nodemailer's error (code, responseCode). */
export interface MailSender {
  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<void>;
}

/**
 * SMTP (implicit TLS, required STARTTLS or plain) or the local sendmail binary, through nodemailer. nodemailer is
 * loaded for the first message only: most runs have nothing to send and need not carry it (docs/performance.md).
 */
export function nodemailerSender(settings: EmailSettings): MailSender {
  const t = settings.transport;
  if (t.kind !== 'smtp' && t.kind !== 'sendmail') throw new Error('the outbox transport sends nothing');
  let transporter: Promise<Transporter> | undefined;
  const createTransport = async (): Promise<Transporter> => {
    const { default: nodemailer } = await import('nodemailer');
    if (t.kind === 'sendmail') return nodemailer.createTransport({ sendmail: true, path: t.path, args: [...t.args, '-f', settings.from], newline: 'unix' });
    const s = t.smtp;
    return nodemailer.createTransport({
      host: s.host,
      port: s.port,
      secure: s.security === 'tls',
      requireTLS: s.security === 'starttls',
      ignoreTLS: s.security === 'none',
      auth: s.user ? { user: s.user, pass: s.password ?? '' } : undefined,
      // Verification is never turned off: a private server's CA is given with caFile.
      tls: { ca: s.ca, servername: s.servername, minVersion: 'TLSv1.2' },
      connectionTimeout: s.timeoutMs,
      greetingTimeout: s.timeoutMs,
      socketTimeout: s.timeoutMs * 3,
      logger: false,
      debug: false,
    });
  };
  return {
    async send(raw, envelope) {
      transporter ??= createTransport();
      await (await transporter).sendMail({ envelope, raw });
    },
  };
}
