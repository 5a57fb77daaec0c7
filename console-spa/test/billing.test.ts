import { describe, expect, it } from 'vitest';
import {
  addUsd,
  fromLocalInput,
  fromNanos,
  isCheckoutUrl,
  isLimitUsd,
  minorAmount,
  minorDigits,
  parseUnits,
  plainUsd,
  toLocalInput,
  toNanos,
  totalUsd,
} from '../src/billing';
import { de } from '../src/i18n/de';
import { en } from '../src/i18n/en';
import { language } from '../src/i18n';

describe('exact USD arithmetic', () => {
  it('reads decimal strings as nano-USD and writes them back with nine decimals', () => {
    expect(toNanos('10.00')).toBe(10_000_000_000n);
    expect(toNanos('0.000000001')).toBe(1n);
    expect(toNanos('-1.5')).toBe(-1_500_000_000n);
    expect(toNanos('7')).toBe(7_000_000_000n);
    expect(fromNanos(10_000_000_000n)).toBe('10.000000000');
    expect(fromNanos(-1n)).toBe('-0.000000001');
  });

  it('refuses what is not a decimal string with at most nine decimals', () => {
    for (const bad of ['', '1e3', '1.0000000001', '$5', '1,50', '0x10', '.5', 'NaN']) {
      expect(toNanos(bad), bad).toBeNull();
    }
  });

  it('multiplies a price by units without binary fractions', () => {
    // 0.1 * 3 is 0.30000000000000004 in floating point
    expect(totalUsd('0.10', 3)).toBe('0.300000000');
    expect(totalUsd('1.00', 500)).toBe('500.000000000');
    expect(totalUsd('19.99', 7)).toBe('139.930000000');
    expect(totalUsd('x', 2)).toBeNull();
  });

  it('adds balances exactly', () => {
    expect(addUsd('5.000000000', '10.00')).toBe('15.000000000');
    expect(addUsd('0.1', '0.2')).toBe('0.300000000');
    expect(addUsd('1', 'one')).toBeNull();
  });
});

describe('units of a top-up', () => {
  it('accepts whole numbers from 1 to the offer maximum', () => {
    expect(parseUnits('1', 500)).toEqual({ units: 1 });
    expect(parseUnits(' 25 ', 500)).toEqual({ units: 25 });
    expect(parseUnits('500', 500)).toEqual({ units: 500 });
    expect(parseUnits('100000', null)).toEqual({ units: 100000 });
  });

  it('refuses fractions, signs, exponents and empty input as not whole', () => {
    for (const bad of ['', '2.5', '-1', '1e3', '+3', 'ten', '0x10']) {
      expect(parseUnits(bad, 500), bad).toEqual({ error: 'whole' });
    }
  });

  it('refuses zero and more than the maximum as out of range', () => {
    expect(parseUnits('0', 500)).toEqual({ error: 'range' });
    expect(parseUnits('501', 500)).toEqual({ error: 'range' });
    expect(parseUnits('99999999999999999999', null)).toEqual({ error: 'range' });
  });
});

describe('order amounts from minor units', () => {
  it('knows how many minor digits a currency has', () => {
    expect(minorDigits('USD')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('KWD')).toBe(3);
    expect(minorDigits('not a currency')).toBeNull();
  });

  it('formats minor units in the reader language, or falls back to the server text', () => {
    language.value = 'en';
    expect(minorAmount(1000, 'USD', '$10.00')).toBe('$10.00');
    expect(minorAmount(1, 'USD', '$0.01')).toBe('$0.01');
    expect(minorAmount(123456, 'USD', '')).toBe('$1,234.56');
    expect(minorAmount(500, 'JPY', '')).toBe('¥500');
    expect(minorAmount(1500, 'EUR', '')).toBe('€15.00');
    expect(minorAmount(1000, '???', 'ten dollars')).toBe('ten dollars');
    language.value = 'de';
    expect(minorAmount(123456, 'USD', '').replace(/\s/g, ' ')).toBe('1.234,56 $');
    language.value = 'en';
  });
});

describe('where the browser may be sent to pay', () => {
  it('only an http or https address', () => {
    expect(isCheckoutUrl('https://checkout.creem.io/ch_1')).toBe(true);
    expect(isCheckoutUrl('http://127.0.0.1:8080/checkout/ch_1')).toBe(true);
    expect(isCheckoutUrl('javascript:alert(1)')).toBe(false);
    expect(isCheckoutUrl('data:text/html,hi')).toBe(false);
    expect(isCheckoutUrl('/relative')).toBe(false);
    expect(isCheckoutUrl(null)).toBe(false);
  });
});

describe('key limits as typed', () => {
  it('takes the API decimal shape', () => {
    expect(isLimitUsd('5')).toBe(true);
    expect(isLimitUsd('5.00')).toBe(true);
    expect(isLimitUsd('0.000000001')).toBe(true);
    expect(isLimitUsd('0.0000000001')).toBe(false);
    expect(isLimitUsd('-5')).toBe(false);
    expect(isLimitUsd('5,00')).toBe(false);
    expect(isLimitUsd('')).toBe(false);
  });

  it('shows a stored limit as a person writes it', () => {
    expect(plainUsd('5.000000000')).toBe('5.00');
    expect(plainUsd('0.000100000')).toBe('0.0001');
    expect(plainUsd('12.345000000')).toBe('12.345');
    expect(plainUsd('7')).toBe('7.00');
    expect(plainUsd('odd')).toBe('odd');
  });

  it('round-trips an expiry through the local date-time input', () => {
    const iso = '2030-01-02T03:04:00.000Z';
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(toLocalInput(null)).toBe('');
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('not a time')).toBeNull();
  });
});

describe('the strings the billing pages pick at run time', () => {
  const states = ['pending', 'paid', 'failed', 'expired', 'refunded'] as const;
  for (const [lng, strings] of Object.entries({ en, de })) {
    it(`${lng} names every order state, event, units error and limit period`, () => {
      for (const s of states) {
        expect(strings.order.states[s], s).toBeTruthy();
        expect(strings.order.notices[s], s).toBeTruthy();
      }
      for (const k of ['paid', 'refund', 'dispute'] as const) expect(strings.order.eventKinds[k]).toBeTruthy();
      for (const e of ['whole', 'range'] as const) expect(strings.billing.units[e]).toBeTruthy();
      for (const p of ['daily', 'weekly', 'monthly', 'life'] as const) expect(strings.keys.per[p]).toContain('{{amount}}');
      for (const k of ['grant', 'topup', 'refund', 'adjustment', 'usage'] as const) expect(strings.billing.kinds[k]).toBeTruthy();
    });
  }
});
