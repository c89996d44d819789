import { readFileSync } from 'node:fs';
import { CertsmithError } from '@certsmith/core';

/**
 * Numeric ids of a user or group by name, from /etc/passwd and /etc/group (Node has no getpwnam).
 * A number given as a string is taken as is, so a config may name "Debian-exim" or "105".
 */
export function uidOf(name: string, file = '/etc/passwd'): number {
  return lookup(name, file, 'user');
}

export function gidOf(name: string, file = '/etc/group'): number {
  return lookup(name, file, 'group');
}

function lookup(name: string, file: string, kind: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // an unreadable account file is the same as a missing name
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  throw new CertsmithError('INSTALL_UNKNOWN_ACCOUNT', `no ${kind} named "${name}" in ${file}`);
}
