// `certsmith init`: writes a starting configuration for this server, every section explained in "$comment" members
// (JSON has no comments; the schema accepts "$comment" where this file puts one and certsmith ignores it).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, type ProfileName } from '@certsmith/core';
import { writeFileAtomic } from '@certsmith/core/atomic-file';
import { parseCommandLine, reportUsageError, usageError } from './command-line.js';

export const INIT_USAGE = `Usage: certsmith init [--profile full|dnsonly] [--config F] [--force]

Writes a starting configuration (default: $CERTSMITH_CONFIG or /etc/certsmith/config.json) for this server's
profile: dnsonly when cPanel marks the server DNS-only (/var/cpanel/dnsonly exists), else full. Each section is
explained in a "$comment" member. An existing file is never replaced without --force.`;

/** cPanel marks a DNS-only server with this file (docs/installing.md). */
export const DNSONLY_MARKER = '/var/cpanel/dnsonly';

/** The profile of this server: dnsonly when cPanel's DNS-only marker exists, else full. */
export function detectProfile(marker = DNSONLY_MARKER): ProfileName {
  return existsSync(marker) ? 'dnsonly' : 'full';
}

type Endpoint = { host: string; port: number; starttls?: string };

// The local ports cPanel's services listen on: a check handshakes with them to see the certificate they serve.
const SERVICES: Record<ProfileName, Record<string, { endpoints: Endpoint[] }>> = {
  full: {
    cpanel: { endpoints: [{ host: '127.0.0.1', port: 2083 }] },
    dovecot: {
      endpoints: [
        { host: '127.0.0.1', port: 993 },
        { host: '127.0.0.1', port: 143, starttls: 'imap' },
      ],
    },
    exim: {
      endpoints: [
        { host: '127.0.0.1', port: 465 },
        { host: '127.0.0.1', port: 25, starttls: 'smtp' },
      ],
    },
    ftp: { endpoints: [{ host: '127.0.0.1', port: 21, starttls: 'ftp' }] },
  },
  dnsonly: { cpanel: { endpoints: [{ host: '127.0.0.1', port: 2087 }] } },
};

/** The starting configuration of a profile, as the object written to the file. */
export function startingConfig(profile: ProfileName, serverName: string, schemaFile?: string): Record<string, unknown> {
  const dcv =
    profile === 'full'
      ? 'DCV: HTTP files under each name\'s document root (the full profile); set "requireAllNames" to fail a certificate when one name fails, "exclude" to leave names out.'
      : 'DCV: DNS TXT records (the dnsonly profile; give @certsmith/dcv-dns its "mode" options, "nsupdate" or "zonefile", in "plugins" to publish them); "requireAllNames" fails a certificate when one name fails, "exclude" leaves names out. A CA that offers dns-persist-01: "challengeTypes": ["dns-persist-01", "dns-01"] and its "caaIdentities" in the issuer\'s options publish one standing _validation-persist TXT record per name, once; renewals then publish nothing.';
  return {
    ...(schemaFile ? { $schema: schemaFile } : {}),
    $comment: [
      `certsmith configuration, written by \`certsmith init\` for a ${profile === 'full' ? 'full cPanel server' : 'cPanel DNS-only server'}. certsmith ignores every "$comment".`,
      'Check it with `certsmith check --dry-run`; the README of the repository lists every field and its default.',
      'profile: full (web server present: HTTP DCV; services cpanel, dovecot, exim, ftp) or dnsonly (DNS TXT DCV; service cpanel).',
      "hostname: the server's name: the first name of its own certificate (default: the system's hostname).",
      'names: more names for the hostname certificate.',
      'plugins: package names or paths (relative to this file) of plugins, added to the profile\'s; { "module": ..., "options": {...} } gives one options.',
      '  For a CA: { "module": "@certsmith/issuer-acme", "options": { "directoryUrl": "<the CA\'s ACME directory URL>", "contact": ["<e-mail>"] } } and "issuers": ["acme", "selfsigned"].',
      '  Notices go to <stateDir>/outbox until @certsmith/notify-email is given a mail transport ("smtp" or "sendmail") in its options.',
      'issuers: issuer ids in the order they are tried; "selfsigned" last, so that a service always gets a certificate.',
      'services: the services whose certificates are kept: their local endpoints (checked live), "reload" (a command; default: the systemd unit), false to drop one.',
      'concurrency: targets processed at once, and so the most orders in flight at a CA.',
    ],
    profile,
    hostname: serverName,
    names: [],
    paths: {
      $comment: 'stateDir: switch files, locks, accounts, pending orders; sslDir: the cPanel service layout; logDir: one JSON-lines event log per run.',
      stateDir: '/var/lib/certsmith',
      sslDir: '/var/cpanel/ssl',
      logDir: '/var/lib/certsmith/logs',
    },
    plugins: [],
    issuers: ['selfsigned'],
    services: SERVICES[profile],
    inspection: {
      $comment:
        'A certificate is replaced when it expires in under providerThresholdDays (issued by a provider: cPanel, Sectigo, Let\'s Encrypt) or otherThresholdDays (any other issuer); "live" handshakes with the endpoints; timeoutMs bounds each handshake.',
      providerThresholdDays: 25,
      otherThresholdDays: 3,
      live: true,
      timeoutMs: 10000,
    },
    key: { $comment: 'The key of each new certificate: ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072 or rsa-4096.', type: 'ecdsa-p256' },
    dcv: { $comment: dcv, requireAllNames: false, exclude: [] },
    retry: {
      $comment:
        'With --allow-retry, a pending order is checked again delayMinutes later (at queue); one pending longer than abandonPendingAfterHours is ordered again without the names that held it.',
      delayMinutes: 60,
      abandonPendingAfterHours: 72,
    },
    log: { $comment: 'Days the per-run event logs are kept.', keepDays: 30 },
    concurrency: 4,
  };
}

/** `certsmith init`: returns the exit code. */
export async function runInit(argv: string[]): Promise<number> {
  const usage = (message: string) => reportUsageError(usageError(message, 'certsmith init --help'));
  let values;
  try {
    ({ values } = parseCommandLine(
      argv,
      { profile: { type: 'string' }, config: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      'certsmith init --help',
    ));
  } catch (error) {
    return reportUsageError(error);
  }
  if (values.help) {
    process.stdout.write(`${INIT_USAGE}\n`);
    return 0;
  }
  if (values.profile !== undefined && values.profile !== 'full' && values.profile !== 'dnsonly') {
    return usage(`--profile: must be full or dnsonly, not "${values.profile}"`);
  }
  const profile = values.profile ?? detectProfile();
  const file = resolve(values.config ?? process.env.CERTSMITH_CONFIG ?? '/etc/certsmith/config.json');
  if (!values.force && existsSync(file)) return exists(file);
  const text = `${JSON.stringify(startingConfig(profile, hostname().toLowerCase(), shippedSchema()), null, 2)}\n`;
  try {
    await writeWhole(file, text, values.force ?? false);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return exists(file);
    return reportUsageError(new UsageError('CONFIG_UNWRITABLE', `${file}: cannot write (${code ?? (error as Error).message})`));
  }
  const how = values.profile ? 'as asked' : profile === 'dnsonly' ? `${DNSONLY_MARKER} exists` : `no ${DNSONLY_MARKER}`;
  process.stdout.write(`certsmith init: wrote ${file} (profile ${profile}: ${how}); next: certsmith check --dry-run --config ${file}\n`);
  return 0;
}

/**
 * Writes the file whole or not at all: a temporary file beside it, then linked into place (which fails when the file
 * appeared meanwhile) or, with --force, renamed over it. 0600: a config may come to hold a mail password or an EAB key.
 */
async function writeWhole(file: string, text: string, replace: boolean): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  await writeFileAtomic(file, text, { mode: 0o600, exclusive: !replace });
}

/** The JSON Schema the installed package ships beside its program (dist/config.schema.json), when there is one. */
function shippedSchema(): string | undefined {
  const file = fileURLToPath(new URL('../config.schema.json', import.meta.url));
  return existsSync(file) ? file : undefined;
}

function exists(file: string): number {
  return reportUsageError(new UsageError('CONFIG_EXISTS', `${file}: exists; not replaced`, { hint: '--force replaces it' }));
}
