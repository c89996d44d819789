import { children, oidText, readTlv } from './der.js';
import type { CertificateStructure } from './certificate-structure.js';

/** Extension OIDs the path rules read. */
export const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extendedKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

export const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const ANY_EKU = '2.5.29.37.0';

/** basicConstraints: cA and pathLenConstraint; null without the extension. */
export function basicConstraints(cert: CertificateStructure): { ca: boolean; pathLen: number | null } | null {
  const ext = cert.extensions.get(EXT.basicConstraints);
  if (!ext) return null;
  const parts = children(ext.value, readTlv(ext.value, 0));
  let at = 0;
  let ca = false;
  if (parts[at]?.tag === 0x01) ca = ext.value[parts[at++]!.content] !== 0;
  const len = parts[at];
  let pathLen: number | null = null;
  if (len?.tag === 0x02) {
    pathLen = 0;
    for (let i = len.content; i < len.end; i++) pathLen = pathLen * 256 + ext.value[i]!;
  }
  return { ca, pathLen };
}

/** Whether key usage asserts keyCertSign (bit 5); null without the extension. */
export function keyCertSign(cert: CertificateStructure): boolean | null {
  const ext = cert.extensions.get(EXT.keyUsage);
  if (!ext) return null;
  const bits = readTlv(ext.value, 0);
  return bits.end - bits.content >= 2 && (ext.value[bits.content + 1]! & 0x04) !== 0;
}

/** The EKU OIDs; null without the extension. */
export function extendedKeyUsage(cert: CertificateStructure): string[] | null {
  const ext = cert.extensions.get(EXT.extendedKeyUsage);
  if (!ext) return null;
  return children(ext.value, readTlv(ext.value, 0)).map((t) => oidText(ext.value, t));
}

export function subjectKeyIdentifier(cert: CertificateStructure): Buffer | null {
  const ext = cert.extensions.get(EXT.subjectKeyIdentifier);
  if (!ext) return null;
  const octets = readTlv(ext.value, 0);
  return ext.value.subarray(octets.content, octets.end);
}

/** One GeneralName as its context tag (0x82 dNSName, 0x87 iPAddress, 0xa4 directoryName...) and content bytes. */
export interface GeneralName {
  tag: number;
  value: Buffer;
}

/** The SAN's names; null without the extension. */
export function subjectAltNames(cert: CertificateStructure): GeneralName[] | null {
  const ext = cert.extensions.get(EXT.subjectAltName);
  if (!ext) return null;
  return generalNames(ext.value, readTlv(ext.value, 0));
}

export function generalNames(der: Buffer, sequence: ReturnType<typeof readTlv>): GeneralName[] {
  return children(der, sequence).map((t) => ({ tag: t.tag, value: der.subarray(t.content, t.end) }));
}

/** Whether the AIA is a SEQUENCE of AccessDescription { OID, GeneralName }. */
export function wellFormedAia(cert: CertificateStructure): boolean {
  const ext = cert.extensions.get(EXT.authorityInfoAccess);
  if (!ext) return true;
  try {
    const seq = readTlv(ext.value, 0);
    if (seq.tag !== 0x30 || seq.end !== ext.value.length) return false;
    return children(ext.value, seq).every((access) => {
      const parts = access.tag === 0x30 ? children(ext.value, access) : [];
      return parts.length === 2 && parts[0]!.tag === 0x06 && (parts[1]!.tag & 0x80) !== 0;
    });
  } catch {
    return false;
  }
}
