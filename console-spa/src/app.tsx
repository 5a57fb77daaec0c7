import { useEffect, useState } from 'preact/hooks';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter-preact';
import { api, setErrorHooks } from './api';
import { Toasts } from './components';
import { t } from './i18n';
import { startLive, stopLive } from './live';
import { Cookies, LanguagePicker, Privacy, Quickstart, Sessions, Settings } from './pages/account';
import { Audit } from './pages/audit';
import { Billing, OrderPage, refreshMe } from './pages/billing';
import { Keys } from './pages/keys';
import { Forgot, Reset, SignIn, SignUp, Verify } from './pages/auth';
import { ActivityPage, Dashboard, LogDetail, Logs } from './pages/usage';
import { currentHashPath, hashHref, navigate, useHashPath, useHashSearch } from './router';
import { balance, liveConnected, me, onBilling, toast } from './store';
import { usd } from './format';

/** Pages anyone may see; every other page needs a session. */
const PUBLIC = ['/sign-in', '/sign-up', '/verify', '/forgot', '/password-reset', '/cookies'];
const isPublic = (path: string) => PUBLIC.includes(path.split('?')[0]);

setErrorHooks({
  unauthorized: () => {
    me.value = null;
    stopLive();
    const here = currentHashPath();
    if (!isPublic(here)) navigate(`/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
  },
  notify: (message) => toast(message === 'network' ? t('app.network') : message, 'error'),
});

const NAV: [string, string][] = [
  ['/', 'nav.dashboard'],
  ['/keys', 'nav.keys'],
  ['/activity', 'nav.activity'],
  ['/logs', 'nav.logs'],
  ['/billing', 'nav.billing'],
  ['/quickstart', 'nav.quickstart'],
  ['/settings', 'nav.settings'],
  ['/sessions', 'nav.sessions'],
  ['/privacy', 'nav.privacy'],
  ['/cookies', 'nav.cookies'],
  ['/audit', 'nav.audit'],
];

function Nav() {
  const [path] = useLocation();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);
  return (
    <nav aria-label={t('app.nav')} class={open ? 'nav open' : 'nav'}>
      <button type="button" class="menu secondary" aria-expanded={open} aria-controls="nav-list" onClick={() => setOpen(!open)}>
        {t('app.menu')}
      </button>
      <ul id="nav-list">
        {NAV.map(([href, key]) => (
          <li key={href}>
            <Link href={href} aria-current={path === href || (href !== '/' && path.startsWith(`${href}/`)) ? 'page' : undefined}>
              {t(key)}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Header() {
  const signOut = async () => {
    try {
      await api.logout();
    } finally {
      me.value = null;
      stopLive();
      navigate('/sign-in', { replace: true });
    }
  };
  return (
    <header class="top">
      <a class="brand" href="#/">{t('app.name')}</a>
      {me.value && (
        <div class="top-right">
          <span class={liveConnected.value ? 'live on' : 'live'} title={liveConnected.value ? t('app.live') : t('app.offline')}>
            <span class="visually-hidden">{liveConnected.value ? t('app.live') : t('app.offline')}</span>
          </span>
          <span class="top-balance" data-testid="header-balance" data-usd={balance.value ?? undefined}>{usd(balance.value)}</span>
          <span class="who">{me.value.display_name || me.value.email}</span>
          <button type="button" class="secondary" onClick={() => signOut().catch(() => {})} data-testid="sign-out">
            {t('app.signOut')}
          </button>
        </div>
      )}
    </header>
  );
}

function NotFound() {
  return (
    <>
      <h1>{t('app.notFound')}</h1>
      <p><Link href="/">{t('app.backHome')}</Link></p>
    </>
  );
}

function Signedin() {
  return (
    <Switch>
      <Route path="/" component={Dashboard} />
      <Route path="/keys" component={Keys} />
      <Route path="/activity" component={ActivityPage} />
      <Route path="/logs" component={Logs} />
      <Route path="/logs/:id">{(params: { id: string }) => <LogDetail id={decodeURIComponent(params.id)} />}</Route>
      <Route path="/billing" component={Billing} />
      <Route path="/billing/top-up" component={Billing} />
      <Route path="/billing/orders/:id">{(params: { id: string }) => <OrderPage id={decodeURIComponent(params.id)} />}</Route>
      <Route path="/quickstart" component={Quickstart} />
      <Route path="/settings" component={Settings} />
      <Route path="/sessions" component={Sessions} />
      <Route path="/privacy" component={Privacy} />
      <Route path="/cookies" component={Cookies} />
      <Route path="/audit" component={Audit} />
      <Route path="/sign-in"><Redirect to="/" replace /></Route>
      <Route path="/sign-up"><Redirect to="/" replace /></Route>
      <Route component={NotFound} />
    </Switch>
  );
}

function Public() {
  return (
    <Switch>
      <Route path="/sign-in" component={SignIn} />
      <Route path="/sign-up" component={SignUp} />
      <Route path="/verify" component={Verify} />
      <Route path="/forgot" component={Forgot} />
      <Route path="/password-reset" component={Reset} />
      <Route path="/cookies" component={Cookies} />
    </Switch>
  );
}

function Shell() {
  const [path] = useLocation();
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    api.me().then((m) => {
      me.value = m;
      balance.value = m.balance_usd;
    }).catch(() => {}).finally(() => setChecked(true));
  }, []);
  const signedIn = me.value !== null;
  useEffect(() => {
    if (signedIn) startLive();
  }, [signedIn]);
  // a payment clawed back may freeze the account: every page that shows `frozen` reads it from `me`
  useEffect(() => onBilling(() => refreshMe()), []);
  useEffect(() => {
    if (checked && !signedIn && !isPublic(path)) navigate(`/sign-in?next=${encodeURIComponent(path)}`, { replace: true });
  }, [checked, signedIn, path]);
  const verifyingWhileSignedIn = signedIn && path === '/verify';
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>{t('app.skip')}</a>
      <Header />
      <div class={signedIn ? 'layout' : 'layout public'}>
        {signedIn && <Nav />}
        <main id="main" tabIndex={-1}>
          {!checked ? null : signedIn && !verifyingWhileSignedIn ? <Signedin /> : <Public />}
        </main>
      </div>
      <footer class="foot">
        <LanguagePicker id="footer-language" />
        <Link href="/cookies">{t('nav.cookies')}</Link>
      </footer>
      <Toasts />
    </>
  );
}

export function App() {
  return (
    <Router hook={useHashPath} searchHook={useHashSearch} hrefs={hashHref}>
      <Shell />
    </Router>
  );
}
