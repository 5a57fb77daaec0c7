import { describe, expect, it } from 'vitest';
import { usd } from '../src/format';

describe('usd', () => {
  it('shows cents for sums and more digits for amounts under a cent', () => {
    expect(usd('12.345000000')).toBe('$12.35');
    expect(usd('0.000090000')).toBe('$0.00009');
    expect(usd('0.000000000')).toBe('$0.00');
    expect(usd('0.000027000', true)).toBe('$0.000027');
    expect(usd(null)).toBe('–');
  });
});
