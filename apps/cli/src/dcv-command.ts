import { RunReportCollector, issuerStateDir, caaPrecheck, comparableName, dcvCheckOptionsOf, hostnameTarget, readSwitches } from '@certsmith/core';
import { reportUsageError } from './command-line.js';
import { compose, pipelineOf, type Overrides } from './compose.js';
import { HumanLog } from './human-log.js';

/**
 * `certsmith dcv`: the local DCV pre-check alone, for every name of the hostname target, with the method of
 * the profile (HTTP file on full servers, DNS TXT on DNS-only ones), then the CAA check for the first CA of the
 * chain over the names that passed. Nothing is ordered. Exit 0 when every name passes both, 1 when one fails.
 */
export async function runDcv(options: { configFile: string; verbose: boolean; json: boolean; overrides?: Overrides }): Promise<number> {
  try {
    const composition = await compose(options.configFile, options.overrides);
    const { config, bus, clock, contributions } = composition;
    const target = hostnameTarget(config);
    const out = (line: string) => process.stdout.write(`${line}\n`);
    const report = new RunReportCollector(bus);
    const validations: { name: string; ok: boolean; reason?: string; via?: string; code?: string; warnings?: { code: string; message: string }[] }[] = [];
    bus.on('validated', (e) => validations.push({ name: e.name, ok: e.ok, reason: e.reason, via: e.via, code: e.code, warnings: e.warnings }));
    if (!options.json)
      new HumanLog(bus, out, { verbose: options.verbose, now: clock.now(), names: new Map([[target.id, target.names]]), stream: true }).attach();
    const pipeline = pipelineOf(composition, { switches: await readSwitches(config.paths.stateDir), report });
    const excluded = new Set(config.dcv.exclude.map(comparableName));
    const names = target.names.filter((n) => !excluded.has(comparableName(n)));
    for (const name of target.names.filter((n) => !names.includes(n))) {
      bus.emit('validated', { target: target.id, name, ok: false, method: 'config', reason: 'excluded by the configuration (dcv.exclude)' });
    }
    // Addresses are judged as the first CA in the chain that validates this way would pick them (cPanel's rule without one).
    const issuer = config.issuers.map((id) => contributions.issuers.find((i) => i.id === id)).find((i) => i?.trusted && i.precheck === config.dcv.method);
    // A CA that validates against a standing record (dns-persist-01): the record is proved too, for that CA's account.
    const checkOptions = issuer ? await dcvCheckOptionsOf(issuer, issuerStateDir(config, issuer.id)) : {};
    const passed = await pipeline.localDcv(target, names, config.dcv.method, AbortSignal.timeout(120_000), checkOptions);
    // CAA as the run would check it before ordering: for the first CA of the chain, over the names that passed.
    const ca = config.issuers.map((id) => contributions.issuers.find((i) => i.id === id)).find((i) => i?.trusted);
    let caa: { issuer: string; allowed: string[] | null } | null = null;
    if (ca && passed !== null && passed.length > 0) {
      const allowed = await caaPrecheck({
        bus,
        resolver: composition.resolver,
        issuer: ca,
        target,
        names: passed,
        signal: AbortSignal.timeout(120_000),
        next: 'the run would try the next issuer',
        requireAllNames: config.dcv.requireAllNames,
        issuerStateDir: issuerStateDir(config, ca.id),
        provedOver: config.dcv.method,
      });
      caa = { issuer: ca.id, allowed };
    }
    if (options.json)
      out(
        JSON.stringify(
          {
            method: config.dcv.method,
            ...(config.dcv.method === 'http' ? { addressPreference: issuer?.addressPreference ?? 'first' } : {}),
            ...(checkOptions.standing ? { standing: checkOptions.standing } : {}),
            names,
            passed,
            ...(caa ? { caa } : {}),
            validations,
          },
          null,
          2,
        ),
      );
    else {
      out(passed === null ? 'Local DCV could not run.' : `${passed.length} of ${names.length} name(s) passed local ${config.dcv.method.toUpperCase()} DCV.`);
      if (caa)
        out(
          caa.allowed === null
            ? `CAA forbids "${caa.issuer}" to issue for this target.`
            : `CAA allows "${caa.issuer}" ${caa.allowed.length} of ${passed!.length} of them.`,
        );
    }
    const caaOk = caa === null || (caa.allowed !== null && caa.allowed.length === passed!.length);
    return passed !== null && passed.length === names.length && caaOk ? 0 : 1;
  } catch (error) {
    return reportUsageError(error);
  }
}
