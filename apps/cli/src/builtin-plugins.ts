// The first-party plugins, by the package names a config gives them. Each is a static import() so that a bundler
// (the installable package's esbuild build) compiles them into the program, one chunk each, loaded only when a
// config names it. Other names and paths are still imported at run time by the core.
import type { BuiltinPlugin } from '@certsmith/core';

type Load = BuiltinPlugin['load'];

/**
 * Where a built-in plugin's module counts as loaded from, for the files its build put beside it (options-validator.cjs):
 * its package when it is installed (a clone of the repository), else plugins/<name>/ beside this program, where the
 * bundle's build copies them.
 */
function urlOf(name: string): () => string {
  return () => {
    try {
      return import.meta.resolve(name);
    } catch {
      return new URL(`./plugins/${name}/index.js`, import.meta.url).href;
    }
  };
}

const loaders: Record<string, Load> = {
  '@certsmith/dcv-dns': () => import('@certsmith/dcv-dns'),
  '@certsmith/dcv-http': () => import('@certsmith/dcv-http'),
  '@certsmith/fleet-nats': () => import('@certsmith/fleet-nats'),
  '@certsmith/installer-cpanel': () => import('@certsmith/installer-cpanel'),
  '@certsmith/installer-dovecot': () => import('@certsmith/installer-dovecot'),
  '@certsmith/installer-exim': () => import('@certsmith/installer-exim'),
  '@certsmith/installer-files': () => import('@certsmith/installer-files'),
  '@certsmith/installer-ftp': () => import('@certsmith/installer-ftp'),
  '@certsmith/installer-web': () => import('@certsmith/installer-web'),
  '@certsmith/issuer-acme': () => import('@certsmith/issuer-acme'),
  '@certsmith/issuer-sectigo': () => import('@certsmith/issuer-sectigo'),
  '@certsmith/issuer-selfsigned': () => import('@certsmith/issuer-selfsigned'),
  '@certsmith/metrics-prometheus': () => import('@certsmith/metrics-prometheus'),
  '@certsmith/notify-email': () => import('@certsmith/notify-email'),
  '@certsmith/scheduler-at': () => import('@certsmith/scheduler-at'),
};

export const BUILTIN_PLUGINS: Readonly<Record<string, BuiltinPlugin>> = Object.fromEntries(
  Object.entries(loaders).map(([name, load]) => [name, { load, url: urlOf(name) }]),
);
