import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, csrfToken, setErrorHooks } from '../src/api';

const calls: { url: string; init: RequestInit }[] = [];
let answer: () => Response;
const hooks = { unauthorized: vi.fn(), notify: vi.fn() };

beforeEach(() => {
  calls.length = 0;
  hooks.unauthorized.mockReset();
  hooks.notify.mockReset();
  setErrorHooks(hooks);
  vi.stubGlobal('document', { cookie: 'corouter_locale=de; __Host-corouter_csrf=tok%2Ben; other=1' });
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  });
});
afterEach(() => vi.unstubAllGlobals());

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const header = (i: number, name: string) => (calls[i].init.headers as Record<string, string>)[name];

describe('the API client', () => {
  it('reads the CSRF token under its secure name and its loopback name', () => {
    expect(csrfToken('a=1; __Host-corouter_csrf=abc')).toBe('abc');
    expect(csrfToken('corouter_csrf=def; b=2')).toBe('def');
    expect(csrfToken('corouter_locale=en')).toBeNull();
  });

  it('sends the CSRF header on state-changing calls and not on reads', async () => {
    answer = () => json(200, { id: 1 });
    await api.keys();
    await api.createKey('laptop');
    await api.setKeyDisabled(1, true);
    answer = () => new Response(null, { status: 204 });
    await api.deleteKey(1);
    expect(header(0, 'X-CSRF-Token')).toBeUndefined();
    expect(header(1, 'X-CSRF-Token')).toBe('tok+en');
    expect(header(2, 'X-CSRF-Token')).toBe('tok+en');
    expect(header(3, 'X-CSRF-Token')).toBe('tok+en');
    expect(calls.map((c) => c.init.method)).toEqual(['GET', 'POST', 'PATCH', 'DELETE']);
    expect(calls.every((c) => c.init.credentials === 'same-origin')).toBe(true);
    expect(calls[1].init.body).toBe('{"name":"laptop"}');
  });

  it('sends the visitor to sign in on 401', async () => {
    answer = () => json(401, { error: { code: 401, message: 'sign in' } });
    await expect(api.me()).rejects.toMatchObject({ status: 401 });
    expect(hooks.unauthorized).toHaveBeenCalledOnce();
    expect(hooks.notify).not.toHaveBeenCalled();
  });

  it('leaves a wrong password on sign-in to the form instead of redirecting', async () => {
    answer = () => json(401, { error: { code: 401, message: 'invalid email or password' } });
    await expect(api.login('a@b.c', 'x')).rejects.toBeInstanceOf(ApiError);
    expect(hooks.unauthorized).not.toHaveBeenCalled();
  });

  it('shows the message of a 403', async () => {
    answer = () => json(403, { error: { code: 403, message: 'CSRF token missing or wrong' } });
    await expect(api.createKey('x')).rejects.toMatchObject({ status: 403 });
    expect(hooks.notify).toHaveBeenCalledWith('CSRF token missing or wrong');
  });

  it('turns a 400 with fields into field errors for the form, without a toast', async () => {
    answer = () => json(400, { error: { code: 400, message: 'invalid', metadata: { fields: { password: 'too short' } } } });
    const failure = await api.signup({ email: 'a@b.c', password: 'x', adult: true, policy_version: 'v' }).catch((e) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure.fields).toEqual({ password: 'too short' });
    expect(hooks.notify).not.toHaveBeenCalled();
  });

  it('reports an unreachable server once', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(api.me()).rejects.toMatchObject({ status: 0 });
    expect(hooks.notify).toHaveBeenCalledWith('network');
  });

  it('puts list filters into the query string and leaves empty ones out', async () => {
    answer = () => json(200, { data: [], next_cursor: null });
    await api.generations({ model: 'a/b', status: '', limit: 50, cursor: 'c1' });
    expect(calls[0].url).toBe('/api/generations?model=a%2Fb&limit=50&cursor=c1');
  });

  it('sends a top-up with units only for an offer that takes them', async () => {
    answer = () => json(201, { order: { id: '1' }, checkout_url: 'https://pay.example/ch_1' });
    await api.topUp('usd_10');
    await api.topUp('usd_any', 25);
    expect(calls.map((c) => [c.init.method, c.url, c.init.body])).toEqual([
      ['POST', '/api/billing/top-ups', '{"offer":"usd_10"}'],
      ['POST', '/api/billing/top-ups', '{"offer":"usd_any","units":25}'],
    ]);
    expect(header(0, 'X-CSRF-Token')).toBe('tok+en');
  });

  it('leaves a missing order to its page and keeps the poll quiet', async () => {
    answer = () => json(404, { error: { code: 404, message: 'order not found' } });
    await expect(api.order('7')).rejects.toMatchObject({ status: 404 });
    expect(hooks.notify).not.toHaveBeenCalled();
    answer = () => json(500, { error: { code: 500, message: 'boom' } });
    await expect(api.order('7', { silent: true })).rejects.toMatchObject({ status: 500 });
    expect(hooks.notify).not.toHaveBeenCalled();
    expect(calls[0].url).toBe('/api/billing/orders/7');
  });

  it('patches key limits with null to clear one and leaves out what is unchanged', async () => {
    answer = () => json(200, { id: 3 });
    await api.updateKey(3, { limit_usd: '5.00', limit_reset: 'monthly', expires_at: null });
    await api.createKey('ci', { limit_usd: '1.50' });
    expect(calls[0].init.method).toBe('PATCH');
    expect(calls[0].url).toBe('/api/keys/3');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ limit_usd: '5.00', limit_reset: 'monthly', expires_at: null });
    expect(JSON.parse(String(calls[1].init.body))).toEqual({ name: 'ci', limit_usd: '1.50' });
  });
  it('leaves a failed audit test to the page, with the kind of failure, and sends the audit calls', async () => {
    answer = () => json(422, {
      error: { code: 422, message: 'the test connection failed: access denied', metadata: { kind: 'AUTH' } },
    });
    const body = { sink: 's3', config: { bucket: 'b', part_size_mb: 8 } };
    const failure = await api.testAudit(body).catch((e) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 422, kind: 'AUTH', message: 'the test connection failed: access denied' });
    await expect(api.saveAudit(body)).rejects.toMatchObject({ status: 422, kind: 'AUTH' });
    expect(hooks.notify).not.toHaveBeenCalled();
    answer = () => json(200, { configured: false, enabled: false });
    await api.disableAudit();
    await api.audit({ silent: true });
    expect(calls.map((c) => [c.init.method, c.url])).toEqual([
      ['POST', '/api/audit/test'],
      ['PUT', '/api/audit'],
      ['DELETE', '/api/audit'],
      ['GET', '/api/audit'],
    ]);
    expect(JSON.parse(String(calls[1].init.body))).toEqual(body);
    expect(header(2, 'X-CSRF-Token')).toBe('tok+en');
  });
});
