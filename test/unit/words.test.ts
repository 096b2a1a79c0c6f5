// The renderer's words for times in tables: today's rows show the time alone (a shift reads its
// own day), older rows the day and the minute; the full timestamp stays in the tooltip.
import { describe, expect, it } from 'vitest';
import { shortTime, tableTime } from '../../src-renderer/src/lib/words.ts';

describe('tableTime', () => {
  const now = new Date(2026, 11, 5, 16, 30, 0);
  it("shows today's time to the minute, without the date", () => {
    const t = tableTime(new Date(2026, 11, 5, 9, 4, 7).toISOString(), now);
    expect(t).toMatch(/9:04/);
    expect(t).not.toMatch(/:07|2026|12\/5|Dec/);
  });
  it("shows an earlier day's date and minute, not the year or seconds", () => {
    const t = tableTime(new Date(2026, 11, 4, 23, 59, 30).toISOString(), now);
    expect(t).toMatch(/Dec/);
    expect(t).toMatch(/4/);
    expect(t).toMatch(/11:59|23:59/);
    expect(t).not.toMatch(/:30|2026/);
  });
  it('keeps text that is not a time as it is (and so does the tooltip)', () => {
    expect(tableTime('not a time', now)).toBe('not a time');
    expect(shortTime('not a time')).toBe('not a time');
  });
});
