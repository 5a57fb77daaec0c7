import { useEffect, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api, ApiError } from '../api';
import { Field, Notice, Page, useSubmit } from '../components';
import { PRIVACY_POLICY_URL, PRIVACY_POLICY_VERSION } from '../config';
import { language, t } from '../i18n';
import { navigate, useQuery } from '../router';
import { balance, me } from '../store';

export function SignIn() {
  const [query] = useQuery();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const form = useSubmit();
  const submit = (e: Event) => {
    e.preventDefault();
    setError(null);
    form.run(async () => {
      try {
        const { user } = await api.login(email, password);
        me.value = user;
        balance.value = user.balance_usd;
        const next = query.get('next');
        navigate(next && next.startsWith('/') ? next : '/', { replace: true });
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 429)) {
          setError(err.status === 429 ? t('auth.throttled') : t('auth.signInFailed'));
          return;
        }
        throw err;
      }
    });
  };
  return (
    <Page title={t('auth.signInTitle')}>
      <form class="card narrow" onSubmit={submit} data-testid="sign-in-form">
        {error && <Notice kind="error">{error}</Notice>}
        <Field id="email" type="email" label={t('common.email')} value={email} onInput={setEmail}
          autocomplete="username" required error={form.fields.email} />
        <Field id="password" type="password" label={t('common.password')} value={password} onInput={setPassword}
          autocomplete="current-password" required error={form.fields.password} />
        <button type="submit" disabled={form.busy}>{t('auth.signIn')}</button>
        <p><Link href="/forgot">{t('auth.forgot')}</Link></p>
        <p>{t('auth.noAccount')} <Link href="/sign-up">{t('auth.signUp')}</Link></p>
      </form>
    </Page>
  );
}

export function SignUp() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [adult, setAdult] = useState(false);
  const [policy, setPolicy] = useState(false);
  const form = useSubmit();
  const submit = (e: Event) => {
    e.preventDefault();
    form.run(async () => {
      await api.signup({ email, password, adult, policy_version: PRIVACY_POLICY_VERSION, locale: language.value });
      return t('auth.signedUp', { email });
    });
  };
  if (form.done) {
    return (
      <Page title={t('auth.signUpTitle')}>
        <div class="card narrow">
          <Notice>{form.done}</Notice>
          <p><Link href="/sign-in">{t('auth.signIn')}</Link></p>
        </div>
      </Page>
    );
  }
  return (
    <Page title={t('auth.signUpTitle')}>
      <form class="card narrow" onSubmit={submit} data-testid="sign-up-form">
        <Field id="email" type="email" label={t('common.email')} value={email} onInput={setEmail}
          autocomplete="email" required error={form.fields.email} />
        <Field id="password" type="password" label={t('common.password')} value={password} onInput={setPassword}
          autocomplete="new-password" required minLength={12} hint={t('auth.passwordHint')}
          error={form.fields.password} />
        <div class="check">
          <input id="adult" type="checkbox" checked={adult} required
            onChange={(e) => setAdult((e.target as HTMLInputElement).checked)}
            aria-invalid={form.fields.adult ? 'true' : undefined} />
          <label for="adult">{t('auth.adult')}</label>
        </div>
        {form.fields.adult && <p class="field-error" role="alert">{form.fields.adult}</p>}
        <div class="check">
          <input id="policy" type="checkbox" checked={policy} required
            onChange={(e) => setPolicy((e.target as HTMLInputElement).checked)}
            aria-invalid={form.fields.policy_version ? 'true' : undefined} />
          <label for="policy">{t('auth.policy', { version: PRIVACY_POLICY_VERSION })}</label>
        </div>
        {form.fields.policy_version && <p class="field-error" role="alert">{form.fields.policy_version}</p>}
        <p><a href={PRIVACY_POLICY_URL} target="_blank" rel="noopener">{t('auth.policyLink')}</a></p>
        <button type="submit" disabled={form.busy || !adult || !policy}>{t('auth.signUp')}</button>
        <p>{t('auth.haveAccount')} <Link href="/sign-in">{t('auth.signIn')}</Link></p>
      </form>
    </Page>
  );
}

export function Verify() {
  const [query] = useQuery();
  const token = query.get('token');
  const [state, setState] = useState<'busy' | 'ok' | 'failed' | 'missing'>(token ? 'busy' : 'missing');
  useEffect(() => {
    if (!token) return;
    api.verify(token).then(() => setState('ok'), () => setState('failed'));
  }, [token]);
  return (
    <Page title={t('auth.verifyTitle')}>
      <div class="card narrow" data-testid="verify-result" data-state={state}>
        {state === 'busy' && <p role="status">{t('auth.verifying')}</p>}
        {state === 'ok' && <Notice>{t('auth.verified')}</Notice>}
        {state === 'failed' && <Notice kind="error">{t('auth.verifyFailed')}</Notice>}
        {state === 'missing' && <Notice kind="error">{t('auth.verifyMissing')}</Notice>}
        <p><Link href={me.value ? '/' : '/sign-in'}>{me.value ? t('app.backHome') : t('auth.signIn')}</Link></p>
      </div>
    </Page>
  );
}

export function Forgot() {
  const [email, setEmail] = useState('');
  const form = useSubmit();
  const submit = (e: Event) => {
    e.preventDefault();
    form.run(async () => {
      await api.requestReset(email);
      return t('auth.linkSent');
    });
  };
  return (
    <Page title={t('auth.forgotTitle')}>
      <form class="card narrow" onSubmit={submit}>
        <p>{t('auth.forgotHint')}</p>
        {form.done && <Notice>{form.done}</Notice>}
        <Field id="email" type="email" label={t('common.email')} value={email} onInput={setEmail}
          autocomplete="email" required error={form.fields.email} />
        <button type="submit" disabled={form.busy}>{t('auth.sendLink')}</button>
        <p><Link href="/sign-in">{t('auth.signIn')}</Link></p>
      </form>
    </Page>
  );
}

export function Reset() {
  const [query] = useQuery();
  const token = query.get('token') ?? '';
  const [password, setPassword] = useState('');
  const form = useSubmit();
  const submit = (e: Event) => {
    e.preventDefault();
    form.run(async () => {
      await api.confirmReset(token, password);
      me.value = null;
      return t('auth.resetDone');
    });
  };
  return (
    <Page title={t('auth.resetTitle')}>
      <form class="card narrow" onSubmit={submit}>
        {!token && <Notice kind="error">{t('auth.verifyMissing')}</Notice>}
        {form.done && <Notice>{form.done}</Notice>}
        {form.fields.token && <Notice kind="error">{form.fields.token}</Notice>}
        <Field id="password" type="password" label={t('auth.newPassword')} value={password} onInput={setPassword}
          autocomplete="new-password" required minLength={12} hint={t('auth.passwordHint')}
          error={form.fields.password} />
        <button type="submit" disabled={form.busy || !token}>{t('auth.setPassword')}</button>
        <p><Link href="/sign-in">{t('auth.signIn')}</Link></p>
      </form>
    </Page>
  );
}
