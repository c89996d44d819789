import { failureOf } from '@certsmith/core';
import { describe, expect, it } from 'vitest';
import { AcmeError, problemToError } from './problem.js';

const at = { status: 400, url: 'https://ca.test/acme/order/1' };

describe('the failure kind of an ACME error', () => {
  it('is transient for a CA that is down or overloaded, so a retry may be scheduled', () => {
    expect(failureOf(new AcmeError('CA_UNREACHABLE', 'no route'))).toBe('transient');
    expect(failureOf(problemToError({ type: 'urn:ietf:params:acme:error:serverInternal' }, { ...at, status: 500 }))).toBe('transient');
  });

  it('is refused for an order or account the CA no longer takes, so a saved order is forgotten', () => {
    expect(failureOf(problemToError({ type: 'urn:ietf:params:acme:error:malformed', detail: 'no such order' }, { ...at, status: 404 }))).toBe('refused');
    expect(failureOf(problemToError({ type: 'urn:ietf:params:acme:error:accountDoesNotExist' }, at))).toBe('refused');
  });

  it('is a plain failure for anything else, e.g. a CAA refusal or a problem type the CA made up', () => {
    expect(failureOf(problemToError({ type: 'urn:ietf:params:acme:error:caa' }, at))).toBe('failed');
    expect(failureOf(problemToError({ type: 'urn:example:own' }, at))).toBe('failed');
  });
});
