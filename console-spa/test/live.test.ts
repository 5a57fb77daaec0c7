import { describe, expect, it, vi } from 'vitest';
import { dispatch } from '../src/live';
import { balance, onBilling, onGeneration } from '../src/store';

describe('bridge messages', () => {
  it('a billing message sets the balance and reaches the billing listeners', () => {
    balance.value = '5.000000000';
    const heard = vi.fn();
    const off = onBilling(heard);
    dispatch({ type: 'billing', order_id: '42', state: 'paid', balance_usd: '15.000000000' });
    expect(balance.value).toBe('15.000000000');
    expect(heard).toHaveBeenCalledWith({ order_id: '42', state: 'paid', balance_usd: '15.000000000' });
    off();
    dispatch({ type: 'billing', order_id: '43', state: 'paid', balance_usd: '25.000000000' });
    expect(heard).toHaveBeenCalledOnce();
  });

  it('a billing message without an order or a balance leaves the balance as it is', () => {
    balance.value = '7.000000000';
    const heard = vi.fn();
    const off = onBilling(heard);
    dispatch({ type: 'billing', state: 'refunded', balance_usd: null });
    expect(balance.value).toBe('7.000000000');
    expect(heard).toHaveBeenCalledWith({ order_id: null, state: 'refunded', balance_usd: null });
    off();
  });

  it('a free request (balance null) does not blank the balance', () => {
    balance.value = '3.000000000';
    const heard = vi.fn();
    const off = onGeneration(heard);
    dispatch({ type: 'generation', generation: { id: 'g1' }, balance_usd: null });
    expect(balance.value).toBe('3.000000000');
    dispatch({ type: 'generation', generation: { id: 'g2' }, balance_usd: '2.990000000' });
    expect(balance.value).toBe('2.990000000');
    expect(heard).toHaveBeenCalledTimes(2);
    off();
  });

  it('ignores what it does not know', () => {
    balance.value = '1.000000000';
    dispatch({ type: 'something', balance_usd: '9' });
    dispatch(null);
    dispatch('text');
    expect(balance.value).toBe('1.000000000');
  });
});
