import { normalizeName, type DnsRecord } from '../wire.js';
import { signaturesOver, verifyRrset } from './rrset.js';
import type { DnskeyData, Verdict } from './types.js';

/** The parent's proof, in a referral without DS, that the child's DS does not exist. */
export interface DsAbsenceProof {
  /** NSEC records the referral carried, with the RRSIGs of its authority section. */
  nsec: DnsRecord[];
  signatures: DnsRecord[];
  /** Whether it carried NSEC3 records instead (their proof is not checked yet). */
  nsec3: boolean;
}

/**
 * Checks that `child`'s delegation is proven unsigned (RFC 4035 section 5.2, RFC 6840 section 4.4): an NSEC at the
 * child's name, signed by the parent's keys, whose type bitmap has NS but neither DS nor SOA. Secure means the
 * absence is proven; `unsupported` is an NSEC3 proof, which is not checked yet.
 */
export function verifyDsAbsence(child: string, parent: string, proof: DsAbsenceProof, keys: DnskeyData[], now: Date): Verdict {
  const nsec = proof.nsec.filter((r) => r.type === 'NSEC' && normalizeName(r.name) === child);
  if (nsec.length === 0) {
    if (proof.nsec3) return { status: 'unsupported', reason: `no DS for ${child}; its NSEC3 proof is not checked yet` };
    return { status: 'bogus', reason: `no DS for ${child} and no NSEC proving there is none` };
  }
  const types = (nsec[0]!.data as { rrtypes?: string[] } | undefined)?.rrtypes ?? [];
  if (types.includes('DS')) return { status: 'bogus', reason: `the NSEC of ${child} lists a DS the referral left out` };
  if (!types.includes('NS') || types.includes('SOA')) return { status: 'bogus', reason: `the NSEC of ${child} is not that of a delegation` };
  const signed = verifyRrset({ name: child, type: 'NSEC', records: nsec, signatures: signaturesOver(proof.signatures, child, 'NSEC') }, parent, keys, now);
  return signed.status === 'secure' ? signed : { status: signed.status, reason: `NSEC proving no DS for ${child}: ${signed.reason}` };
}
