import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, portOpen, run } from './process.js';

export interface NginxSite {
  /** server_name values; the first site is the default server. */
  serverNames: string[];
  /** Where files are served from; created when missing. */
  docroot: string;
  /** Serve TLS on the TLS port with this pair. */
  tls?: { certFile: string; keyFile: string };
  /** Extra directives inside the server block (redirects, slow locations, ...). */
  extra?: string;
}

export interface NginxOptions {
  /** A 127.x address, or ::1 (hold holdIpv6Loopback() around it: there is only one). */
  address: string;
  httpPort?: number;
  tlsPort?: number;
  sites: NginxSite[];
}

export interface Nginx {
  address: string;
  httpPort: number;
  tlsPort: number;
  dir: string;
  configFile: string;
  /** Asks nginx to re-read its config and certificates (SIGHUP via `nginx -s reload`). */
  reload(): Promise<void>;
  /** The argv that reloads this nginx, for an installer's reload command. */
  reloadCommand: string[];
  stop(): Promise<void>;
  log(): Promise<string>;
}

/** Starts nginx (Debian's nginx-light) in the foreground on a loopback address, from its own temp dir. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  await ensurePackages({ '/usr/sbin/nginx': 'nginx-light' });
  const lab = await labDir('nginx');
  const dir = lab.path;
  const httpPort = options.httpPort ?? 80;
  const tlsPort = options.tlsPort ?? 443;
  const listen = isIP(options.address) === 6 ? `[${options.address}]` : options.address;
  for (const sub of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) await mkdir(join(dir, sub), { recursive: true });
  const servers = await Promise.all(
    options.sites.map(async (site, index) => {
      await mkdir(site.docroot, { recursive: true });
      const def = index === 0 ? ' default_server' : '';
      const tls = site.tls
        ? `    listen ${listen}:${tlsPort} ssl${def};\n    ssl_certificate ${site.tls.certFile};\n    ssl_certificate_key ${site.tls.keyFile};\n`
        : '';
      return `  server {\n    listen ${listen}:${httpPort}${def};\n${tls}    server_name ${site.serverNames.join(' ')};\n    root ${site.docroot};\n${site.extra ?? ''}\n  }\n`;
    }),
  );
  const configFile = join(dir, 'nginx.conf');
  // Workers run as root so that they can read temp dirs (mkdtemp makes them 0700); loopback lab only.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  await writeFile(
    configFile,
    `daemon off;
${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/tmp/body;  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;   uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${servers.join('')}}
`,
  );
  const base = ['-c', configFile, '-p', `${dir}/`, '-e', join(dir, 'error.log')];
  const test = await run('/usr/sbin/nginx', ['-t', ...base]);
  if (test.code !== 0) throw new LabError(`nginx rejected its config:\n${test.stderr}`);
  const server = new ServerProcess('nginx', '/usr/sbin/nginx', base);
  const withTls = options.sites.some((s) => s.tls);
  await server.waitUntil(async () => (await portOpen(options.address, httpPort)) && (!withTls || (await portOpen(options.address, tlsPort))));
  const reloadCommand = ['/usr/sbin/nginx', '-s', 'reload', ...base];
  return {
    address: options.address,
    httpPort,
    tlsPort,
    dir,
    configFile,
    reloadCommand,
    async reload() {
      const result = await run(reloadCommand[0]!, reloadCommand.slice(1));
      if (result.code !== 0) throw new LabError(`nginx reload failed:\n${result.stderr}`);
    },
    async stop() {
      await server.stop('SIGQUIT');
      await lab.cleanup();
    },
    log: () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''),
  };
}
