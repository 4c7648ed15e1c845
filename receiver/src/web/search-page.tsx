import { type SearchResult, SEARCH_FACETS, SEARCH_SAMPLE_LIMIT } from '../index/crash-index.ts';
import { appName, facetFilterValue, formatCount, href, query, valueLabel } from './format.ts';
import { FacetHeader } from './facet-header.tsx';
import { Pager } from './layout.tsx';
import { link } from './links.ts';
import { NONE_FILTERS, type SearchForm } from './params.ts';
import { ReportsTable } from './reports-table.tsx';

const FACET_TITLES: Record<(typeof SEARCH_FACETS)[number], string> = {
  signature: 'Signature',
  app: 'App',
  version: 'Version',
  environment: 'Environment',
  browser: 'Browser',
  os: 'OS',
  mechanism: 'Mechanism',
  url_path: 'Page URL path',
};
/** Facets that are also search fields, so a value can narrow the search. */
const NARROWING: Partial<Record<(typeof SEARCH_FACETS)[number], keyof SearchForm>> = {
  app: 'app',
  version: 'version',
  environment: 'environment',
  browser: 'browser',
  os: 'os',
  mechanism: 'mechanism',
  url_path: 'url',
};

export interface SearchPageProps {
  form: SearchForm;
  result: SearchResult | null;
  errors: string[];
  /** The fields the errors are about, marked invalid. */
  invalid?: string[];
  /** The apps with crashes to choose from. */
  apps: { guid: string; product: string }[];
  /** Keys of the apps set up here that no indexed crash names, offered after `apps`. */
  setUp: string[];
  /** Whether the index is being rebuilt: then a set-up app may have crashes not indexed yet. */
  rebuilding: boolean;
  signatureTexts: Map<string, string>;
  /** The server's time, which the results' dates are told from (`3 h ago`). */
  now: Date;
}

/** The attributes of a field the errors are about. */
type Fault = { 'aria-invalid'?: 'true'; 'aria-describedby'?: string };

/** `/search`: Super Search, small. Every search is its own URL (a GET form). */
export function SearchPage(props: SearchPageProps) {
  const { form, result } = props;
  /** A field at fault points to the errors, which say what is wrong with it. */
  const invalid = (name: string): Fault => (props.invalid?.includes(name) ? { 'aria-invalid': 'true', 'aria-describedby': 'search-errors' } : {});
  const field = (name: keyof SearchForm, label: string, placeholder = '') => (
    <label>
      {label}
      <input name={name} value={form[name] ?? ''} placeholder={placeholder} {...invalid(name)} />
    </label>
  );
  return (
    <>
      <h1>Search</h1>
      {/* Before the form, so it is seen (on a phone, below eleven fields it was not) and read first. */}
      {props.errors.length > 0 && (
        <div class="error" role="alert" id="search-errors">
          {props.errors.map((e) => (
            <div>{e}</div>
          ))}
        </div>
      )}
      <form class="filters" method="get" action={link('/search')}>
        <label>
          App
          <select name="app" {...invalid('app')}>
            <option value="">any app</option>
            {/* An app asked for that has no crash here is still the filter: shown, not dropped. */}
            {form.app && !props.apps.some((a) => a.guid === form.app) && !props.setUp.includes(form.app) && (
              <option value={form.app} selected>
                {form.app}
              </option>
            )}
            {props.apps.map((a) => (
              <option value={a.guid} selected={a.guid === form.app}>
                {appName(a)}
              </option>
            ))}
            {/* Named by key: only a crash gives an app its name. While the index is rebuilt "no
                crashes yet" may be untrue, as on the app's own page, so it goes unsaid. */}
            {props.setUp.map((key) => (
              <option value={key} selected={key === form.app}>
                {props.rebuilding ? key : `${key} (no crashes yet)`}
              </option>
            ))}
          </select>
        </label>
        {/* "e.g.": a bare example in an empty field reads as a value already filled in. */}
        {field('version', 'Version', 'e.g. 1.4.2, or (none)')}
        {field('environment', 'Environment', 'e.g. production, or (none)')}
        {field('signature', 'Signature', 'exact, or ~part')}
        {field('q', 'Message contains', 'e.g. is undefined')}
        {field('browser', 'Browser', 'e.g. Firefox or Firefox 153.0')}
        {field('os', 'OS', 'e.g. Windows')}
        {field('mechanism', 'Mechanism', 'e.g. onerror')}
        {field('url', 'Page URL path', 'e.g. /checkout or /products/*')}
        <label>
          From
          <DateInput name="from" value={form.from} invalid={invalid('from')} />
        </label>
        <label>
          To
          <DateInput name="to" value={form.to} invalid={invalid('to')} />
        </label>
        <button class="primary" type="submit">
          Search
        </button>
      </form>
      {result && (
        <>
          <p>
            <strong>{result.total_is_lower_bound ? `more than ${formatCount(SEARCH_SAMPLE_LIMIT)}` : formatCount(result.total)}</strong>{' '}
            {result.total === 1 ? 'crash' : 'crashes'}
            {result.total_is_lower_bound && ` (facets count the newest ${formatCount(SEARCH_SAMPLE_LIMIT)})`} ·{' '}
            {/* Past the breakdowns' links (up to 80) to the list. */}
            <a href="#results">skip to the results</a> · <a href={link(`/api/search${query({ ...form })}`)}>JSON</a>
          </p>
          <h2>Breakdowns</h2>
          <div class="grid">
            {SEARCH_FACETS.map((facet) => {
              const param = NARROWING[facet];
              return (
                <section class="facet">
                  <h3>{FACET_TITLES[facet]}</h3>
                  <table>
                    <FacetHeader columns={[FACET_TITLES[facet], 'Crashes']} />
                    <tbody>
                      {result.facets[facet].slice(0, 10).map((v) => {
                        const label =
                          facet === 'signature'
                            ? (props.signatureTexts.get(v.value) ?? v.value)
                            : facet === 'app'
                              ? appName(props.apps.find((a) => a.guid === v.value) ?? { guid: v.value, product: '' })
                              : valueLabel(v.value);
                        const narrowed =
                          facet === 'signature'
                            ? href.search({ ...form, signature: label })
                            : param && (v.value !== '' || NONE_FILTERS.includes(param))
                              ? href.search({ ...form, [param]: facetFilterValue(param, v.value) })
                              : null;
                        return (
                          <tr>
                            <th scope="row" class="sig">
                              {narrowed ? <a href={narrowed}>{label}</a> : label}
                            </th>
                            <td class="num">{formatCount(v.count)}</td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </section>
              );
            })}
          </div>
          <h2 id="results">Results</h2>
          {result.items.length === 0 && result.total > 0 ? (
            <p class="muted">
              {`Page ${result.page} is past the last one (${result.pages}). `}
              <a href={href.search({ ...form, page: null })}>First page</a>
            </p>
          ) : result.items.length === 0 ? (
            <p class="muted">No crash matches.</p>
          ) : (
            <>
              <ReportsTable items={result.items} showSignature={true} now={props.now} />
              <Pager page={result.page} pages={result.pages} link={(p) => href.search({ ...form, page: p })} />
            </>
          )}
        </>
      )}
    </>
  );
}

/**
 * A day picker, unless the query holds a time (`2026-11-29T12:45:00Z`, which the API takes too):
 * a date input would show that as empty and the next search would drop it, so it stays text.
 */
function DateInput(props: { name: string; value: string | undefined; invalid: Fault }) {
  const value = props.value ?? '';
  return value === '' || /^\d{4}-\d\d-\d\d$/.test(value) ? (
    <input type="date" name={props.name} value={value} {...props.invalid} />
  ) : (
    <input type="text" name={props.name} value={value} placeholder="YYYY-MM-DD or an ISO time" {...props.invalid} />
  );
}
