import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun } from './process.js';

/**
 * Test certificates made with the openssl command line at test time (none are committed, so none expire in
 * the repository). A LabCa is a real `openssl ca` directory: its index.txt feeds `openssl ocsp` and `-gencrl`.
 */
export interface LabCert {
  name: string;
  certFile: string;
  keyFile: string;
  /** Certificate PEM (the leaf alone). */
  certPem: string;
  keyPem: string;
  /** Serial in uppercase hex as openssl prints it. */
  serial: string;
}

export interface LabCa extends LabCert {
  dir: string;
  /** The issuing chain above this CA (intermediates first), PEM; empty for a root. */
  chainPem: string;
  issue(name: string, options?: IssueOptions): Promise<LabCert>;
  /** Makes an intermediate CA signed by this one. */
  intermediate(name: string, options?: { cn?: string; days?: number; ocspUrl?: string; crlUrl?: string }): Promise<LabCa>;
  /** Marks a certificate revoked in index.txt (keyCompromise). */
  revoke(cert: LabCert): Promise<void>;
  /** Writes a DER CRL of this CA to `file`. */
  crl(file: string, options?: { days?: number }): Promise<void>;
}

export interface IssueOptions {
  /** Subject CN; defaults to the name. */
  cn?: string;
  /** DNS names of the SAN; null for no SAN extension. Defaults to [cn]. */
  san?: string[] | null;
  /** Extended key usages; null for no EKU extension. Defaults to ['serverAuth']. */
  eku?: string[] | null;
  /** Key: 'ec' (P-256, default), 'ec-p384', 'rsa-1024', 'rsa-2048'. */
  key?: 'ec' | 'ec-p384' | 'rsa-1024' | 'rsa-2048';
  /** Signature digest, default sha256. */
  md?: 'sha256' | 'sha1' | 'sha384';
  /** Validity: days from now (default 90), or explicit start/end. */
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
  ocspUrl?: string;
  crlUrl?: string;
  /** Issuer-signed but kept out of index.txt, so the OCSP responder answers "unknown". */
  unlisted?: boolean;
  /** Extra extension lines (openssl x509v3 config syntax). */
  extensions?: string[];
  /**
   * An empty subject DN with the names only in a critical SAN, as Let's Encrypt's short-lived profiles issue them.
   * Signed without the CA database, as `unlisted` is.
   */
  emptySubject?: boolean;
}

const KEY_ARGS: Record<NonNullable<IssueOptions['key']>, string[]> = {
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'ec-p384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  'rsa-1024': ['-newkey', 'rsa:1024'],
  'rsa-2048': ['-newkey', 'rsa:2048'],
};

/** openssl ca's time format (GeneralizedTime). */
function gtime(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function caConfig(dir: string): string {
  return `[ca]
default_ca = labca
[labca]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
default_days = 90
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[policy_any]
commonName = supplied
organizationName = optional
emailAddress = optional
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused
`;
}

function extensionText(lines: string[]): string {
  return `[ext]\n${lines.join('\n')}\n`;
}

function aiaLines(ocspUrl?: string, crlUrl?: string): string[] {
  const lines: string[] = [];
  if (ocspUrl) lines.push(`authorityInfoAccess = OCSP;URI:${ocspUrl}`);
  if (crlUrl) lines.push(`crlDistributionPoints = URI:${crlUrl}`);
  return lines;
}

/** Makes a root CA (P-256) in `dir`, ready to issue. */
export async function createCa(dir: string, options: { cn?: string; days?: number; key?: IssueOptions['key'] } = {}): Promise<LabCa> {
  await prepareCaDir(dir);
  const keyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'ca.crt');
  const ext = join(dir, 'root-ext.cnf');
  await writeFile(ext, extensionText(['basicConstraints = critical,CA:true', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash']));
  await mustRun('openssl', [
    'req',
    '-x509',
    ...KEY_ARGS[options.key ?? 'ec'],
    '-nodes',
    '-days',
    String(options.days ?? 365),
    '-subj',
    `/CN=${options.cn ?? 'Lab Root CA'}`,
    '-config',
    join(dir, 'ca.cnf'),
    '-extensions',
    'ext',
    '-addext',
    'basicConstraints=critical,CA:true',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return caFrom(dir, options.cn ?? 'Lab Root CA', '');
}

async function prepareCaDir(dir: string): Promise<void> {
  await mkdir(join(dir, 'newcerts'), { recursive: true });
  await mkdir(join(dir, 'certs'), { recursive: true });
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  await writeFile(join(dir, 'serial'), `${randomBytes(8).toString('hex').replace(/^./, '1').toUpperCase()}\n`);
  await writeFile(join(dir, 'crlnumber'), '1000\n');
  // The ext section is filled per certificate through -extfile; req needs a section to name.
  await writeFile(join(dir, 'ca.cnf'), `${caConfig(dir)}[ext]\nsubjectKeyIdentifier = hash\n`);
}

async function caFrom(dir: string, name: string, chainPem: string): Promise<LabCa> {
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'ca.key');
  const certPem = await readFile(certFile, 'utf8');
  const keyPem = await readFile(keyFile, 'utf8');
  const serial = (await mustRun('openssl', ['x509', '-in', certFile, '-noout', '-serial'])).trim().replace(/^serial=/, '');
  let queue: Promise<unknown> = Promise.resolve();
  // openssl ca rewrites index.txt and serial: one at a time per CA.
  const serialize = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const ca: LabCa = {
    name,
    dir,
    certFile,
    keyFile,
    certPem,
    keyPem,
    serial,
    chainPem,
    issue: (leafName, options = {}) => serialize(() => issue(ca, leafName, options)),
    intermediate: (subName, options = {}) =>
      serialize(async () => {
        const subDir = join(dir, `sub-${subName}`);
        await prepareCaDir(subDir);
        const lines = [
          'basicConstraints = critical,CA:true,pathlen:0',
          'keyUsage = critical,keyCertSign,cRLSign',
          'subjectKeyIdentifier = hash',
          'authorityKeyIdentifier = keyid',
          ...aiaLines(options.ocspUrl, options.crlUrl),
        ];
        await signWithCa(ca, subName, {
          cn: options.cn ?? subName,
          days: options.days ?? 180,
          key: 'ec',
          outDir: subDir,
          certName: 'ca.crt',
          keyName: 'ca.key',
          extLines: lines,
        });
        return caFrom(subDir, options.cn ?? subName, certPem + chainPem);
      }),
    revoke: (cert) =>
      serialize(async () => {
        await mustRun('openssl', ['ca', '-batch', '-config', join(dir, 'ca.cnf'), '-revoke', cert.certFile, '-crl_reason', 'keyCompromise']);
      }),
    crl: (file, options = {}) =>
      serialize(async () => {
        const pem = join(dir, 'crl.pem');
        await mustRun('openssl', ['ca', '-batch', '-config', join(dir, 'ca.cnf'), '-gencrl', '-crldays', String(options.days ?? 7), '-out', pem]);
        await mustRun('openssl', ['crl', '-in', pem, '-outform', 'DER', '-out', file]);
      }),
  };
  return ca;
}

async function issue(ca: LabCa, name: string, options: IssueOptions): Promise<LabCert> {
  const cn = options.cn ?? name;
  const san = options.san === undefined ? [cn] : options.san;
  const eku = options.eku === undefined ? ['serverAuth'] : options.eku;
  const lines = ['basicConstraints = CA:false', 'keyUsage = critical,digitalSignature,keyEncipherment', 'authorityKeyIdentifier = keyid'];
  if (san && san.length) lines.push(`subjectAltName = ${options.emptySubject ? 'critical,' : ''}${san.map((n) => `DNS:${n}`).join(',')}`);
  if (eku && eku.length) lines.push(`extendedKeyUsage = ${eku.join(',')}`);
  lines.push(...aiaLines(options.ocspUrl, options.crlUrl), ...(options.extensions ?? []));
  const outDir = join(ca.dir, 'certs');
  return signWithCa(ca, name, { ...options, cn, outDir, certName: `${name}.crt`, keyName: `${name}.key`, extLines: lines });
}

async function signWithCa(
  ca: LabCa,
  name: string,
  options: IssueOptions & { cn: string; outDir: string; certName: string; keyName: string; extLines: string[] },
): Promise<LabCert> {
  const keyFile = join(options.outDir, options.keyName);
  const certFile = join(options.outDir, options.certName);
  const csr = join(options.outDir, `${name}.csr`);
  const ext = join(options.outDir, `${name}.ext`);
  await writeFile(ext, extensionText(options.extLines));
  await mustRun('openssl', ['req', '-new', ...KEY_ARGS[options.key ?? 'ec'], '-nodes', '-subj', `/CN=${options.cn}`, '-keyout', keyFile, '-out', csr]);
  const start = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const end = options.notAfter ?? new Date(start.getTime() + 3_600_000 + (options.days ?? 90) * 86_400_000);
  if (options.unlisted || options.emptySubject) {
    // Signed by the CA key without touching index.txt: the responder has never heard of it.
    const serial = `0x${randomBytes(8).toString('hex').replace(/^./, '7')}`;
    await mustRun('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      serial,
      '-days',
      String(options.days ?? 90),
      '-extfile',
      ext,
      '-extensions',
      'ext',
      `-${options.md ?? 'sha256'}`,
      '-out',
      certFile,
      ...(options.emptySubject ? ['-subj', '/'] : []),
    ]);
  } else {
    await mustRun('openssl', [
      'ca',
      '-batch',
      '-notext',
      '-config',
      join(ca.dir, 'ca.cnf'),
      '-extfile',
      ext,
      '-extensions',
      'ext',
      '-md',
      options.md ?? 'sha256',
      '-startdate',
      gtime(start),
      '-enddate',
      gtime(end),
      '-in',
      csr,
      '-out',
      certFile,
    ]);
  }
  const certPem = await readFile(certFile, 'utf8');
  const serial = (await mustRun('openssl', ['x509', '-in', certFile, '-noout', '-serial'])).trim().replace(/^serial=/, '');
  return { name, certFile, keyFile, certPem, keyPem: await readFile(keyFile, 'utf8'), serial };
}

/** A self-signed leaf (no CA): SAN and serverAuth like cPanel's own self-signed certificates. */
export async function selfSignedCert(dir: string, name: string, options: { cn?: string; days?: number; san?: string[] } = {}): Promise<LabCert> {
  await mkdir(dir, { recursive: true });
  const cn = options.cn ?? name;
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  await mustRun('openssl', [
    'req',
    '-x509',
    ...KEY_ARGS.ec,
    '-nodes',
    '-days',
    String(options.days ?? 365),
    '-subj',
    `/CN=${cn}`,
    '-addext',
    `subjectAltName=${(options.san ?? [cn]).map((n) => `DNS:${n}`).join(',')}`,
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  const serial = (await mustRun('openssl', ['x509', '-in', certFile, '-noout', '-serial'])).trim().replace(/^serial=/, '');
  return { name, certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8'), serial };
}

/** A private key alone (for mismatched-key fixtures). */
export async function privateKey(file: string, key: IssueOptions['key'] = 'ec'): Promise<string> {
  const args =
    key === 'rsa-1024' || key === 'rsa-2048'
      ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${key.slice(4)}`, '-out', file]
      : ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${key === 'ec-p384' ? 'P-384' : 'P-256'}`, '-out', file];
  await mustRun('openssl', args);
  return readFile(file, 'utf8');
}
