import type { Bus, CertificateSummary, Defect } from '@certsmith/core';

/** Prints the lifecycle as cPanel's checkallsslcerts log reads, so administrators recognise it. */
export class HumanLog {
  constructor(
    private readonly bus: Bus,
    private readonly out: (line: string) => void,
    private readonly options: { verbose: boolean; now: Date; names: Map<string, string[]> },
  ) {}

  attach(): void {
    const { bus, out, options } = this;
    let lastTarget = '';
    bus.on('inspect', (e) => {
      if (e.target !== lastTarget) {
        lastTarget = e.target;
        out('');
        const names = options.names.get(e.target) ?? [e.target];
        out(`Analyzing "${names[0]}"${names.length > 1 ? ` (and ${names.slice(1).join(', ')})` : ''} ...`);
      }
      out(`  Service ${e.service}:`);
      if (e.files.length) out(`    Files: ${e.files.join(', ')}`);
      for (const live of e.live) out(`    Live ${live.endpoint}: ${live.ok ? `sha256 ${live.fingerprint?.slice(0, 16)}…` : live.error}`);
      if (e.summary) this.certificate(e.summary);
      out(`    TLS Status: ${e.status}`);
      for (const defect of e.defects) this.defect(defect);
      if (e.action !== 'keep') out(`    Action: ${e.action === 'replace' ? 'replace the certificate' : 'request a CA-signed certificate'}`);
    });
    bus.on('dcv-created', (e) => {
      if (options.verbose) out(`  DCV (${e.method}) for ${e.name}: ${e.where}`);
    });
    bus.on('dns-resolved', (e) => {
      if (options.verbose) out(`  DNS ${e.name}: ${e.addresses.join(', ') || 'no address'} (via ${e.path.join(' → ')})`);
    });
    bus.on('validated', (e) => {
      const kind = e.method.startsWith('dns') ? 'DNS' : 'HTTP';
      if (e.method === 'config') out(`  Excluded: ${e.name} (${e.reason})`);
      else if (e.ok) out(`  Local ${kind} DCV OK: ${e.name}${e.via ? ` (via ${e.via})` : ''}`);
      else out(`  Local ${kind} DCV error (${e.name}): ${e.reason}`);
    });
    bus.on('issued', (e) => {
      if (e.status === 'pending') out(`  Order pending at "${e.issuer}": ${e.order}${e.detail ? ` (${e.detail})` : ''}`);
      else out(`  Issued by "${e.issuer}": ${e.selfSigned ? 'self-signed ' : ''}certificate for ${e.summary.names.join(', ')}, expires ${e.summary.notAfter}`);
    });
    bus.on('installed', (e) => {
      out(`  Installed for ${e.service}: ${e.files.join(', ')}${e.reloaded ? ' (service reloaded)' : ''}${e.live.length ? `, live on ${e.live.map((l) => l.endpoint).join(', ')}` : ''}`);
    });
    bus.on('failed', (e) => {
      const where = [e.stage, e.issuer && `issuer ${e.issuer}`, e.service && `service ${e.service}`, e.name].filter(Boolean).join(', ');
      out(`  ${e.severity === 'error' ? 'Error' : 'Warning'} (${where}): ${e.code}: ${e.message} → ${e.next}`);
    });
  }

  private certificate(s: CertificateSummary): void {
    const days = (new Date(s.notAfter).getTime() - this.options.now.getTime()) / 86_400_000;
    this.out(`    Certificate expiry: ${s.notAfter.replace('T', ' ').replace(/\.\d+Z$/, '')} UTC (${days.toFixed(2)} days from now)`);
    if (!this.options.verbose) return;
    this.out(`    Subject: ${s.subject}`);
    this.out(`    Names: ${s.names.join(', ') || '(no SAN)'}`);
    this.out(`    Issuer: ${s.issuer}`);
    this.out(`    Serial: ${s.serial}; key ${s.key}; signature ${s.signatureAlgorithm}`);
    this.out(`    SHA-256: ${s.fingerprint}`);
  }

  private defect(d: Defect): void {
    if (d.severity === 'info' && !this.options.verbose) return;
    const label = d.severity === 'warning' ? 'Warning' : d.severity === 'info' ? 'Note' : 'Defect';
    this.out(`    ${label}: ${d.code}: ${d.message}${d.cpanel ? ` [${d.cpanel}]` : ''}`);
  }
}
