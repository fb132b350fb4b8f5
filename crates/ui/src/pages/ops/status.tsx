// Configuration, flags, runtime and build information, as Prometheus's
// /config, /flags and /status pages show them.
import { useState } from 'preact/hooks';
import { Pending, ago, useJson, utc } from '../../components/data';
import { Route, setParams } from '../../route';

export function ConfigView() {
  const c = useJson<{ yaml: string }>('api/v1/status/config');
  const [copied, setCopied] = useState('');
  if (!c.data) return <Pending l={c} />;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(c.data!.yaml);
      setCopied('Copied');
    } catch {
      // No clipboard (plain HTTP on another host): select the text instead.
      const r = document.createRange();
      r.selectNodeContents(document.querySelector('pre.config-yaml')!);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(r);
      setCopied('Selected: press Ctrl+C');
    }
  };
  return (
    <div class="config">
      <div class="filter-bar">
        <button type="button" class="copy" onClick={copy}>
          Copy to clipboard
        </button>
        <span class="hint">{copied}</span>
      </div>
      <pre class="json config-yaml">{c.data.yaml}</pre>
    </div>
  );
}

export function FlagsView({ route }: { route: Route }) {
  const f = useJson<Record<string, string>>('api/v1/status/flags');
  const text = (route.params.get('search') ?? '').toLowerCase();
  if (!f.data) return <Pending l={f} />;
  const rows = Object.keys(f.data)
    .sort()
    .filter((k) => !text || k.toLowerCase().includes(text) || f.data![k].toLowerCase().includes(text));
  return (
    <div class="flags">
      <div class="filter-bar">
        <input
          aria-label="Filter flags"
          placeholder="Filter"
          value={route.params.get('search') ?? ''}
          onInput={(e) => {
            const n = new URLSearchParams(route.params);
            const v = (e.target as HTMLInputElement).value;
            if (v) n.set('search', v);
            else n.delete('search');
            setParams(route.path, n);
          }}
        />
      </div>
      <table class="result kv flags-table">
        <thead>
          <tr>
            <th>Flag</th>
            <th>Value</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((k) => (
            <tr>
              <td>--{k}</td>
              <td>{f.data![k]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function show(k: string, v: unknown): string {
  if (typeof v === 'string' && /Time$/i.test(k) && !isNaN(Date.parse(v))) return `${utc(v)} (${ago(v)})`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function KV({ title, data, cls }: { title: string; data: Record<string, unknown>; cls: string }) {
  return (
    <>
      <h3>{title}</h3>
      <table class={`result kv ${cls}`}>
        <tbody>
          {Object.keys(data).map((k) => (
            <tr data-key={k}>
              <th>{k}</th>
              <td>{show(k, data[k])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function RuntimeView() {
  const rt = useJson<Record<string, unknown>>('api/v1/status/runtimeinfo');
  const bi = useJson<Record<string, unknown>>('api/v1/status/buildinfo');
  return (
    <div class="runtime">
      {rt.data ? <KV title="Runtime information" data={rt.data} cls="runtime-table" /> : <Pending l={rt} />}
      {bi.data ? <KV title="Build information" data={bi.data} cls="build-table" /> : <Pending l={bi} />}
    </div>
  );
}
