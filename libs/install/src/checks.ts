import type { X509Certificate } from 'node:crypto';
import type { NewMaterial, Target } from '@certsmith/core';
import { nameCovers, parseCertificate, parsePem, privateKeyOf } from '@certsmith/x509';

/**
 * What is wrong with a certificate before it is written: the key must be its key, each chain certificate
 * must have signed the one before it, and the names must cover the target's primary name.
 * Returns one line per problem; empty when the material may be installed.
 */
export function materialProblems(material: NewMaterial, target: Target): string[] {
  const problems: string[] = [];
  const leafBlock = parsePem(material.certificatePem).find((b) => b.label === 'CERTIFICATE');
  if (!leafBlock) return ['the certificate text holds no PEM certificate'];
  let leaf: X509Certificate;
  try {
    // Through the run's parse cache: the pipeline has just parsed this certificate, and the chain is every target's.
    leaf = parseCertificate(leafBlock.der).x509;
  } catch (error) {
    return [`the certificate cannot be parsed (${(error as Error).message})`];
  }
  try {
    if (!leaf.checkPrivateKey(privateKeyOf(material.keyPem))) problems.push('the private key does not belong to the certificate');
  } catch (error) {
    problems.push(`the private key cannot be read (${(error as Error).message})`);
  }
  let child = leaf;
  for (const [index, pem] of material.chainPem.entries()) {
    const block = parsePem(pem).find((b) => b.label === 'CERTIFICATE');
    let parent: X509Certificate;
    try {
      if (!block) throw new Error('no PEM certificate');
      parent = parseCertificate(block.der).x509;
    } catch (error) {
      problems.push(`chain certificate ${index + 1} cannot be parsed (${(error as Error).message})`);
      break;
    }
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      problems.push(
        `chain certificate ${index + 1} (${(parent.subject ?? '').replace(/\n/g, ', ')}) did not sign ${index === 0 ? 'the certificate' : `chain certificate ${index}`}`,
      );
      break;
    }
    child = parent;
  }
  const primary = target.names[0];
  if (primary && !material.summary.names.some((n) => nameCovers(n, primary))) {
    problems.push(`the certificate's names (${material.summary.names.join(', ') || 'none'}) do not cover ${primary}`);
  }
  return problems;
}
