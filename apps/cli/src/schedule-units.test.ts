import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cronTime, renderCron, renderService, shellWord, systemdWord } from './schedule-units.js';
import { shareDir } from './share-dir.js';

const share = shareDir()!;
const serviceTemplate = readFileSync(`${share}/systemd/certsmith.service`, 'utf8');
const cronTemplate = readFileSync(`${share}/cron/certsmith`, 'utf8');
const command = { certsmith: ['/usr/bin/node', '--max-semi-space-size=1', '/opt/certsmith/dist/main.js'], configFile: '/etc/certsmith/config.json' };

describe('the shipped schedule files, rendered for one certsmith', () => {
  it('finds share/ beside the dist directory of the running module', () => {
    expect(share).toMatch(/apps\/cli\/share$/);
    expect(shareDir('file:///nowhere/dist/main.js')).toBeNull();
  });

  it('replaces only the ExecStart line of the service: node, its flags, the script, check --config F', () => {
    const text = renderService(serviceTemplate, command);
    expect(text).toContain('\nExecStart=/usr/bin/node --max-semi-space-size=1 /opt/certsmith/dist/main.js check --config /etc/certsmith/config.json\n');
    expect(text.split('\n').filter((l) => l.startsWith('ExecStart='))).toHaveLength(1);
    expect(text.replace(/^ExecStart=.*$/m, '')).toBe(serviceTemplate.replace(/^ExecStart=.*$/m, ''));
    expect(text).toContain('Type=oneshot');
    expect(text).not.toContain('--allow-retry');
  });

  it('quotes what systemd would read specially in ExecStart', () => {
    expect(systemdWord('/srv/my certs/config.json')).toBe('"/srv/my certs/config.json"');
    expect(systemdWord('/srv/100%/c.json')).toBe('/srv/100%%/c.json');
    expect(systemdWord('/srv/$HOME/"x"')).toBe('"/srv/$$HOME/\\"x\\""');
    expect(systemdWord('/srv/$HOME')).toBe('/srv/$$HOME');
    const text = renderService(serviceTemplate, { ...command, configFile: '/srv/my certs/config.json' });
    expect(text).toContain('check --config "/srv/my certs/config.json"\n');
  });

  it('writes one cron line at a minute and hour of the host, before 06:00, output to /dev/null', () => {
    const text = renderCron(cronTemplate, command, 'host.example.test');
    const lines = text.split('\n').filter((l) => /^\d/.test(l));
    const { minute, hour } = cronTime('host.example.test');
    expect(lines).toEqual([
      `${minute} ${hour} * * * root /usr/bin/node --max-semi-space-size=1 /opt/certsmith/dist/main.js check --config /etc/certsmith/config.json >/dev/null`,
    ]);
    expect(hour).toBeLessThan(6);
    expect(cronTime('host.example.test')).toEqual({ minute, hour });
    // Spread across hosts.
    const times = new Set(Array.from({ length: 50 }, (_, i) => JSON.stringify(cronTime(`h${i}.example.test`))));
    expect(times.size).toBeGreaterThan(40);
  });

  it('quotes for the shell and escapes % for cron', () => {
    expect(shellWord("/srv/it's here/c.json")).toBe(`'/srv/it'\\''s here/c.json'`);
    const text = renderCron(cronTemplate, { ...command, configFile: '/srv/100%/c d.json' }, 'h');
    expect(text).toContain(`check --config '/srv/100\\%/c d.json' >/dev/null`);
  });

  it('refuses a template without the line it replaces', () => {
    expect(() => renderService('[Service]\nType=oneshot\n', command)).toThrow('no ExecStart= line');
    expect(() => renderCron('# nothing\n', command, 'h')).toThrow('no schedule line');
  });
});
