/** One block of a PEM file: its label and the DER it carries. */
export interface PemBlock {
  label: string;
  der: Buffer;
}

const BEGIN = /-----BEGIN ([A-Z0-9 ]{1,64})-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Splits PEM text into blocks; text between blocks is ignored, as OpenSSL does. Linear in the text: a label whose
 * END line is missing is remembered, so a hostile file of many BEGIN lines cannot make this quadratic.
 */
export function parsePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const unterminated = new Set<string>();
  BEGIN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = BEGIN.exec(text)) !== null) {
    const label = match[1]!;
    if (unterminated.has(label)) continue;
    const end = `-----END ${label}-----`;
    const bodyStart = match.index + match[0].length;
    const endAt = text.indexOf(end, bodyStart);
    if (endAt < 0) {
      unterminated.add(label);
      continue;
    }
    const raw = text.slice(bodyStart, endAt);
    BEGIN.lastIndex = endAt + end.length;
    // RFC 1421 headers (Proc-Type, DEK-Info) precede the base64 of legacy encrypted keys.
    const body = (raw.includes(':') ? raw.replace(/^[A-Za-z-]+:.*$/gm, '') : raw).replace(/\s+/g, '');
    if (!BASE64.test(body)) continue;
    blocks.push({ label, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
