import { describe, expect, it } from 'vitest';
import { nameProblem, pluginNames } from './plugin-name.js';

describe('nameProblem', () => {
  it('accepts lower-case words joined by single hyphens', () => {
    for (const name of ['haproxy', 'internal-ca', 'mail-relay-2', 'x509']) expect(nameProblem('issuer', name)).toBeUndefined();
  });

  it('says what is wrong with any other name', () => {
    for (const name of ['Internal', 'internal_ca', '-ca', 'ca-', 'a--b', '2fa', 'a.b', '../x', ''])
      expect(nameProblem('issuer', name)).toMatch(/is not a plugin name/);
    expect(nameProblem('dcv', 'a'.repeat(41))).toMatch(/at most 40/);
    expect(nameProblem('dcv', 'dcv-webroot')).toMatch(/without the "dcv-" prefix/);
  });
});

describe('pluginNames', () => {
  it('names the folder, package, class and file after the kind and the name', () => {
    expect(pluginNames('issuer', 'internal-ca')).toEqual({
      kind: 'issuer',
      id: 'internal-ca',
      folder: 'issuer-internal-ca',
      packageName: '@certsmith/issuer-internal-ca',
      className: 'InternalCaIssuer',
      fileName: 'internal-ca-issuer',
    });
    expect(pluginNames('notify', 'slack')).toMatchObject({ folder: 'notify-slack', className: 'SlackNotifier', fileName: 'slack-notifier' });
  });
});
