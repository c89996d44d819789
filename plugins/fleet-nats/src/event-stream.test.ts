// The event stream the plugin makes, against a real nats-server: its duplicate window and its retention.
import { describe, expect, it } from 'vitest';
import { natsWithClients } from '../testing/nats-hosts.js';
import type { Ask } from './fleet-connection.js';
import { ensureStream } from './outbound-sender.js';

const DAY_NS = 86_400 * 1e9;

describe('ensureStream against a real nats-server', () => {
  const lab = natsWithClients();
  const ask: Ask = (call) => call(lab.clients);
  const configOf = async (stream: string) => (await (await lab.clients.manager()).streams.info(stream)).config;

  it('makes the stream with a 48 h duplicate window and keeps events 30 days by default, or the days asked', async () => {
    await ensureStream(ask, 'EVENTS_DEFAULT');
    expect(await configOf('EVENTS_DEFAULT')).toMatchObject({ subjects: ['certsmith.events.>'], duplicate_window: 2 * DAY_NS, max_age: 30 * DAY_NS });
    // Two streams cannot share the events' subjects: the first goes before the second is made.
    await (await lab.clients.manager()).streams.delete('EVENTS_DEFAULT');
    await ensureStream(ask, 'EVENTS_WEEK', 7);
    expect((await configOf('EVENTS_WEEK')).max_age).toBe(7 * DAY_NS);
  });

  it('leaves a stream that is there as it is', async () => {
    await (await lab.clients.manager()).streams.add({ name: 'EVENTS_OWN', subjects: ['own.>'], max_age: DAY_NS });
    await ensureStream(ask, 'EVENTS_OWN', 7);
    expect(await configOf('EVENTS_OWN')).toMatchObject({ subjects: ['own.>'], max_age: DAY_NS });
  });
});
