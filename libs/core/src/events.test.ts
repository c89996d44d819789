import { describe, expect, it, vi } from 'vitest';
import { LIFECYCLE_EVENTS, createBus, type FailedEvent } from './events.js';

const failed: FailedEvent = { stage: 'issue', target: 't', code: 'X', message: 'm', next: 'n', severity: 'error' };

describe('the lifecycle bus', () => {
  it('names exactly the seven lifecycle events', () => {
    expect(LIFECYCLE_EVENTS).toEqual(['inspect', 'dcv-created', 'dns-resolved', 'validated', 'issued', 'installed', 'failed']);
  });

  it('delivers typed events to their listeners and to wildcard listeners', () => {
    const bus = createBus();
    const seen: unknown[] = [];
    bus.on('failed', (e) => seen.push(e.code));
    bus.on('*', (type, e) => seen.push([type, (e as FailedEvent).code]));
    bus.emit('failed', failed);
    expect(seen).toEqual(['X', ['failed', 'X']]);
  });

  it('keeps going when a listener throws, and reports it', () => {
    const reported = vi.fn();
    const bus = createBus(reported);
    const after = vi.fn();
    bus.on('failed', () => {
      throw new Error('mail plugin broke');
    });
    bus.on('failed', after);
    bus.emit('failed', failed);
    expect(after).toHaveBeenCalledOnce();
    expect(reported).toHaveBeenCalledWith('failed', expect.objectContaining({ message: 'mail plugin broke' }));
  });
});
