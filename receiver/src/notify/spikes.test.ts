import { describe, expect, it } from 'vitest';
import type { ProcessedCrash } from '../storage/types.ts';
import { alertName } from './alert-outbox.ts';
import { SPIKE_QUIET_MS, SpikeDetector } from './spikes.ts';
import type { SpikeEvent } from './webhook.ts';

const HOUR = 60 * 60_000;
const START = Date.parse('2026-11-30T12:00:00Z');

let crashes = 0;
function crash(at: number, extra: Partial<ProcessedCrash> = {}): ProcessedCrash {
  return { crash_id: `c${++crashes}`, submitted_at: new Date(at).toISOString(), signature_id: 'sigA', signature: 'TypeError: a', ...extra } as ProcessedCrash;
}

/** A detector over a clock the test moves, with `weekBefore` crashes of every signature in the 7 days before today. */
function detector(minPerHour: number, weekBefore = 0) {
  let now = START;
  const asked: [string, string, number, number, string][] = [];
  const spikes = new SpikeDetector({
    minPerHour,
    now: () => now,
    countOverDays: (app, id, first, last, environment) => {
      asked.push([app, id, first, last, environment]);
      return weekBefore;
    },
  });
  return { spikes, asked, at: (t: number) => (now = t) };
}

describe('spike alerts', () => {
  it('fire once the last hour holds the minimum and ten times the usual hour, then keep quiet for a while', () => {
    const d = detector(5, 7 * 24 * 0.4); // usually 0.4 an hour: 4 in an hour is ten times that, 5 is the minimum
    for (let i = 0; i < 4; i++) expect(d.spikes.crashProcessed(crash(START - i * 60_000), 'app1')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START), 'app1')).toEqual({ app: 'app1', count: 5, usual_per_hour: 0.4, week_before: 7 * 24 * 0.4 });
    const today = Math.floor(START / (24 * HOUR));
    expect(d.asked).toEqual([['app1', 'sigA', today - 7, today - 1, '']]);
    expect(d.spikes.crashProcessed(crash(START), 'app1')).toBeNull(); // quiet now
    // Another app's crashes of the same signature are counted apart.
    for (let i = 0; i < 4; i++) expect(d.spikes.crashProcessed(crash(START), 'app2')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START), 'app2')).toMatchObject({ app: 'app2', count: 5 });
    // After the quiet time, a new hour's worth fires again; the old crashes have left the window.
    const later = START + SPIKE_QUIET_MS;
    d.at(later);
    for (let i = 0; i < 4; i++) expect(d.spikes.crashProcessed(crash(later), 'app1')).toBeNull();
    expect(d.spikes.crashProcessed(crash(later), 'app1')).toMatchObject({ count: 5 });
  });

  it('count each environment apart: staging crashes do not make a production spike', () => {
    const d = detector(5);
    for (let i = 0; i < 4; i++) expect(d.spikes.crashProcessed(crash(START, { environment: 'production' }), 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START, { environment: 'staging' }), 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START, { environment: 'production' }), 'app')).toMatchObject({ count: 5 });
    expect(d.asked.map((a) => a[4])).toEqual(['production']);
  });

  it('do not fire for a signature that usually crashes this often', () => {
    const d = detector(5, 7 * 24 * 3); // 3 an hour: 29 is under ten times that
    for (let i = 0; i < 29; i++) expect(d.spikes.crashProcessed(crash(START), 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START), 'app')).toMatchObject({ count: 30, usual_per_hour: 3 });
    // The index was asked once, not for each crash past the minimum.
    expect(d.asked).toHaveLength(1);
  });

  it('leave out backlogs: crashes that arrived over an hour ago, or that happened over an hour before they arrived', () => {
    const d = detector(3);
    expect(d.spikes.crashProcessed(crash(START - HOUR - 1), 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START - HOUR - 1), 'app')).toBeNull();
    const queued = { crash_time: new Date(START - 2 * HOUR).toISOString() };
    for (let i = 0; i < 5; i++) expect(d.spikes.crashProcessed(crash(START, queued), 'app')).toBeNull();
    expect(d.asked).toEqual([]);
    // A client clock a few minutes off is fine.
    const skewed = { crash_time: new Date(START - 10 * 60_000).toISOString() };
    expect(d.spikes.crashProcessed(crash(START, skewed), 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START, skewed), 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START, skewed), 'app')).toMatchObject({ count: 3, usual_per_hour: 0 });
  });

  it('count a crash processed again (reprocessing) once', () => {
    const d = detector(3);
    const once = crash(START - 60_000);
    expect(d.spikes.crashProcessed(once, 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START), 'app')).toBeNull();
    for (let i = 0; i < 5; i++) expect(d.spikes.crashProcessed({ ...once }, 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START), 'app')).toMatchObject({ count: 3, week_before: 0 });
  });

  it('are off at 0, and failed crashes never count', () => {
    const off = detector(0);
    for (let i = 0; i < 50; i++) expect(off.spikes.crashProcessed(crash(START), 'app')).toBeNull();
    const d = detector(2);
    expect(d.spikes.crashProcessed(crash(START, { processing_error: 'TypeError' }), 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START), 'app')).toBeNull();
    expect(d.spikes.crashProcessed(crash(START), 'app')).toMatchObject({ count: 2 });
  });

  it('are named as spikes in the log lines about waiting alerts', () => {
    expect(alertName({ event: 'spike', signature_id: 'sigA' } as SpikeEvent)).toBe('spike of sigA');
  });
});
