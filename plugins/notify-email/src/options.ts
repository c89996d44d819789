import { readFileSync } from 'node:fs';
import { UsageError, resolveConfigPath, type CertsmithConfig, type OptionsOf } from '@certsmith/core';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    to: {
      oneOf: [
        { type: 'string', minLength: 3 },
        { type: 'array', minItems: 1, items: { type: 'string', minLength: 3 } },
      ],
      description: 'Recipients (default root@<hostname>).',
    },
    from: { type: 'string', minLength: 3, description: 'Sender address; the display name is "Service SSL Certificate Warnings".' },
    transport: { enum: ['smtp', 'sendmail', 'outbox'], description: 'Default: smtp when "smtp" is given, sendmail when "sendmail" is, else the outbox only.' },
    smtp: {
      type: 'object',
      additionalProperties: false,
      required: ['host'],
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        security: { enum: ['tls', 'starttls', 'none'], description: 'tls: implicit TLS (465); starttls: required upgrade (587, 25); none: plain text.' },
        servername: { type: 'string', minLength: 1, description: 'Name to verify the server certificate against, when host is an address.' },
        caFile: { type: 'string', minLength: 1, description: "PEM file of the CA that signed a private server's certificate." },
        user: { type: 'string', minLength: 1 },
        password: { type: 'string' },
        passwordFile: { type: 'string', minLength: 1, description: 'File holding the password (first line); preferred to "password".' },
        timeoutMs: { type: 'integer', minimum: 100 },
      },
    },
    sendmail: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', minLength: 1 },
        args: { type: 'array', items: { type: 'string' }, description: 'Arguments before the recipients; "-f <from>" is added.' },
      },
    },
    outboxDir: { type: 'string', minLength: 1, description: 'Where unsent messages wait (default <stateDir>/outbox).' },
    retry: {
      type: 'object',
      additionalProperties: false,
      properties: {
        attempts: { type: 'integer', minimum: 1, maximum: 10 },
        delayMs: { type: 'integer', minimum: 0 },
        maxDelayMs: { type: 'integer', minimum: 0 },
      },
    },
    expiryNoticeDays: { type: 'number', minimum: 1 },
    expiryNoticeRepeatDays: {
      type: 'number',
      minimum: 0,
      description: 'Days before a "will expire" notice about the same certificate is repeated (0: every run).',
    },
  },
} as const;

/** The plugin's options as a config gives them (checked against OPTIONS_SCHEMA first). */
export type RawEmailOptions = OptionsOf<typeof OPTIONS_SCHEMA>;

export type SmtpSettings = {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  servername?: string;
  ca?: string;
  caFile?: string;
  user?: string;
  /** Never logged, printed or mailed. */
  password?: string;
  timeoutMs: number;
};

export interface EmailSettings {
  to: string[];
  from: string;
  transport: { kind: 'smtp'; smtp: SmtpSettings } | { kind: 'sendmail'; path: string; args: string[] } | { kind: 'outbox' };
  outboxDir: string;
  retry: { attempts: number; delayMs: number; maxDelayMs: number };
  expiryNoticeDays: number;
  expiryNoticeRepeatDays: number;
  /** Where the repeat ledger of expiry notices is kept. */
  ledgerFile: string;
  /** Strings that must never appear in a message or a log line (the SMTP password). */
  secrets: string[];
}

/** Completes the options with the config's hostname and directories; a missing file is a UsageError naming it. */
export function settingsOf(raw: RawEmailOptions, config: Pick<CertsmithConfig, 'file' | 'hostname' | 'paths'>): EmailSettings {
  const where = `${config.file}: options of plugin "@certsmith/notify-email"`;
  const read = (field: string, path: string) => {
    const file = resolveConfigPath(config, path);
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError('CONFIG_INVALID', `${where}: ${field}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const kind = raw.transport ?? (raw.smtp ? 'smtp' : raw.sendmail ? 'sendmail' : 'outbox');
  let transport: EmailSettings['transport'];
  const secrets: string[] = [];
  if (kind === 'smtp') {
    const s = raw.smtp;
    if (!s) throw new UsageError('CONFIG_INVALID', `${where}: transport "smtp" needs an "smtp" object with at least "host"`);
    if (s.password !== undefined && s.passwordFile !== undefined)
      throw new UsageError('CONFIG_INVALID', `${where}: smtp: give "password" or "passwordFile", not both`);
    const password = s.passwordFile ? read('smtp.passwordFile', s.passwordFile).split(/\r?\n/)[0] : s.password;
    if (password && !s.user) throw new UsageError('CONFIG_INVALID', `${where}: smtp: a password needs a "user"`);
    if (password) secrets.push(password);
    const security = s.security ?? (s.port === 465 ? 'tls' : 'starttls');
    transport = {
      kind: 'smtp',
      smtp: {
        host: s.host,
        port: s.port ?? (security === 'tls' ? 465 : 587),
        security,
        servername: s.servername,
        ca: s.caFile ? read('smtp.caFile', s.caFile) : undefined,
        caFile: s.caFile ? resolveConfigPath(config, s.caFile) : undefined,
        user: s.user,
        password,
        timeoutMs: s.timeoutMs ?? 10_000,
      },
    };
  } else if (kind === 'sendmail') {
    transport = { kind: 'sendmail', path: raw.sendmail?.path ?? '/usr/sbin/sendmail', args: raw.sendmail?.args ?? [] };
  } else {
    transport = { kind: 'outbox' };
  }
  return {
    to: raw.to === undefined ? [`root@${config.hostname}`] : Array.isArray(raw.to) ? raw.to : [raw.to],
    from: raw.from ?? `certsmith@${config.hostname}`,
    transport,
    outboxDir: raw.outboxDir ? resolveConfigPath(config, raw.outboxDir) : `${config.paths.stateDir}/outbox`,
    retry: { attempts: raw.retry?.attempts ?? 3, delayMs: raw.retry?.delayMs ?? 2_000, maxDelayMs: raw.retry?.maxDelayMs ?? 30_000 },
    expiryNoticeDays: raw.expiryNoticeDays ?? 30,
    expiryNoticeRepeatDays: raw.expiryNoticeRepeatDays ?? 7,
    ledgerFile: `${config.paths.stateDir}/notify-email/expiry-notices.json`,
    secrets,
  };
}
