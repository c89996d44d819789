import nodemailer from 'nodemailer';
import type { EmailSettings } from './options.js';

/** Hands one raw message to the configured transport; rejects with nodemailer's error (code, responseCode). */
export interface MailSender {
  send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<void>;
}

/** SMTP (implicit TLS, required STARTTLS or plain) or the local sendmail binary, through nodemailer. */
export function nodemailerSender(settings: EmailSettings): MailSender {
  const t = settings.transport;
  let transporter: ReturnType<typeof nodemailer.createTransport>;
  if (t.kind === 'smtp') {
    const s = t.smtp;
    transporter = nodemailer.createTransport({
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
  } else if (t.kind === 'sendmail') {
    transporter = nodemailer.createTransport({ sendmail: true, path: t.path, args: [...t.args, '-f', settings.from], newline: 'unix' });
  } else {
    throw new Error('the outbox transport sends nothing');
  }
  return {
    async send(raw, envelope) {
      await transporter.sendMail({ envelope, raw });
    },
  };
}
