import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { completeConfig, jsonErrorPlace, loadConfig } from './config.js';
import type { Profiles } from './profiles.js';

// Profiles as a composition declares them (the CLI's name real plugins and services; the core knows none).
const PROFILES: Profiles = {
  full: {
    services: { panel: {}, mail: { port: 993 }, files: {} },
    plugins: ['@x/issuer-own', '@x/installer-panel', '@x/dcv-files'],
    issuers: ['own'],
    dcvMethod: 'http',
  },
  dnsonly: { services: { panel: {} }, plugins: ['@x/issuer-own', '@x/dcv-zone'], issuers: ['own'], dcvMethod: 'dns' },
};

describe('completeConfig', () => {
  it('applies the full profile and resolves paths against the config file', () => {
    const config = completeConfig({ hostname: 'Host.Example.COM.', paths: { stateDir: 'state' } }, '/etc/certsmith/config.json', PROFILES);
    expect(config.hostname).toBe('host.example.com');
    expect(config.paths.stateDir).toBe('/etc/certsmith/state');
    expect(config.paths.sslDir).toBe('/var/cpanel/ssl');
    expect(config.paths.logDir).toBe('/etc/certsmith/state/logs');
    expect(Object.keys(config.services)).toEqual(['panel', 'mail', 'files']);
    expect(config.issuers).toEqual(['own']);
    expect(config.dcv.method).toBe('http');
    expect(config.inspection.providerThresholdDays).toBe(25);
    expect(config.inspection.otherThresholdDays).toBe(3);
    expect(config.concurrency).toBe(8);
  });

  it('applies the dnsonly profile when the config names it', () => {
    const config = completeConfig({ profile: 'dnsonly', hostname: 'ns1.example.com' }, '/c.json', PROFILES);
    expect(Object.keys(config.services)).toEqual(['panel']);
    expect(config.dcv.method).toBe('dns');
    expect(config.plugins.map((p) => p.module)).toEqual(['@x/issuer-own', '@x/dcv-zone']);
  });

  it('adds nothing without the profiles of a composition', () => {
    const config = completeConfig({ hostname: 'h.example.com', services: { web: {} } }, '/c.json');
    expect(Object.keys(config.services)).toEqual(['web']);
    expect(config.plugins).toEqual([]);
    expect(config.issuers).toEqual([]);
  });

  it('lets a config remove a profile service, add options to a profile plugin and add its own', () => {
    const config = completeConfig(
      {
        hostname: 'h.example.com',
        services: { files: false, mail: { reload: ['doveadm', 'reload'] } },
        plugins: [{ module: '@x/issuer-own', options: { validityDays: 90 } }, './mine.mjs'],
      },
      '/srv/conf/c.json',
      PROFILES,
    );
    expect(Object.keys(config.services)).toEqual(['panel', 'mail']);
    expect(config.services.mail).toEqual({ port: 993, reload: ['doveadm', 'reload'] });
    const own = config.plugins.filter((p) => p.module === '@x/issuer-own');
    expect(own).toEqual([{ module: '@x/issuer-own', options: { validityDays: 90 }, where: '$.plugins[0]', optionsPath: '$.plugins[0].options' }]);
    expect(config.plugins.at(-1)).toEqual({ module: '/srv/conf/mine.mjs', options: {}, where: '$.plugins[1]', optionsPath: '$.plugins[1].options' });
    expect(config.plugins[1]!.where).toBe('profile "full": plugin "@x/installer-panel"');
  });

  it('keeps two entries of one plugin (two accounts of one CA), a profile plugin given options once', () => {
    const acme = (id: string) => ({ module: '@certsmith/issuer-acme', options: { id, directoryUrl: `https://${id}.test/dir` } });
    const config = completeConfig({ hostname: 'h.example.com', plugins: [acme('ca-one'), { module: '@certsmith/notify-email' }, acme('ca-two')] }, '/c.json');
    expect(config.plugins.filter((p) => p.module === '@certsmith/issuer-acme').map((p) => [p.options.id, p.where])).toEqual([
      ['ca-one', '$.plugins[0]'],
      ['ca-two', '$.plugins[2]'],
    ]);
    expect(config.plugins.filter((p) => p.module === '@certsmith/notify-email').map((p) => p.where)).toEqual(['$.plugins[1]']);
  });

  it('reports every schema error at once, one line each, in document order', () => {
    const error = (() => {
      try {
        completeConfig({ profile: 'fulll', hostname: 5, concurrency: 'four', inspection: { live: 'no' }, colour: 'blue' }, '/c.json');
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error!.message.split('\n').sort()).toEqual(
      [
        '/c.json: $: unknown field "colour"',
        '/c.json: $.profile: must be one of "full", "dnsonly"',
        '/c.json: $.hostname: must be string',
        '/c.json: $.concurrency: must be integer',
        '/c.json: $.inspection.live: must be boolean',
      ].sort(),
    );
  });

  it.each([
    [{ profile: 'mailonly' }, '/c.json: $.profile: must be one of "full", "dnsonly"'],
    [{ names: ['ok', 7] }, '/c.json: $.names[1]: must be string'],
    [{ inspection: { providerThresholdDays: -1 } }, '/c.json: $.inspection.providerThresholdDays: must be >= 0'],
    [{ issuers: [] }, '/c.json: $.issuers: must NOT have fewer than 1 items'],
    [{ plugins: [{ options: {} }] }, '/c.json: $.plugins[0]: missing required field "module"'],
    [{ services: { ftp: true } }, '/c.json: $.services.ftp: does not match any allowed form'],
    [{ key: { type: 'dsa-1024' } }, '/c.json: $.key.type: must be one of'],
    [{ inspection: { providerIssuerPatterns: ['(unclosed'] } }, '/c.json: $.inspection.providerIssuerPatterns[0]: must match format "regex"'],
    [[1, 2], '/c.json: $: must be object'],
    [{ concurrency: 0 }, '/c.json: $.concurrency: must be >= 1'],
  ])('refuses %j naming the JSON path', (raw, message) => {
    expect(() => completeConfig(raw, '/c.json')).toThrow(UsageError);
    expect(() => completeConfig(raw, '/c.json')).toThrow(message);
  });
});

describe('loadConfig', () => {
  it('names the file when it is missing or not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    await expect(loadConfig(join(dir, 'none.json'))).rejects.toThrow(`${dir}/none.json: cannot read the configuration (no such file)`);
    await writeFile(join(dir, 'bad.json'), '{ "profile": ');
    await expect(loadConfig(join(dir, 'bad.json'))).rejects.toThrow(`${dir}/bad.json:1:14: not valid JSON: a value was expected`);
    await expect(loadConfig(dir)).rejects.toThrow('(is a directory)');
  });
});

describe('jsonErrorPlace', () => {
  it.each([
    ['{\n  "a": 1\n  "b": 2\n}', '3:3: not valid JSON: a comma was expected'],
    ['{ "a": x }', '1:8: not valid JSON: unexpected character'],
    ['{ "a": 1, }', '1:11: not valid JSON: a property name in double quotes was expected'],
    ['// note\n{}', '1:1: not valid JSON: comments are not allowed in JSON'],
    ['', '1:1: not valid JSON: a value was expected'],
  ])('places %j by line and column', async (text, place) => {
    expect(() => JSON.parse(text)).toThrow();
    await expect(jsonErrorPlace(text, 'ignored')).resolves.toBe(place);
  });
});
