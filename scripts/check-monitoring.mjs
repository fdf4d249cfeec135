#!/usr/bin/env node
// `npm run check:monitoring` (part of `npm run lint`, so of CI): the alerts and the dashboard of
// deploy/components/monitoring watch metrics that exist.
//
//   node scripts/check-monitoring.mjs [--rules FILE]... [--dashboard FILE]...
//
// (default: deploy/components/monitoring/prometheus-rule.yaml and dashboard.json). Needs dist/
// (`npm run build`): the metrics are the ones the built code registers.
//
// 1. The metrics: libs/service-runtime's registry with every family of metrics.ts registered (a
//    process registers only those it uses) and prom-client's default process and Node.js metrics,
//    with their label names; the series Prometheus makes itself (up, scrape_*, ALERTS); the labels
//    every series gets (the apps' `app`, and the target labels a ServiceMonitor adds).
// 2. Every PromQL expression (each rule's expr, each dashboard target and label_values() query,
//    Grafana's $variables replaced by sample values) parses with Prometheus' own grammar
//    (@prometheus-io/lezer-promql), names only those metrics (a histogram as _bucket, _sum,
//    _count; or a series recorded by a rule of the same files), matches only labels the metric has,
//    and groups (by, on, ignoring) only by labels some metric has.
// 3. The dashboard is JSON with panels; every alert has a severity, a summary and a description.
// 4. promtool (Debian package prometheus; .ci/run extracts the binary) checks each rules file and
//    runs its unit tests (`<name>.test.yaml` beside it) when it is installed; under CI (CI=true) a
//    missing promtool fails the check.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import yaml from 'js-yaml';

const ROOT = resolve(import.meta.dirname, '..');
const MONITORING = join(ROOT, 'deploy/components/monitoring');

const args = process.argv.slice(2);
const option = (name) => args.flatMap((a, i) => (a === name && args[i + 1] ? [resolve(args[i + 1])] : []));
const ruleFiles = option('--rules');
const dashboardFiles = option('--dashboard');
if (ruleFiles.length === 0 && dashboardFiles.length === 0) {
  ruleFiles.push(join(MONITORING, 'prometheus-rule.yaml'));
  dashboardFiles.push(join(MONITORING, 'dashboard.json'));
}

const relative = (file) => (file.startsWith(`${ROOT}/`) ? file.slice(ROOT.length + 1) : file);
const problems = [];
const fail = (where, message) => problems.push(`${where}: ${message}`);

// ---------------------------------------------------------------- 1. the metrics
const built = join(ROOT, 'dist/libs/service-runtime/src/metrics.js');
if (!existsSync(built)) {
  console.error(
    'check-monitoring: dist/ is missing; run `npm run build` first (the metrics come from the code)',
  );
  process.exit(2);
}
const { registry, startMetrics, useMetrics, METRIC_NAMES } = await import(pathToFileURL(built).href);
startMetrics('check-monitoring');
// Each process registers only the families it uses; the check knows them all.
useMetrics(...METRIC_NAMES);
/** Series name → the label names it may carry (undefined: any). */
const series = new Map();
// What every series of the apps carries: the registry's default label and the target labels a
// ServiceMonitor adds (deploy/components/monitoring/service-monitor.yaml).
const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'service', 'endpoint', 'container'];
const COMMON = ['app', ...TARGET_LABELS];
for (const { name, type } of await registry.getMetricsAsJSON()) {
  const labels = [...COMMON, ...(registry.getSingleMetric(name)?.labelNames ?? [])];
  if (type === 'histogram') {
    series.set(`${name}_bucket`, [...labels, 'le']);
    series.set(`${name}_sum`, labels);
    series.set(`${name}_count`, labels);
  } else if (type === 'summary') {
    series.set(name, [...labels, 'quantile']);
    series.set(`${name}_sum`, labels);
    series.set(`${name}_count`, labels);
  } else series.set(name, labels);
}
const registered = series.size;
// Made by Prometheus for each target, and by its rule evaluation.
for (const name of [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
])
  series.set(name, TARGET_LABELS);
series.set('ALERTS', undefined);
series.set('ALERTS_FOR_STATE', undefined);

// ---------------------------------------------------------------- 2. PromQL
/** Grafana's variables, replaced by values of their kind before parsing. */
function withoutGrafanaVariables(expr) {
  return expr
    .replace(/\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?/g, '5m')
    .replace(/\$\{([A-Za-z_]\w*)(:[a-z]+)?\}|\$([A-Za-z_]\w*)/g, 'x');
}

/** Problems of one expression: syntax, unknown metrics, unknown labels. */
function checkExpr(where, expr, knownLabels) {
  const tree = parser.parse(expr);
  const cursor = tree.cursor();
  const text = (node) => expr.slice(node.from, node.to);
  let broken = false;
  do {
    if (cursor.type.isError) {
      fail(
        where,
        `does not parse at offset ${cursor.from}: ${JSON.stringify(expr.slice(Math.max(0, cursor.from - 20), cursor.from + 20))}`,
      );
      broken = true;
      break;
    }
  } while (cursor.next());
  if (broken) return;
  const walk = (node) => {
    if (node.name === 'VectorSelector') checkSelector(where, node, text);
    if (node.name === 'GroupingLabels') {
      for (let c = node.firstChild; c; c = c.nextSibling) {
        if (c.name === 'LabelName' && !knownLabels.has(text(c)))
          fail(where, `groups by ${text(c)}, a label no metric has`);
      }
    }
    for (let c = node.firstChild; c; c = c.nextSibling) walk(c);
  };
  walk(tree.topNode);
}

function checkSelector(where, node, text) {
  let name;
  const matched = [];
  for (let c = node.firstChild; c; c = c.nextSibling) {
    if (c.name === 'Identifier') name = text(c);
    if (c.name === 'LabelMatchers') {
      for (let m = c.firstChild; m; m = m.nextSibling) {
        const label = m.getChild('LabelName');
        if (!label) continue;
        const value = m.getChild('StringLiteral');
        if (text(label) === '__name__' && value) name = JSON.parse(text(value));
        else matched.push(text(label));
      }
    }
  }
  if (name === undefined) return fail(where, `a selector without a metric name: ${text(node)}`);
  if (!series.has(name)) return fail(where, `${name} is not a metric the code registers`);
  const labels = series.get(name);
  if (labels === undefined) return;
  for (const l of matched) if (!labels.includes(l)) fail(where, `${name} has no label ${l}`);
}

// ---------------------------------------------------------------- rules and dashboards
/** A rules file: a PrometheusRule (spec.groups) or a Prometheus rules file (groups). */
function groupsOf(file) {
  const docs = yaml.loadAll(readFileSync(file, 'utf8')).filter(Boolean);
  return docs.flatMap((d) => (d.kind === 'PrometheusRule' ? (d.spec?.groups ?? []) : (d.groups ?? [])));
}

const rules = [];
for (const file of ruleFiles) {
  const where = relative(file);
  let groups;
  try {
    groups = groupsOf(file);
  } catch (err) {
    fail(where, `not YAML: ${err.message}`);
    continue;
  }
  if (groups.length === 0) fail(where, 'no rule groups');
  for (const g of groups) {
    for (const r of g.rules ?? []) {
      rules.push({ file: where, group: g.name, rule: r });
      // A recorded series is a metric for the other expressions (its labels: whatever it keeps).
      if (r.record) series.set(r.record, undefined);
    }
  }
}
const knownLabels = new Set([...series.values()].flatMap((l) => l ?? []));
for (const { file, group, rule } of rules) {
  const where = `${file} ${group}/${rule.alert ?? rule.record ?? '?'}`;
  if (typeof rule.expr !== 'string' || rule.expr.trim() === '') {
    fail(where, 'no expr');
    continue;
  }
  checkExpr(where, rule.expr, knownLabels);
  if (rule.alert) {
    if (!rule.labels?.severity) fail(where, 'no severity label');
    for (const a of ['summary', 'description']) if (!rule.annotations?.[a]) fail(where, `no ${a}`);
  }
}

let expressions = 0;
for (const file of dashboardFiles) {
  const where = relative(file);
  let dashboard;
  try {
    dashboard = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    fail(where, `not JSON: ${err.message}`);
    continue;
  }
  const panels = (list) => (list ?? []).flatMap((p) => [p, ...panels(p.panels)]);
  const all = panels(dashboard.panels);
  if (!dashboard.title || all.length === 0) fail(where, 'no title or no panels');
  for (const p of all) {
    for (const t of p.targets ?? []) {
      if (typeof t.expr !== 'string') continue;
      expressions++;
      checkExpr(
        `${where} panel "${p.title}" ${t.refId ?? ''}`.trim(),
        withoutGrafanaVariables(t.expr),
        knownLabels,
      );
    }
  }
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const query = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = /^label_values\((.*),\s*([A-Za-z_]\w*)\s*\)$/.exec(query ?? '');
    if (!m) {
      fail(where, `variable ${v.name}: only label_values(selector, label) queries are checked, got ${query}`);
      continue;
    }
    expressions++;
    checkExpr(`${where} variable ${v.name}`, withoutGrafanaVariables(m[1]), knownLabels);
    if (!knownLabels.has(m[2])) fail(`${where} variable ${v.name}`, `${m[2]} is a label no metric has`);
  }
}

// ---------------------------------------------------------------- 4. promtool
let promtool = 'not installed';
const hasPromtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (hasPromtool) {
  promtool = 'promtool check rules';
  for (const file of ruleFiles) {
    const dir = mkdtempSync(join(tmpdir(), 'check-monitoring-'));
    try {
      const rulesFile = join(dir, 'rules.yaml');
      writeFileSync(rulesFile, yaml.dump({ groups: groupsOf(file) }, { lineWidth: -1 }));
      execFileSync('promtool', ['check', 'rules', rulesFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      // Unit tests beside the file, against the same groups.
      const tests = join(dirname(file), basename(file).replace(/\.ya?ml$/, '.test.yaml'));
      if (existsSync(tests)) {
        const spec = yaml.load(readFileSync(tests, 'utf8'));
        writeFileSync(
          join(dir, 'tests.yaml'),
          yaml.dump({ ...spec, rule_files: ['rules.yaml'] }, { lineWidth: -1 }),
        );
        execFileSync('promtool', ['test', 'rules', join(dir, 'tests.yaml')], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        promtool = 'promtool check rules and test rules';
      }
    } catch (err) {
      fail(relative(file), `promtool: ${`${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || err.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} else if (process.env.CI === 'true') {
  fail('promtool', 'not installed (Debian package prometheus; .ci/run extracts it)');
}

if (problems.length > 0) {
  console.error(
    `check-monitoring: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  process.exit(1);
}
console.log(
  `check-monitoring: ${rules.length} rules and ${expressions} dashboard expressions parse and name only ` +
    `metrics the code registers (${registered} series names) with their labels; promtool: ${promtool}`,
);
