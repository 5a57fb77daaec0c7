import { useEffect, useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { Confirm, CopyButton, Field, Loading, Notice, Page, useSubmit } from '../components';
import { dateTime } from '../format';
import { chooseLanguage, clearLanguageCookie, language, LANGUAGES, readLocaleCookie, t, type Language } from '../i18n';
import { navigate } from '../router';
import { me, toast } from '../store';
import { stopLive } from '../live';

export function LanguagePicker({ id = 'language' }: { id?: string }) {
  const change = async (lng: Language) => {
    await chooseLanguage(lng);
    if (me.value) api.updateMe({ locale: lng }).then((m) => (me.value = m)).catch(() => {});
  };
  return (
    <div class="field">
      <label for={id}>{t('settings.language')}</label>
      <select id={id} value={language.value} onChange={(e) => change((e.target as HTMLSelectElement).value as Language)}>
        {Object.keys(LANGUAGES).map((lng) => <option key={lng} value={lng} lang={lng}>{t(`language.${lng}`)}</option>)}
      </select>
    </div>
  );
}

export function Settings() {
  const user = me.value;
  const [name, setName] = useState(user?.display_name ?? '');
  const [email, setEmail] = useState('');
  const [emailPassword, setEmailPassword] = useState('');
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const profile = useSubmit();
  const emailForm = useSubmit();
  const passwordForm = useSubmit();
  return (
    <Page title={t('settings.title')}>
      <form class="card narrow" onSubmit={(e) => {
        e.preventDefault();
        profile.run(async () => {
          me.value = await api.updateMe({ display_name: name });
          return t('common.saved');
        });
      }}>
        <h2>{t('settings.profile')}</h2>
        {profile.done && <Notice>{profile.done}</Notice>}
        <Field id="display-name" label={t('settings.displayName')} value={name} onInput={setName}
          autocomplete="name" error={profile.fields.display_name} />
        <button type="submit" disabled={profile.busy}>{t('common.save')}</button>
      </form>
      <form class="card narrow" onSubmit={(e) => {
        e.preventDefault();
        emailForm.run(async () => {
          await api.changeEmail(email, emailPassword);
          setEmailPassword('');
          return t('settings.emailSent', { email });
        });
      }}>
        <h2>{t('settings.emailTitle')}</h2>
        {user && <p>{t('settings.currentEmail', { email: user.email })}</p>}
        {emailForm.done && <Notice>{emailForm.done}</Notice>}
        <Field id="new-email" type="email" label={t('settings.newEmail')} value={email} onInput={setEmail}
          autocomplete="email" required error={emailForm.fields.email} />
        <Field id="email-password" type="password" label={t('common.password')} value={emailPassword}
          onInput={setEmailPassword} autocomplete="current-password" required error={emailForm.fields.password} />
        <button type="submit" disabled={emailForm.busy}>{t('settings.changeEmail')}</button>
      </form>
      <form class="card narrow" onSubmit={(e) => {
        e.preventDefault();
        passwordForm.run(async () => {
          await api.changePassword(current, next);
          setCurrent('');
          setNext('');
          return t('settings.passwordChanged');
        });
      }}>
        <h2>{t('settings.passwordTitle')}</h2>
        {passwordForm.done && <Notice>{passwordForm.done}</Notice>}
        <Field id="current-password" type="password" label={t('settings.currentPassword')} value={current}
          onInput={setCurrent} autocomplete="current-password" required error={passwordForm.fields.current_password} />
        <Field id="new-password" type="password" label={t('settings.newPassword')} value={next} onInput={setNext}
          autocomplete="new-password" required minLength={12} hint={t('auth.passwordHint')}
          error={passwordForm.fields.new_password} />
        <button type="submit" disabled={passwordForm.busy}>{t('settings.changePassword')}</button>
      </form>
      <section class="card narrow">
        <h2>{t('settings.languageTitle')}</h2>
        <LanguagePicker id="settings-language" />
      </section>
    </Page>
  );
}

export function Sessions() {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const load = () => api.sessions().then((r) => setSessions(r.data)).catch(() => {});
  useEffect(() => {
    load();
  }, []);
  const revoke = async (s: Session) => {
    await api.revokeSession(s.id);
    toast(t('sessions.revoked'));
    if (s.current) {
      me.value = null;
      stopLive();
      navigate('/sign-in', { replace: true });
    } else {
      load();
    }
  };
  return (
    <Page title={t('sessions.title')}>
      <p class="hint">{t('sessions.hint')}</p>
      {!sessions ? <Loading /> : (
        <div class="table-wrap">
          <table data-testid="sessions-table">
            <thead>
              <tr>
                <th scope="col">{t('sessions.device')}</th>
                <th scope="col">{t('sessions.ip')}</th>
                <th scope="col">{t('sessions.created')}</th>
                <th scope="col">{t('sessions.lastSeen')}</th>
                <th scope="col"><span class="visually-hidden">{t('keys.actions')}</span></th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id} data-session-id={s.id}>
                  <td>{s.user_agent ?? t('sessions.unknown')} {s.current && <span class="badge badge-ok">{t('sessions.current')}</span>}</td>
                  <td>{s.ip ?? t('sessions.unknown')}</td>
                  <td>{dateTime(s.created_at)}</td>
                  <td>{dateTime(s.last_seen_at)}</td>
                  <td><button type="button" class="secondary" onClick={() => revoke(s).catch(() => {})}>{t('sessions.revoke')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

export function Privacy() {
  const user = me.value;
  const [password, setPassword] = useState('');
  const [understood, setUnderstood] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const deletion = useSubmit();
  const download = async () => {
    const { blob, filename } = await api.exportData();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const restrict = async (restricted: boolean) => {
    me.value = await api.restrict(restricted);
  };
  const erase = () => {
    setConfirming(false);
    deletion.run(async () => {
      await api.deleteAccount(password);
      me.value = null;
      stopLive();
      toast(t('privacy.deleted'));
      navigate('/sign-in', { replace: true });
    });
  };
  return (
    <Page title={t('privacy.title')}>
      <section class="card narrow">
        <h2>{t('privacy.exportTitle')}</h2>
        <p>{t('privacy.exportHint')}</p>
        <button type="button" onClick={() => download().catch(() => {})} data-testid="export">{t('privacy.export')}</button>
      </section>
      <section class="card narrow">
        <h2>{t('privacy.restrictTitle')}</h2>
        <p>{t('privacy.restrictHint')}</p>
        <p role="status" data-testid="restricted">{user?.restricted ? t('privacy.restrictedNow') : t('privacy.notRestricted')}</p>
        <button type="button" class="secondary" onClick={() => restrict(!user?.restricted).catch(() => {})}>
          {user?.restricted ? t('privacy.lift') : t('privacy.restrict')}
        </button>
      </section>
      <form class="card narrow danger-zone" onSubmit={(e) => {
        e.preventDefault();
        setConfirming(true);
      }}>
        <h2>{t('privacy.deleteTitle')}</h2>
        <p>{t('privacy.deleteHint')}</p>
        <Field id="delete-password" type="password" label={t('privacy.deletePassword')} value={password}
          onInput={setPassword} autocomplete="current-password" required error={deletion.fields.password} />
        <div class="check">
          <input id="delete-understood" type="checkbox" checked={understood} required
            onChange={(e) => setUnderstood((e.target as HTMLInputElement).checked)} />
          <label for="delete-understood">{t('privacy.deleteConfirm')}</label>
        </div>
        <button type="submit" class="danger" disabled={deletion.busy || !understood || !password}>{t('privacy.delete')}</button>
      </form>
      <Confirm open={confirming} text={t('privacy.deleteHint')} confirmLabel={t('privacy.delete')}
        onConfirm={erase} onCancel={() => setConfirming(false)} />
    </Page>
  );
}

export function Cookies() {
  const [value, setValue] = useState(readLocaleCookie());
  const clear = async () => {
    await clearLanguageCookie();
    setValue(readLocaleCookie());
    toast(t('cookies.cleared'));
  };
  useEffect(() => {
    setValue(readLocaleCookie());
  }, [language.value]);
  return (
    <Page title={t('cookies.title')}>
      <p>{t('cookies.hint')}</p>
      <div class="table-wrap">
        <table data-testid="cookies-table">
          <thead>
            <tr>
              <th scope="col">{t('cookies.name')}</th>
              <th scope="col">{t('cookies.purpose')}</th>
              <th scope="col">{t('cookies.lifetime')}</th>
            </tr>
          </thead>
          <tbody>
            <tr><td><code>corouter_locale</code></td><td>{t('cookies.locale')}</td><td>{t('cookies.oneYear')}</td></tr>
            <tr><td><code>__Host-corouter_session</code></td><td>{t('cookies.session')}</td><td>{t('cookies.sessionLife')}</td></tr>
            <tr><td><code>__Host-corouter_csrf</code></td><td>{t('cookies.csrf')}</td><td>{t('cookies.sessionLife')}</td></tr>
          </tbody>
        </table>
      </div>
      <section class="card narrow">
        <p data-testid="locale-cookie">{t('cookies.current', { value: value ?? t('cookies.notSet') })}</p>
        <LanguagePicker id="cookies-language" />
        <button type="button" class="secondary" onClick={() => clear()} disabled={value === null}>{t('cookies.clear')}</button>
      </section>
    </Page>
  );
}

export function Quickstart() {
  const base = `${location.origin}/v1`;
  const placeholder = '$COROUTER_API_KEY';
  const curl = `curl ${base}/chat/completions \\
  -H "Authorization: Bearer ${placeholder}" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "corouter/mock-small", "messages": [{"role": "user", "content": "Hello"}]}'`;
  const python = `import os
from openai import OpenAI

client = OpenAI(base_url="${base}", api_key=os.environ["COROUTER_API_KEY"])
reply = client.chat.completions.create(
    model="corouter/mock-small",
    messages=[{"role": "user", "content": "Hello"}],
)
print(reply.choices[0].message.content)`;
  const js = `import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${base}", apiKey: process.env.COROUTER_API_KEY });
const reply = await client.chat.completions.create({
  model: "corouter/mock-small",
  messages: [{ role: "user", content: "Hello" }],
});
console.log(reply.choices[0].message.content);`;
  const snippets: [string, string, string][] = [
    ['curl', t('quickstart.curl'), curl],
    ['python', t('quickstart.python'), python],
    ['js', t('quickstart.js'), js],
  ];
  return (
    <Page title={t('quickstart.title')}>
      <p>{t('quickstart.hint')}</p>
      <dl class="details card">
        <dt>{t('quickstart.baseUrl')}</dt>
        <dd><code data-testid="base-url">{base}</code> <CopyButton text={base} /></dd>
        <dt>{t('quickstart.anthropic')}</dt>
        <dd><code data-testid="anthropic-base-url">{location.origin}</code> <CopyButton text={location.origin} />
          <p class="hint">{t('quickstart.anthropicHint')}</p></dd>
      </dl>
      <p>{t('quickstart.key', { placeholder })}</p>
      {snippets.map(([id, label, code]) => (
        <section class="card" key={id} aria-labelledby={`snippet-${id}`}>
          <div class="snippet-head">
            <h2 id={`snippet-${id}`}>{label}</h2>
            <CopyButton text={code} />
          </div>
          <pre class="code" data-testid={`snippet-${id}`}>{code}</pre>
        </section>
      ))}
    </Page>
  );
}
