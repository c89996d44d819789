import { authorizationLine, type Bus, type CertificateSummary, type Defect } from '@certsmith/core';

export interface HumanLogOptions {
  verbose: boolean;
  now: Date;
  /** Names per target id, for the "Analyzing" header. */
  names: Map<string, string[]>;
  /** Stream lines as they come (one target at a time); otherwise each target's block is printed when it is done. */
  stream: boolean;
}

/**
 * Prints the lifecycle as cPanel's checkallsslcerts log reads, so administrators recognise it. Targets run
 * concurrently; their lines are kept together per target so that the log reads target by target.
 */
export class HumanLog {
  private readonly blocks = new Map<string, string[]>();

  constructor(
    private readonly bus: Bus,
    private readonly out: (line: string) => void,
    private readonly options: HumanLogOptions,
  ) {}

  attach(): void {
    const { bus, options } = this;
    bus.on('inspect', (e) => {
      const line = (text: string) => this.line(e.target, text);
      line(`  Service ${e.service}:`);
      if (e.files.length) line(`    Files: ${e.files.join(', ')}`);
      for (const live of e.live) {
        const other = live.ok && e.summary && live.fingerprint !== e.summary.fingerprint ? ' (not the certificate in the files)' : '';
        line(`    Live ${live.endpoint}: ${live.ok ? `sha256 ${live.fingerprint?.slice(0, 16)}…${other}` : live.error}`);
      }
      if (e.summary) this.certificate(e.target, e.summary);
      if (options.verbose && e.chain.length) line(`    Chain: ${e.chain.map((c) => `${c.subject} (expires ${c.notAfter.slice(0, 10)})`).join(' → ')}`);
      line(`    TLS Status: ${e.status}`);
      for (const defect of e.defects) this.defect(e.target, defect);
      if (e.action !== 'keep') line(`    Action: ${e.action === 'replace' ? 'replace the certificate' : 'request a CA-signed certificate'}`);
    });
    bus.on('dcv-created', (e) => {
      if (options.verbose) this.line(e.target, `  DCV (${e.method}) for ${e.name}: ${e.where}`);
    });
    bus.on('dns-resolved', (e) => {
      // DNS events carry no target: they belong to whichever target is resolving, shown in verbose mode only.
      if (options.verbose) this.out(`  DNS ${e.name}: ${e.addresses.join(', ') || 'no address'} (via ${e.path.join(' → ')})`);
    });
    bus.on('validated', (e) => {
      const kind = e.over === 'dns' ? 'DNS' : 'HTTP';
      if (e.method === 'config') {
        this.line(e.target, `  Excluded: ${e.name} (${e.reason})`);
      } else if (e.method === 'caa') {
        // A name CAA forbids is always shown; one it allows (or that is not checked) in verbose mode only.
        if (!e.ok) this.line(e.target, `  CAA: ${e.reason}`);
        else if (options.verbose) this.line(e.target, `  CAA OK: ${e.name} (${e.reason})`);
      } else if (e.ok) {
        this.line(e.target, `  Local ${kind} DCV OK: ${e.name}${e.via ? ` (via ${e.via})` : ''}`);
        // A followed redirect is worth knowing even when the name passed.
        if (e.reason) this.line(e.target, `    ${e.reason.replace(/^followed /, '')}`);
      } else {
        this.line(e.target, `  Local ${kind} DCV error (${e.name}): ${e.reason}`);
      }
    });
    bus.on('issued', (e) => {
      if (e.status === 'pending') {
        this.line(e.target, `  Order pending at "${e.issuer}": ${e.order}${e.detail ? ` (${e.detail})` : ''}`);
        for (const authorization of e.authorizations ?? []) this.line(e.target, `    ${authorizationLine(authorization)}`);
        if (e.heldBy) this.line(e.target, `    order held by: ${e.heldBy}`);
      } else
        this.line(
          e.target,
          `  Issued by "${e.issuer}"${e.profile ? ` (profile ${e.profile})` : ''}: ${e.selfSigned ? 'self-signed ' : ''}certificate for ${e.summary.names.join(', ')}, expires ${e.summary.notAfter}`,
        );
    });
    bus.on('installed', (e) => {
      this.line(
        e.target,
        `  Installed for ${e.service}: ${e.files.join(', ')}${e.reloaded ? ' (service reloaded)' : ''}${e.live.length ? `, live on ${e.live.map((l) => l.endpoint).join(', ')}` : ''}`,
      );
    });
    bus.on('failed', (e) => {
      const where = [e.stage, e.issuer && `issuer ${e.issuer}`, e.service && `service ${e.service}`, e.name].filter(Boolean).join(', ');
      this.line(e.target, `  ${e.severity === 'error' ? 'Error' : 'Warning'} (${where}): ${e.code}: ${e.message} → ${e.next}`);
    });
  }

  /** Prints what is buffered for a target (called when the pipeline is done with it). */
  flush(target: string): void {
    const block = this.blocks.get(target);
    if (!block) return;
    this.blocks.delete(target);
    if (!this.options.stream) for (const text of block) this.out(text);
  }

  /** Prints every target still buffered (end of run). */
  flushAll(): void {
    for (const target of [...this.blocks.keys()]) this.flush(target);
  }

  private line(target: string, text: string): void {
    let block = this.blocks.get(target);
    if (!block) {
      const names = this.options.names.get(target) ?? [target];
      block = [];
      this.blocks.set(target, block);
      this.emit(block, '');
      this.emit(block, `Analyzing "${names[0]}"${names.length > 1 ? ` (and ${names.slice(1).join(', ')})` : ''} ...`);
    }
    this.emit(block, text);
  }

  private emit(block: string[], text: string): void {
    if (this.options.stream) this.out(text);
    block.push(text);
  }

  private certificate(target: string, s: CertificateSummary): void {
    const days = (new Date(s.notAfter).getTime() - this.options.now.getTime()) / 86_400_000;
    this.line(target, `    Certificate expiry: ${s.notAfter.replace('T', ' ').replace(/\.\d+Z$/, '')} UTC (${days.toFixed(2)} days from now)`);
    if (!this.options.verbose) return;
    this.line(target, `    Subject: ${s.subject}`);
    this.line(target, `    Names: ${s.names.join(', ') || '(no SAN)'}`);
    this.line(target, `    Issuer: ${s.issuer}`);
    this.line(target, `    Serial: ${s.serial}; key ${s.key}; signature ${s.signatureAlgorithm}`);
    this.line(target, `    SHA-256: ${s.fingerprint}`);
  }

  private defect(target: string, d: Defect): void {
    if (d.severity === 'info' && !this.options.verbose) return;
    const label = d.severity === 'warning' ? 'Warning' : d.severity === 'info' ? 'Note' : 'Defect';
    this.line(target, `    ${label}: ${defectLine(d)}${d.cpanel ? ` [${d.cpanel}]` : ''}`);
  }
}

/**
 * `CODE: where: what`, the file named once: a file's defect code carries its path (`INVALID_KEY:/path`, kept so in
 * the JSON report) and its message starts with it.
 */
export function defectLine(d: Pick<Defect, 'code' | 'message'>): string {
  const colon = d.code.indexOf(':');
  if (colon > 0 && d.message.startsWith(`${d.code.slice(colon + 1)}: `)) return `${d.code.slice(0, colon)}: ${d.message}`;
  return `${d.code}: ${d.message}`;
}
