import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** One x509-limbo testcase, the fields the conformance runner reads (the corpus README describes them all). */
export interface LimboCase {
  id: string;
  features: string[] | null;
  description: string;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  expected_peer_name: { kind: 'DNS' | 'IP' | 'RFC822'; value: string } | null;
  expected_peer_names: { kind: 'DNS' | 'IP' | 'RFC822'; value: string }[] | null;
  extended_key_usage: string[];
  max_chain_depth: number | null;
  signature_algorithms: string[];
  key_usage: string[];
  crls: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
}

/** The vendored corpus: libs/x509/conformance/limbo.json.gz, the same path from src/ and from dist/. */
export const CORPUS_FILE = fileURLToPath(new URL('../../conformance/limbo.json.gz', import.meta.url));

export function loadCorpus(file = CORPUS_FILE): LimboCase[] {
  const limbo = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { testcases: LimboCase[] };
  return limbo.testcases;
}

/** The DNS names a case expects the peer to be valid for (certsmith's target names). */
export function peerNames(testcase: LimboCase): string[] {
  const all = [testcase.expected_peer_name, ...(testcase.expected_peer_names ?? [])].filter((n) => n !== null);
  return all.map((n) => n.value);
}

/** The case's validation time, or now when it names none. */
export function validationTime(testcase: LimboCase): Date {
  return testcase.validation_time ? new Date(testcase.validation_time) : new Date();
}
