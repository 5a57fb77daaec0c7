import { useEffect, useMemo, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api, type Activity, type Dashboard as DashboardData, type Generation, type GenerationFilter } from '../api';
import { DailyChart, Loading, Notice, Page, pivot } from '../components';
import { count, dateTime, day, isoDay, usd } from '../format';
import { t } from '../i18n';
import { useQuery } from '../router';
import { balance, me, onGeneration } from '../store';

export function Dashboard() {
  const [data, setData] = useState<DashboardData | null>(null);
  const load = () => api.dashboard().then((d) => {
    setData(d);
    balance.value = d.balance_usd;
  });
  useEffect(() => {
    load().catch(() => {});
    // a metered request changes today's spend: refresh the totals when one arrives (the balance comes with it)
    let pending: ReturnType<typeof setTimeout> | undefined;
    const off = onGeneration(() => {
      clearTimeout(pending);
      pending = setTimeout(() => load().catch(() => {}), 1000);
    });
    return () => {
      off();
      clearTimeout(pending);
    };
  }, []);
  const chart = useMemo(
    () => (data ? pivot(data.by_model_30d, (r) => r.model, (r) => Number(r.usage_usd)) : null),
    [data],
  );
  const user = me.value;
  return (
    <Page title={t('dashboard.title')}>
      {user && !user.email_verified && <Notice kind="warn">{t('dashboard.unverified')}</Notice>}
      {user?.restricted && <Notice kind="warn">{t('dashboard.restricted')}</Notice>}
      {user?.frozen && <Notice kind="warn">{t('dashboard.frozen')}</Notice>}
      {!data ? <Loading /> : (
        <>
          <dl class="stats">
            <div class="stat"><dt>{t('dashboard.balance')}</dt><dd data-testid="balance" data-usd={balance.value ?? data.balance_usd}>{usd(balance.value ?? data.balance_usd)}</dd></div>
            <div class="stat"><dt>{t('dashboard.spendToday')}</dt><dd data-testid="spend-today">{usd(data.spend_today_usd)}</dd></div>
            <div class="stat"><dt>{t('dashboard.spendMonth')}</dt><dd data-testid="spend-month">{usd(data.spend_month_usd)}</dd></div>
            <div class="stat"><dt>{t('dashboard.requestsToday')}</dt><dd data-testid="requests-today">{count(data.requests_today)}</dd></div>
          </dl>
          <section class="card">
            <h2>{t('dashboard.chart')}</h2>
            {chart && chart.days.length > 0
              ? <DailyChart days={chart.days} series={chart.series} label={t('dashboard.chart')} money testid="chart-30d" />
              : <p>{t('dashboard.chartEmpty')}</p>}
          </section>
        </>
      )}
    </Page>
  );
}

export function ActivityPage() {
  const [query, setQuery] = useQuery();
  const from = query.get('from') ?? isoDay(-29);
  const to = query.get('to') ?? isoDay(0);
  const group = query.get('group') ?? 'model';
  const [data, setData] = useState<Activity | null>(null);
  const [draft, setDraft] = useState({ from, to, group });
  useEffect(() => {
    setDraft({ from, to, group });
    setData(null);
    api.activity(from, to, group).then(setData).catch(() => {});
  }, [from, to, group]);
  const groupOf = (r: Activity['data'][number]) =>
    group === 'model' ? r.model ?? '?' : group === 'key' ? `#${r.key_id ?? '?'}` : t('activity.total');
  const spend = useMemo(() => (data ? pivot(data.data, groupOf, (r) => Number(r.usage_usd)) : null), [data]);
  const tokens = useMemo(
    () => (data ? pivot(data.data, groupOf, (r) => r.prompt_tokens + r.completion_tokens) : null),
    [data],
  );
  const apply = (e: Event) => {
    e.preventDefault();
    setQuery(draft);
  };
  return (
    <Page title={t('activity.title')}>
      <form class="filters" onSubmit={apply}>
        <label>{t('activity.from')}
          <input type="date" value={draft.from} onInput={(e) => setDraft({ ...draft, from: (e.target as HTMLInputElement).value })} />
        </label>
        <label>{t('activity.to')}
          <input type="date" value={draft.to} onInput={(e) => setDraft({ ...draft, to: (e.target as HTMLInputElement).value })} />
        </label>
        <label>{t('activity.group')}
          <select value={draft.group} onChange={(e) => setDraft({ ...draft, group: (e.target as HTMLSelectElement).value })}>
            <option value="model">{t('activity.groupModel')}</option>
            <option value="key">{t('activity.groupKey')}</option>
            <option value="none">{t('activity.groupNone')}</option>
          </select>
        </label>
        <button type="submit">{t('common.apply')}</button>
      </form>
      {!data ? <Loading /> : (
        <>
          <div class="grid2">
            <section class="card">
              <h2>{t('activity.chart')}</h2>
              {spend && spend.days.length > 0 ? <DailyChart {...spend} label={t('activity.chart')} money /> : <p>{t('common.none')}</p>}
            </section>
            <section class="card">
              <h2>{t('activity.tokensChart')}</h2>
              {tokens && tokens.days.length > 0 ? <DailyChart {...tokens} label={t('activity.tokensChart')} /> : <p>{t('common.none')}</p>}
            </section>
          </div>
          <div class="table-wrap">
            <table data-testid="activity-table">
              <thead>
                <tr>
                  <th scope="col">{t('activity.date')}</th>
                  {group === 'model' && <th scope="col">{t('activity.model')}</th>}
                  {group === 'key' && <th scope="col">{t('activity.key')}</th>}
                  <th scope="col" class="num">{t('activity.requests')}</th>
                  <th scope="col" class="num">{t('activity.promptTokens')}</th>
                  <th scope="col" class="num">{t('activity.completionTokens')}</th>
                  <th scope="col" class="num">{t('activity.usage')}</th>
                </tr>
              </thead>
              <tbody>
                {data.data.map((r) => (
                  <tr key={`${r.date}-${r.model ?? ''}-${r.key_id ?? ''}`}>
                    <td>{day(r.date)}</td>
                    {group === 'model' && <td>{r.model}</td>}
                    {group === 'key' && <td>#{r.key_id}</td>}
                    <td class="num">{count(r.requests)}</td>
                    <td class="num">{count(r.prompt_tokens)}</td>
                    <td class="num">{count(r.completion_tokens)}</td>
                    <td class="num">{usd(r.usage_usd, true)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row" colSpan={group === 'none' ? 1 : 2}>{t('activity.totals')}</th>
                  <td class="num">{count(data.totals.requests)}</td>
                  <td class="num">{count(data.totals.prompt_tokens)}</td>
                  <td class="num">{count(data.totals.completion_tokens)}</td>
                  <td class="num">{usd(data.totals.usage_usd, true)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
        </>
      )}
    </Page>
  );
}

function matches(g: Generation, filter: GenerationFilter): boolean {
  return (!filter.model || g.model === filter.model) && (!filter.key_id || String(g.key_id) === filter.key_id)
    && (!filter.status || g.status === filter.status);
}

export function Logs() {
  const [query, setQuery] = useQuery();
  const filter: GenerationFilter = {
    model: query.get('model') ?? undefined,
    key_id: query.get('key_id') ?? undefined,
    status: query.get('status') ?? undefined,
  };
  const filterKey = JSON.stringify(filter);
  const [rows, setRows] = useState<Generation[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [draft, setDraft] = useState(filter);
  useEffect(() => {
    setDraft(filter);
    setRows(null);
    api.generations({ ...filter, limit: 50 }).then((page) => {
      setRows(page.data);
      setCursor(page.next_cursor);
    }).catch(() => {});
    return onGeneration((g) => {
      if (matches(g, filter)) setRows((current) => (current && !current.some((r) => r.id === g.id) ? [g, ...current] : current));
    });
  }, [filterKey]);
  const more = () => {
    if (!cursor) return;
    api.generations({ ...filter, limit: 50, cursor }).then((page) => {
      setRows((current) => [...(current ?? []), ...page.data]);
      setCursor(page.next_cursor);
    }).catch(() => {});
  };
  const apply = (e: Event) => {
    e.preventDefault();
    setQuery({ model: draft.model, key_id: draft.key_id, status: draft.status });
  };
  return (
    <Page title={t('logs.title')}>
      <p class="hint">{t('logs.hint')}</p>
      <form class="filters" onSubmit={apply}>
        <label>{t('logs.model')}
          <input value={draft.model ?? ''} onInput={(e) => setDraft({ ...draft, model: (e.target as HTMLInputElement).value })} />
        </label>
        <label>{t('logs.key')}
          <input inputMode="numeric" value={draft.key_id ?? ''} onInput={(e) => setDraft({ ...draft, key_id: (e.target as HTMLInputElement).value })} />
        </label>
        <label>{t('logs.status')}
          <select value={draft.status ?? ''} onChange={(e) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value })}>
            <option value="">{t('common.all')}</option>
            <option value="ok">{t('logs.statusOk')}</option>
            <option value="error">{t('logs.statusError')}</option>
          </select>
        </label>
        <button type="submit">{t('common.apply')}</button>
      </form>
      {!rows ? <Loading /> : (
        <>
          <div class="table-wrap">
            <table data-testid="logs-table">
              <thead>
                <tr>
                  <th scope="col">{t('logs.time')}</th>
                  <th scope="col">{t('logs.model')}</th>
                  <th scope="col">{t('logs.provider')}</th>
                  <th scope="col">{t('logs.status')}</th>
                  <th scope="col" class="num">{t('logs.tokens')}</th>
                  <th scope="col" class="num">{t('logs.cost')}</th>
                  <th scope="col" class="num">{t('logs.latency')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((g) => (
                  <tr key={g.id} data-generation-id={g.id} data-testid="logs-row">
                    <td><Link href={`/logs/${encodeURIComponent(g.id)}`}>{dateTime(g.created_at)}</Link></td>
                    <td>{g.model}</td>
                    <td>{g.provider}</td>
                    <td><span class={`badge badge-${g.status === 'ok' ? 'ok' : 'error'}`}>{g.status === 'ok' ? t('logs.statusOk') : t('logs.statusError')}</span></td>
                    <td class="num">{count(g.prompt_tokens)} / {count(g.completion_tokens)}</td>
                    <td class="num">{usd(g.usage_usd, true)}</td>
                    <td class="num">{t('logs.ms', { value: count(g.latency_ms) })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows.length === 0 && <p>{t('common.none')}</p>}
          {cursor && <button type="button" class="secondary" onClick={more} data-testid="logs-more">{t('common.more')}</button>}
        </>
      )}
    </Page>
  );
}

export function LogDetail({ id }: { id: string }) {
  const [g, setG] = useState<Generation | null>(null);
  useEffect(() => {
    api.generation(id).then(setG).catch(() => {});
  }, [id]);
  return (
    <Page title={t('logs.detail')}>
      <p><Link href="/logs">← {t('logs.back')}</Link></p>
      {!g ? <Loading /> : (
        <>
          <dl class="details card" data-testid="generation-detail" data-generation-id={g.id}>
            <dt>{t('logs.id')}</dt><dd><code>{g.id}</code></dd>
            <dt>{t('logs.time')}</dt><dd>{dateTime(g.created_at)}</dd>
            <dt>{t('logs.model')}</dt><dd>{g.model}</dd>
            <dt>{t('logs.provider')}</dt><dd>{g.provider}</dd>
            <dt>{t('logs.api')}</dt><dd>{g.api}</dd>
            <dt>{t('logs.key')}</dt><dd>#{g.key_id}</dd>
            <dt>{t('logs.status')}</dt><dd>{g.status}</dd>
            <dt>{t('logs.finish')}</dt><dd>{g.finish_reason ?? '–'}</dd>
            <dt>{t('logs.streamed')}</dt><dd>{g.streamed ? t('common.yes') : t('common.no')}</dd>
            <dt>{t('logs.tokens')}</dt><dd>{count(g.prompt_tokens)} / {count(g.completion_tokens)}</dd>
            <dt>{t('logs.cached')}</dt><dd>{count(g.cached_tokens)}</dd>
            <dt>{t('logs.cost')}</dt><dd>{usd(g.usage_usd, true)}</dd>
            <dt>{t('logs.latency')}</dt><dd>{t('logs.ms', { value: count(g.latency_ms) })}</dd>
          </dl>
          <section class="card">
            <h2>{t('logs.attempts')}</h2>
            {g.provider_responses && g.provider_responses.length > 0
              ? <pre class="code">{JSON.stringify(g.provider_responses, null, 2)}</pre>
              : <p>{t('logs.noAttempts')}</p>}
          </section>
        </>
      )}
    </Page>
  );
}
