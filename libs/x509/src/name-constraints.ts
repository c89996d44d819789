import type { CertificateStructure } from './certificate-structure.js';
import type { Problem } from './certificate-rules.js';
import { children, readTlv } from './der.js';
import { EXT, subjectAltNames, type GeneralName } from './x509-extensions.js';

const DNS = 0x82;
const IP = 0x87;
const DIRECTORY = 0xa4;
/** Names times constraints beyond which a path is refused instead of checked (a quadratic check is a denial of service). */
const MAX_CHECKS = 1 << 20;

interface Constraints {
  permitted: GeneralName[];
  excluded: GeneralName[];
}

const cache = new WeakMap<CertificateStructure, Constraints | null>();

/** A CA's name constraints (RFC 5280 4.2.1.10), null without the extension. Throws on a malformed one. */
function constraintsOf(cert: CertificateStructure): Constraints | null {
  if (cache.has(cert)) return cache.get(cert)!;
  const ext = cert.extensions.get(EXT.nameConstraints);
  let out: Constraints | null = null;
  if (ext) {
    out = { permitted: [], excluded: [] };
    for (const subtrees of children(ext.value, readTlv(ext.value, 0))) {
      const list = subtrees.tag === 0xa0 ? out.permitted : subtrees.tag === 0xa1 ? out.excluded : null;
      if (!list) throw new RangeError('unexpected field in name constraints');
      for (const subtree of children(ext.value, subtrees)) {
        const [base, ...bounds] = children(ext.value, subtree);
        if (!base || bounds.length) throw new RangeError('minimum or maximum in a subtree');
        list.push({ tag: base.tag, value: ext.value.subarray(base.content, base.end) });
      }
    }
  }
  cache.set(cert, out);
  return out;
}

/** What is wrong with a CA's name constraints extension itself, as the Web PKI reads it. */
export function nameConstraintsProblem(cert: CertificateStructure): Problem | null {
  let constraints: Constraints | null;
  try {
    constraints = constraintsOf(cert);
  } catch {
    return { name: 'SUBTREE_MINMAX', code: 49, reason: 'the name constraints are malformed or use minimum/maximum' };
  }
  if (!constraints) return null;
  if (constraints.permitted.length + constraints.excluded.length === 0) {
    return { name: 'INVALID_EXTENSION', code: 41, reason: 'the name constraints have neither permitted nor excluded subtrees' };
  }
  for (const base of [...constraints.permitted, ...constraints.excluded]) {
    const text = base.value.toString('latin1');
    if (base.tag === DNS && (text.includes('*') || text.startsWith('.'))) {
      return { name: 'UNSUPPORTED_CONSTRAINT_SYNTAX', code: 52, reason: `the dNSName constraint "${text}" is not a domain name` };
    }
    if (base.tag === IP && !validMask(base.value)) {
      return { name: 'UNSUPPORTED_CONSTRAINT_SYNTAX', code: 52, reason: 'an iPAddress constraint is not an address and a contiguous mask' };
    }
  }
  return null;
}

/**
 * Whether `cert` (below `ca` in the path) breaks `ca`'s name constraints: its SAN's DNS names, IP addresses and its
 * subject DN (directoryName). Other name types under a constraint of their type are refused: certsmith cannot
 * judge them, and a server certificate does not need them.
 */
export function nameConstraintViolation(ca: CertificateStructure, cert: CertificateStructure): Problem | null {
  let constraints: Constraints | null;
  try {
    constraints = constraintsOf(ca);
  } catch {
    return null; // reported for the CA itself by nameConstraintsProblem
  }
  if (!constraints) return null;
  let names: GeneralName[];
  try {
    names = subjectAltNames(cert) ?? [];
  } catch {
    return { name: 'UNSUPPORTED_NAME_SYNTAX', code: 53, reason: 'the subjectAltName cannot be decoded to check it against name constraints' };
  }
  if (!cert.subjectEmpty) names.push({ tag: DIRECTORY, value: cert.subject });
  if (names.length * (constraints.permitted.length + constraints.excluded.length) > MAX_CHECKS) {
    return { name: 'TOO_MANY_NAME_CONSTRAINT_CHECKS', code: null, reason: 'too many names against too many name constraints to check' };
  }
  for (const name of names) {
    if (name.tag === DNS && !dnsSyntax(name.value.toString('latin1'))) {
      return {
        name: 'UNSUPPORTED_NAME_SYNTAX',
        code: 53,
        reason: `the name "${name.value.toString('latin1')}" is not a DNS name and cannot be checked against name constraints`,
      };
    }
    const excluded = constraints.excluded.find((c) => c.tag === name.tag && (excludes(c, name) ?? true));
    if (excluded) return violation('EXCLUDED_VIOLATION', 48, name, 'falls in an excluded subtree');
    const permitted = constraints.permitted.filter((c) => c.tag === name.tag);
    if (permitted.length && !permitted.some((c) => permits(c, name) ?? false))
      return violation('PERMITTED_VIOLATION', 47, name, 'is outside the permitted subtrees');
  }
  return null;
}

function violation(name: string, code: number, general: GeneralName, what: string): Problem {
  const text =
    general.tag === DNS
      ? `the name "${general.value.toString('latin1')}"`
      : general.tag === IP
        ? 'an IP address'
        : general.tag === DIRECTORY
          ? 'the subject'
          : 'a name';
  return { name, code, reason: `${text} ${what} of an issuing CA's name constraints` };
}

/** Whether the constraint covers the name; null for a name type certsmith does not judge. */
function permits(constraint: GeneralName, name: GeneralName): boolean | null {
  switch (name.tag) {
    case DNS:
      return dnsWithin(name.value.toString('latin1').toLowerCase(), constraint.value.toString('latin1').toLowerCase());
    case IP:
      return ipWithin(name.value, constraint.value);
    case DIRECTORY:
      return dnWithin(name.value, constraint.value);
    default:
      return null;
  }
}

/** As permits, but a wildcard name is excluded when it could stand for an excluded name. */
function excludes(constraint: GeneralName, name: GeneralName): boolean | null {
  if (name.tag !== DNS) return permits(constraint, name);
  const host = name.value.toString('latin1').toLowerCase();
  const base = constraint.value.toString('latin1').toLowerCase();
  if (dnsWithin(host, base)) return true;
  return host.startsWith('*.') && (base.slice(base.indexOf('.') + 1) === host.slice(2) || dnsWithin(host.slice(2), base));
}

/** RFC 5280: a name is within a DNS subtree when it is the base or ends with "." + base; an empty base is everything. */
function dnsWithin(name: string, base: string): boolean {
  return base === '' || name === base || name.endsWith(`.${base}`);
}

function ipWithin(address: Buffer, constraint: Buffer): boolean {
  if (constraint.length !== address.length * 2) return false;
  for (let i = 0; i < address.length; i++) {
    const mask = constraint[address.length + i]!;
    if ((address[i]! & mask) !== (constraint[i]! & mask)) return false;
  }
  return true;
}

/** A DN (a Name's DER) is within a directoryName subtree when the subtree's RDNs are its first RDNs, byte for byte. */
function dnWithin(subject: Buffer, constraint: Buffer): boolean {
  const rdns = children(subject, readTlv(subject, 0));
  const wanted = children(constraint, readTlv(constraint, 0));
  if (wanted.length > rdns.length) return false;
  return wanted.every((rdn, i) => constraint.subarray(rdn.start, rdn.end).equals(subject.subarray(rdns[i]!.start, rdns[i]!.end)));
}

/** LDH labels, the first of which may be a wildcard. */
function dnsSyntax(name: string): boolean {
  return name.split('.').every((label, i) => (i === 0 && label === '*') || /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

function validMask(value: Buffer): boolean {
  if (value.length !== 8 && value.length !== 32) return false;
  const mask = value.subarray(value.length / 2);
  let ended = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set && ended) return false;
      if (!set) ended = true;
    }
  }
  return true;
}
