// How the built CLI paces its looks at an order, against the testlab's issuing ACME double, which validates http-01
// through the lab's nginx after a delay: with `Retry-After`, no look comes sooner than the CA said (measured on the
// double's own clock, between the arrivals of requests); without it, the first look comes after one short step and
// the looks back off from there. What is asserted is the order of events and their spacing as the CA asked for it,
// not how fast anything ran.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startAcmeLab, startIssuingAcmeDouble, type AcmeLab, type IssuingAcmeDouble } from '@certsmith/testlab';

const ZONE = `pace-${randomBytes(3).toString('hex')}.example.test`;
const HOST = `host.${ZONE}`;
const EAB = { kid: 'kid-1', hmacKey: randomBytes(32).toString('base64url') };
const VALIDATION_MS = 1_500;

let lab: AcmeLab;
let double: IssuingAcmeDouble;

beforeAll(async () => {
  lab = await startAcmeLab({ name: 'acme-pacing-e2e', webNames: [HOST], pointedNames: [HOST], pebble: false });
  double = await startIssuingAcmeDouble({
    validation: { http01: { address: lab.nginx.address, port: lab.nginx.httpPort } },
    validationDelayMs: VALIDATION_MS,
    ari: false,
  });
}, 120_000);

afterAll(async () => {
  await double?.stop();
  await lab?.stop();
});

/** One run of its own (fresh state and ssl dirs); the requests the double received during it. */
async function runOnce(name: string) {
  const file = await lab.writeConfig(name, {
    profile: 'full',
    hostname: HOST,
    names: [],
    services: { exim: false, ftp: false, cpanel: false },
    plugins: [
      lab.httpDcvPlugin,
      {
        module: '@certsmith/issuer-acme',
        options: { ...(await lab.acmeIssuerOptions(name, { ca: double, eab: EAB })), issuerPatterns: [double.issuerPattern] },
      },
    ],
    issuers: ['acme'],
  });
  const from = double.requests.length;
  const result = await runCli(['check', '--config', file], { env: { SSL_CERT_FILE: double.rootFile } });
  const requests = double.requests.slice(from);
  const answered = requests.filter((r) => r.path.startsWith('/chall/')).at(-1)!;
  const finalized = requests.find((r) => r.path.startsWith('/finalize/'))!;
  // The looks at the order between the answer to its challenge and its finalization: the waiting for validation.
  const looks = requests.filter((r) => r.path.startsWith('/order/') && r.at >= answered.at && r.at <= finalized.at);
  return { result, answered, looks };
}

describe('certsmith check: looking at an order the CA is still validating', { timeout: 120_000 }, () => {
  it("never looks sooner than the CA's Retry-After, from the answer to the challenge on", async () => {
    double.behave({ retryAfterSeconds: 1 });
    const { result, answered, looks } = await runOnce('retry-after');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Issued by "acme"`);
    expect(looks.length).toBeGreaterThanOrEqual(2); // validation takes 1.5 s: pending at the first look
    const arrivals = [answered.at, ...looks.map((l) => l.at)];
    const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1_000);
  });

  it('without Retry-After looks after one short step and again while the CA validates, more often than a Retry-After of 1 s would allow', async () => {
    double.behave({ retryAfterSeconds: undefined });
    const { result, answered, looks } = await runOnce('own-pace');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Issued by "acme"`);
    // 25, 50, 100, 200, 400, 800 ms apart: several looks within the 1.5 s of validation, where a Retry-After of 1 s
    // allows two.
    expect(looks.length).toBeGreaterThanOrEqual(3);
    expect(looks[0]!.at).toBeGreaterThan(answered.at);
  });
});
